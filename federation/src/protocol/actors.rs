//! Actor documents: `Group` (a community), `Person`, and the instance's `Application`.

use super::{first_id, opt_first_id, WithContext};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

/// An actor's public key, as `publicKey` carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    /// Key id, e.g. `<actor>#main-key`.
    pub id: Url,
    /// The actor owning the key.
    #[serde(deserialize_with = "first_id")]
    pub owner: Url,
    /// PEM text.
    pub public_key_pem: String,
}

/// The `endpoints` of an actor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    /// The server's shared inbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_inbox: Option<Url>,
}

/// A `PropertyValue` profile field, which Mastodon shows as a table on the profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyValue {
    /// Always `PropertyValue`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Label.
    pub name: String,
    /// HTML value.
    pub value: String,
}

/// A community of practice as a `Group` actor (FEP-1b12).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Actor id.
    pub id: Url,
    /// `Group`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Handle.
    pub preferred_username: String,
    /// Display title.
    #[serde(default)]
    pub name: Option<String>,
    /// HTML summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// Inbox.
    pub inbox: Url,
    /// Outbox.
    #[serde(default)]
    pub outbox: Option<Url>,
    /// Followers collection.
    #[serde(default)]
    pub followers: Option<Url>,
    /// Following collection: always published, since GoToSocial takes an actor without one for
    /// an instance actor and never refreshes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following: Option<Url>,
    /// Pinned posts collection (Mastodon shows it on the profile).
    #[serde(default)]
    pub featured: Option<Url>,
    /// Moderators collection, as Lemmy publishes it (PeerTube sends a list of owners).
    #[serde(
        default,
        deserialize_with = "opt_first_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub attributed_to: Option<Url>,
    /// Shared inbox.
    #[serde(default)]
    pub endpoints: Option<Endpoints>,
    /// Signing key.
    pub public_key: PublicKey,
    /// Follows need approval (Mastodon shows a lock).
    #[serde(default)]
    pub manually_approves_followers: bool,
    /// Listed in directories.
    #[serde(default)]
    pub discoverable: Option<bool>,
    /// Only moderators may post (Lemmy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posting_restricted_to_mods: Option<bool>,
    /// The HTML page of the community.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    /// When it was created.
    #[serde(default)]
    pub published: Option<DateTime<Utc>>,
    /// Profile fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachment: Vec<PropertyValue>,
    /// The community this one sits under (`copse:parent`).
    #[serde(
        default,
        deserialize_with = "opt_first_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent: Option<Url>,
    /// The collection of the communities under this one (`copse:subcommunities`).
    #[serde(
        default,
        deserialize_with = "opt_first_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub subcommunities: Option<Url>,
    /// The collection of its partner communities, either way (`copse:partners`).
    #[serde(
        default,
        deserialize_with = "opt_first_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub partners: Option<Url>,
}

/// A person (also read for `Service`, `Application` and `Organization` actors).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    /// Actor id.
    pub id: Url,
    /// `Person`, `Service`, `Application`...
    #[serde(rename = "type")]
    pub kind: String,
    /// Handle.
    pub preferred_username: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// HTML bio.
    #[serde(default)]
    pub summary: Option<String>,
    /// Inbox.
    pub inbox: Url,
    /// Outbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<Url>,
    /// Followers collection. GoToSocial takes an actor without both `followers` and
    /// `following` for an instance actor and never refreshes it, so ours always have both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<Url>,
    /// Following collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following: Option<Url>,
    /// Shared inbox.
    #[serde(default)]
    pub endpoints: Option<Endpoints>,
    /// Signing key.
    pub public_key: PublicKey,
    /// The HTML profile page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    /// Avatar: an `Image` (or a list of them, or a URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<serde_json::Value>,
    /// Follows need approval.
    #[serde(default)]
    pub manually_approves_followers: bool,
    /// Lets itself be listed in directories (Mastodon's `discoverable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discoverable: Option<bool>,
    /// When it was created.
    #[serde(default)]
    pub published: Option<DateTime<Utc>>,
}

/// Any actor we may receive from: a group, or a person-like actor.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyActor {
    /// A `Group`.
    Group(Box<Group>),
    /// Anything else that has an inbox and a key.
    Person(Box<Person>),
}

impl Person {
    /// The avatar's URL, whichever shape `icon` has.
    pub fn avatar(&self) -> Option<Url> {
        fn url_of(v: &serde_json::Value) -> Option<Url> {
            match v {
                serde_json::Value::String(s) => Url::parse(s).ok(),
                serde_json::Value::Array(a) => a.iter().find_map(url_of),
                serde_json::Value::Object(o) => o.get("url").and_then(url_of),
                _ => None,
            }
        }
        self.icon
            .as_ref()
            .and_then(url_of)
            .filter(|u| u.scheme() == "https" || u.scheme() == "http")
    }
}

impl AnyActor {
    /// Reads an actor document by its `type`.
    pub fn from_json(v: serde_json::Value) -> Result<Self, serde_json::Error> {
        if v.get("type").and_then(|t| t.as_str()) == Some("Group") {
            Ok(Self::Group(Box::new(
                serde_json::from_value::<WithContext<Group>>(v)?.inner,
            )))
        } else {
            Ok(Self::Person(Box::new(
                serde_json::from_value::<WithContext<Person>>(v)?.inner,
            )))
        }
    }

    /// The actor id.
    pub fn id(&self) -> &Url {
        match self {
            Self::Group(g) => &g.id,
            Self::Person(p) => &p.id,
        }
    }

    /// The actor's key.
    pub fn public_key(&self) -> &PublicKey {
        match self {
            Self::Group(g) => &g.public_key,
            Self::Person(p) => &p.public_key,
        }
    }
}
