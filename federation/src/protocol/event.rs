//! Events and taking part in them: `Event` as Mobilizon and the FEP-8a8e draft shape it,
//! `Join`/`Leave`, and `Accept`/`Reject` of a `Join`.

use super::{first_id, one_or_many, opt_first_id, Audience, IdOr, Source};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use url::Url;

/// A schema.org `PostalAddress`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostalAddress {
    /// `PostalAddress`.
    #[serde(rename = "type", default = "postal_address")]
    pub kind: String,
    /// Street and number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// Town or city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_locality: Option<String>,
    /// Postcode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Region or county.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_region: Option<String>,
    /// Country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_country: Option<String>,
}

fn postal_address() -> String {
    "PostalAddress".into()
}

/// Where an event happens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Place {
    /// `Place`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Name of the venue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The address: Mobilizon sends a `PostalAddress`, Gancio a plain string.
    #[serde(
        default,
        deserialize_with = "lenient_address",
        skip_serializing_if = "Option::is_none"
    )]
    pub address: Option<PostalAddress>,
    /// Latitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Longitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

/// An `Event`. Mastodon shows `name`, `url` and, as the content warning, `summary`; so the
/// summary says the date, time, time zone and place in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Object id.
    pub id: Url,
    /// `Event`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who holds it: the group (Mobilizon), or a person.
    #[serde(deserialize_with = "first_id")]
    pub attributed_to: Url,
    /// The organiser, when a group holds it (Mobilizon).
    #[serde(
        default,
        deserialize_with = "opt_first_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub actor: Option<Url>,
    /// `to`, `cc` and the group.
    #[serde(flatten)]
    pub audience: Audience,
    /// Title.
    #[serde(default)]
    pub name: String,
    /// Description, HTML.
    #[serde(default)]
    pub content: Option<String>,
    /// `text/html`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The description's markdown.
    #[serde(
        default,
        deserialize_with = "super::objects::lenient_source",
        skip_serializing_if = "Option::is_none"
    )]
    pub source: Option<Source>,
    /// Date, time, time zone and place in words, for microblog readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Start, with the offset of the event's time zone.
    pub start_time: DateTime<FixedOffset>,
    /// End.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<DateTime<FixedOffset>>,
    /// IANA time zone (Mobilizon's `timezone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The venue.
    #[serde(
        default,
        deserialize_with = "lenient_place",
        skip_serializing_if = "Option::is_none"
    )]
    pub location: Option<Place>,
    /// The online link (a `Link`), and images.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attachment: Vec<Value>,
    /// True for an online event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_online: Option<bool>,
    /// `free`, `restricted`, `invite` or `external`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_mode: Option<String>,
    /// Where to register for an `external` event (Mobilizon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_participation_url: Option<String>,
    /// Places in all; Mobilizon sends 0 for no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_attendee_capacity: Option<i64>,
    /// Places left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_attendee_capacity: Option<i64>,
    /// People going.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_count: Option<i64>,
    /// `TENTATIVE`, `CONFIRMED` or `CANCELLED`.
    #[serde(
        rename = "ical:status",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<String>,
    /// Category, e.g. `MEETING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Language tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_language: Option<String>,
    /// HTML page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Value>,
    /// The thread (FEP-7888), where comments are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    /// Hashtags and mentions.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tag: Vec<Value>,
    /// When it was published.
    #[serde(default)]
    pub published: Option<DateTime<Utc>>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
}

impl Event {
    /// The online link: the first `Link` attachment, else the `url` of an online event whose
    /// attachments say nothing.
    pub fn online_link(&self) -> Option<String> {
        self.attachment
            .iter()
            .find(|a| a.get("type").and_then(Value::as_str) == Some("Link"))
            .and_then(|a| a.get("href").and_then(Value::as_str))
            .map(str::to_string)
    }
}

/// `Create`, `Update` of an `Event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateEvent {
    /// Activity id.
    pub id: Url,
    /// `Create` or `Update`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who sends it.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// The event.
    pub object: Event,
    /// `to`, `cc` and the group.
    #[serde(flatten)]
    pub audience: Audience,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
}

/// `Join` or `Leave` of an event (an `Undo{Join}` is read as a `Leave`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Join {
    /// Activity id.
    pub id: Url,
    /// `Join` or `Leave`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who takes part.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// The event (an id or the embedded event).
    #[serde(deserialize_with = "first_id")]
    pub object: Url,
    // Not an `Audience`: a join writes `to` and `cc` only when they are not empty (Mobilizon
    // sends neither on some joins, and we answer in its shape), while `Audience` always writes
    // both.
    /// Primary audience.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
    /// Secondary audience.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub cc: Vec<Url>,
    /// When it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    /// What they wrote when asking (Mobilizon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participation_message: Option<String>,
}

/// `Accept` or `Reject` of a `Join`: the join is named by id or embedded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinAnswer {
    /// Activity id.
    pub id: Url,
    /// `Accept` or `Reject`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The event's holder.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// The `Join` (by id when received; embedded, with plain URLs, when sent).
    #[serde(deserialize_with = "join_ref")]
    pub object: IdOr<Join>,
    /// Primary audience.
    // Not an `Audience`, as in `Join`: no `cc`, and `to` only when there is one.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
    /// When it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
}

impl JoinAnswer {
    /// The id of the `Join` answered.
    pub fn join_id(&self) -> &Url {
        match &self.object {
            IdOr::Id(id) => id,
            IdOr::Object(join) => &join.id,
        }
    }
}

/// The `Join` an answer names: embedded when it reads as one, else by its id (some servers embed
/// it with the whole event or actor).
fn join_ref<'de, D>(d: D) -> Result<IdOr<Join>, D::Error>
where
    D: Deserializer<'de>,
{
    let v = Value::deserialize(d)?;
    if let Ok(join) = serde_json::from_value::<Join>(v.clone()) {
        return Ok(IdOr::Object(Box::new(join)));
    }
    first_id(v).map(IdOr::Id).map_err(serde::de::Error::custom)
}

/// A place given as an object; a string or anything else reads as absent.
fn lenient_place<'de, D>(d: D) -> Result<Option<Place>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Option::<Value>::deserialize(d)? {
        Some(v @ Value::Object(_)) => serde_json::from_value(v).ok(),
        Some(Value::Array(a)) => a
            .into_iter()
            .find_map(|v| serde_json::from_value::<Place>(v).ok()),
        Some(Value::String(name)) => Some(Place {
            kind: "Place".into(),
            name: Some(name),
            ..Place::default()
        }),
        _ => None,
    })
}

/// A `PostalAddress`, or (Gancio) the address as one string.
fn lenient_address<'de, D>(d: D) -> Result<Option<PostalAddress>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Option::<Value>::deserialize(d)? {
        Some(v @ Value::Object(_)) => serde_json::from_value(v).ok(),
        Some(Value::String(s)) if !s.trim().is_empty() => Some(PostalAddress {
            kind: postal_address(),
            street_address: Some(s),
            ..PostalAddress::default()
        }),
        _ => None,
    })
}
