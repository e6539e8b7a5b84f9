//! ActivityPub wire types, named as the ActivityStreams types they carry. They know nothing of
//! the database, so every shape can be tested from JSON alone.

mod activities;
mod actors;
mod audience;
mod event;
mod objects;

pub use activities::*;
pub use actors::*;
pub use audience::*;
pub use event::*;
pub use objects::*;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use url::Url;

/// The ActivityStreams public collection.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// The content type we serve and send.
pub const AP_CONTENT_TYPE: &str = "application/activity+json";

/// The JSON-LD `@context` on every document we publish.
pub fn context() -> Value {
    json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "lemmy": "https://join-lemmy.org/ns#",
            "toot": "http://joinmastodon.org/ns#",
            "schema": "http://schema.org#",
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "sensitive": "as:sensitive",
            "discoverable": "toot:discoverable",
            "indexable": "toot:indexable",
            "featured": { "@id": "toot:featured", "@type": "@id" },
            "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value",
            "copse": "urn:copse:ns#",
            "parent": { "@id": "copse:parent", "@type": "@id" },
            "subcommunities": { "@id": "copse:subcommunities", "@type": "@id" },
            "partners": { "@id": "copse:partners", "@type": "@id" },
            "mz": "https://joinmobilizon.org/ns#",
            "ical": "http://www.w3.org/2002/12/cal/ical#",
            "timezone": { "@id": "mz:timezone", "@type": "schema:Text" },
            "isOnline": { "@id": "mz:isOnline", "@type": "schema:Boolean" },
            "joinMode": { "@id": "mz:joinMode", "@type": "mz:joinModeType" },
            "externalParticipationUrl": { "@id": "mz:externalParticipationUrl", "@type": "schema:URL" },
            "participantCount": { "@id": "mz:participantCount", "@type": "schema:Integer" },
            "participationMessage": { "@id": "mz:participationMessage", "@type": "schema:Text" },
            "maximumAttendeeCapacity": "schema:maximumAttendeeCapacity",
            "remainingAttendeeCapacity": "schema:remainingAttendeeCapacity",
            "inLanguage": "schema:inLanguage",
            "category": "schema:category",
            "address": { "@id": "schema:address", "@type": "schema:PostalAddress" },
            "PostalAddress": "schema:PostalAddress",
            "streetAddress": "schema:streetAddress",
            "addressLocality": "schema:addressLocality",
            "postalCode": "schema:postalCode",
            "addressRegion": "schema:addressRegion",
            "addressCountry": "schema:addressCountry"
        }
    ])
}

/// Wraps a document with our `@context` for publishing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WithContext<T> {
    /// The JSON-LD context.
    #[serde(rename = "@context", default)]
    pub context: Value,
    /// The document.
    #[serde(flatten)]
    pub inner: T,
}

impl<T> WithContext<T> {
    /// Adds our standard context.
    pub fn new(inner: T) -> Self {
        Self {
            context: context(),
            inner,
        }
    }
}

/// A value that may be an id or an embedded object with an `id` (ActivityPub allows both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IdOr<T> {
    /// Just the URL.
    Id(Url),
    /// The embedded object.
    Object(Box<T>),
}

/// Deserializes a field that may be one value or an array of them (`to`, `cc`, `tag`...).
///
/// The array is looked at first: an untagged "one or many" would read a whole array as one
/// item whenever the item type is itself any JSON value (`tag: Vec<Value>`).
pub fn one_or_many<'de, T, D>(d: D) -> Result<Vec<T>, D::Error>
where
    T: serde::de::DeserializeOwned,
    D: Deserializer<'de>,
{
    let item = |v: Value| serde_json::from_value::<T>(v).map_err(serde::de::Error::custom);
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.into_iter().map(item).collect(),
        Some(one) => Ok(vec![item(one)?]),
    }
}

/// Reads an `actor`/`attributedTo` that may be a URL, an embedded object, or a list of either
/// (Mastodon and Lemmy send a URL; PeerTube sends a list with the channel first).
pub fn first_id<'de, D>(d: D) -> Result<Url, D::Error>
where
    D: Deserializer<'de>,
{
    fn id_of(v: &Value) -> Option<Url> {
        match v {
            Value::String(s) => Url::parse(s).ok(),
            Value::Object(o) => o.get("id").and_then(id_of),
            Value::Array(a) => a.iter().find_map(id_of),
            _ => None,
        }
    }
    let v = Value::deserialize(d)?;
    id_of(&v).ok_or_else(|| serde::de::Error::custom("expected a URL or an object with an id"))
}

/// Like `first_id`, for optional fields; a value that names no id reads as absent.
pub fn opt_first_id<'de, D>(d: D) -> Result<Option<Url>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "first_id")] Url);
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.and_then(|v| serde_json::from_value::<Wrap>(v).ok())
        .map(|w| w.0))
}

/// The origin of a URL as FEP-fe34 defines it: scheme, lower-case host and port.
pub fn origin(url: &Url) -> (String, String, Option<u16>) {
    (
        url.scheme().to_string(),
        url.host_str()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_ascii_lowercase(),
        url.port_or_known_default(),
    )
}

/// True when two URLs share an origin (scheme, host and port).
pub fn same_origin(a: &Url, b: &Url) -> bool {
    origin(a) == origin(b)
}

/// The `host[:port]` a URL names, lower-cased, without a trailing dot: the key of `instance`.
pub fn domain_of(url: &Url) -> String {
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}
