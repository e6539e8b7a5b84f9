//! Who gets an activity: one delivery per server where people share an inbox.

use copse_entities::person;
use std::collections::BTreeSet;
use url::Url;

/// The inbox that still needs an activity addressed to `person`, when it already goes to the
/// `shared` inboxes: none when their server's shared inbox is among them (that server hands it
/// to everyone it addresses there, as Mastodon and GoToSocial do), else their own inbox.
pub fn unless_shared(person: &person::Model, shared: &BTreeSet<Url>) -> Option<Url> {
    match &person.shared_inbox {
        Some(s) if shared.contains(&s.0) => None,
        _ => Some(person.inbox.0.clone()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use copse_entities::DbUrl;

    fn person(inbox: &str, shared: Option<&str>) -> person::Model {
        let u = |s: &str| DbUrl(Url::parse(s).unwrap());
        person::Model {
            id: 1,
            ap_id: u("https://social.example/users/ana"),
            name: "ana".into(),
            display_name: None,
            summary: None,
            summary_source: None,
            avatar: None,
            inbox: u(inbox),
            shared_inbox: shared.map(u),
            key_id: u("https://social.example/users/ana#main-key"),
            public_key_pem: String::new(),
            private_key_pem: None,
            local: false,
            published: chrono::Utc::now(),
            fetched_at: chrono::Utc::now(),
            discoverable: false,
            deleted_at: None,
        }
    }

    #[test]
    fn a_shared_inbox_already_served_covers_the_person() {
        let shared: BTreeSet<Url> = [Url::parse("https://social.example/inbox").unwrap()].into();
        let ana = person(
            "https://social.example/users/ana/inbox",
            Some("https://social.example/inbox"),
        );
        assert_eq!(unless_shared(&ana, &shared), None);
        let elsewhere = person(
            "https://other.example/users/ana/inbox",
            Some("https://other.example/inbox"),
        );
        assert_eq!(
            unless_shared(&elsewhere, &shared).map(String::from),
            Some("https://other.example/users/ana/inbox".into())
        );
        let no_shared = person("https://social.example/users/bo/inbox", None);
        assert!(unless_shared(&no_shared, &shared).is_some());
    }
}
