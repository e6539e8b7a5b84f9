//! Addressing: who an activity or object is for, flattened into the struct that carries it.

use super::{one_or_many, opt_first_id};
use serde::{Deserialize, Serialize};
use url::Url;

/// `to`, `cc` and the community an activity or object belongs to (FEP-1b12 `audience`).
///
/// Carried with `#[serde(flatten)]`, so the three fields appear where the struct has it, in this
/// order. Read leniently: `to` and `cc` may be one URL or a list, and are empty when absent;
/// `audience` may be a URL, an object with an `id`, or a list of either.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Audience {
    /// Primary audience.
    #[serde(default, deserialize_with = "one_or_many")]
    pub to: Vec<Url>,
    /// Secondary audience.
    #[serde(default, deserialize_with = "one_or_many")]
    pub cc: Vec<Url>,
    /// The group (FEP-1b12 `audience`).
    #[serde(
        rename = "audience",
        default,
        deserialize_with = "opt_first_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub group: Option<Url>,
}

impl Audience {
    /// Addressed to `to` and `cc`, naming no group.
    pub fn new(to: Vec<Url>, cc: Vec<Url>) -> Self {
        Self {
            to,
            cc,
            group: None,
        }
    }

    /// The same addressing, naming `group` as the audience.
    pub fn in_group(self, group: impl Into<Option<Url>>) -> Self {
        Self {
            group: group.into(),
            ..self
        }
    }

    /// Every URL in `to` and `cc`, `to` first.
    pub fn recipients(&self) -> impl Iterator<Item = &Url> {
        self.to.iter().chain(&self.cc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Serialize, Deserialize)]
    struct Carrier {
        id: Url,
        #[serde(flatten)]
        audience: Audience,
        published: Option<String>,
    }

    fn read(v: serde_json::Value) -> Audience {
        serde_json::from_value::<Carrier>(v).unwrap().audience
    }

    #[test]
    fn one_url_a_list_or_nothing_is_read() {
        let a = read(json!({
            "id": "https://a.example/1",
            "to": "https://www.w3.org/ns/activitystreams#Public",
            "cc": ["https://a.example/c/x", "https://a.example/u/y"],
        }));
        assert_eq!(a.to.len(), 1);
        assert_eq!(a.cc.len(), 2);
        assert_eq!(a.group, None);
        let none = read(json!({ "id": "https://a.example/1", "to": null }));
        assert_eq!(none, Audience::default());
    }

    #[test]
    fn the_group_may_be_an_object_with_an_id() {
        let a = read(json!({
            "id": "https://a.example/1",
            "audience": { "id": "https://a.example/c/x", "type": "Group" },
        }));
        assert_eq!(a.group.unwrap().as_str(), "https://a.example/c/x");
    }

    #[test]
    fn fields_are_written_in_place_and_empty_lists_kept() {
        let c = Carrier {
            id: Url::parse("https://a.example/1").unwrap(),
            audience: Audience::new(vec![Url::parse("https://a.example/u/y").unwrap()], vec![]),
            published: None,
        };
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"id":"https://a.example/1","to":["https://a.example/u/y"],"cc":[],"published":null}"#
        );
    }
}
