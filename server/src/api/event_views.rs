//! What the events API answers: an event, a page of them, an answer's outcome and who is
//! coming. Typed, so that the OpenAPI document describes exactly what is sent.

use super::views::AuthorView;
use chrono::{DateTime, Utc};
use copse_entities::{
    event::{EventStatus, JoinMode},
    event_participant::ParticipantStatus,
    DbUrl,
};
use copse_federation::rules::participation::Outcome;
use serde::Serialize;
use utoipa::ToSchema;

/// Where an event happens.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Place)]
pub struct PlaceView {
    /// Name of the venue.
    pub name: Option<String>,
    /// Street and number.
    pub street_address: Option<String>,
    /// Town or city.
    pub locality: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// Region or county.
    pub region: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
}

/// An event.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Event)]
pub struct EventView {
    /// Row id of its post (the `{id}` of `/api/v1/events/{id}`).
    pub id: i64,
    /// ActivityPub id.
    #[schema(value_type = String)]
    pub ap_id: DbUrl,
    /// Title.
    pub title: String,
    /// Description, sanitised HTML.
    pub description: String,
    /// The markdown it was written in.
    pub source: Option<String>,
    /// Start, RFC 3339 in the event's time zone.
    pub start: String,
    /// End, RFC 3339 in the event's time zone.
    pub end: String,
    /// IANA time zone.
    pub timezone: String,
    /// The venue, if any.
    pub place: Option<PlaceView>,
    /// Link to join online.
    pub online_url: Option<String>,
    /// Places, `null` for no limit.
    pub capacity: Option<i32>,
    /// How people take part.
    #[schema(schema_with = super::schema::join_mode)]
    pub join_mode: JoinMode,
    /// Where to register when `join_mode` is `external`.
    pub external_url: Option<String>,
    /// Whether it takes place.
    #[schema(schema_with = super::schema::event_status)]
    pub status: EventStatus,
    /// Category, e.g. `MEETING`.
    pub category: Option<String>,
    /// Language tag of the description.
    pub language: Option<String>,
    /// Raised by each change (iCalendar `SEQUENCE`).
    pub sequence: i32,
    /// People going.
    pub participant_count: i32,
    /// Places left, `null` for no limit.
    pub remaining: Option<i32>,
    /// People on the waiting list.
    pub waiting_count: i32,
    /// Scheduled on this server.
    pub local: bool,
    /// Deleted.
    pub deleted: bool,
    /// Who scheduled it.
    pub organizer: Option<AuthorView>,
    /// When it was published.
    pub published: DateTime<Utc>,
    /// When it was last changed.
    pub updated: Option<DateTime<Utc>>,
    /// Its iCalendar file.
    pub ical: String,
}

/// A page of a community's events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    /// The events: upcoming soonest first, or past newest first.
    pub items: Vec<EventView>,
    /// The page.
    pub page: u64,
}

/// Where an answer (or a decision on one) left the person: `going`, `waiting` (with the
/// `position` on the waiting list), `pending`, `rejected` (with the `reason`) or `not_going`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeView {
    /// Where they stand.
    pub status: String,
    /// Place on the waiting list (`waiting` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub position: Option<u64>,
    /// Why not (`rejected` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub reason: Option<String>,
}

impl From<&Outcome> for OutcomeView {
    fn from(o: &Outcome) -> Self {
        let (position, reason) = match o {
            Outcome::Waiting(n) => (Some(*n), None),
            Outcome::Refused(why) => (None, Some(why.clone())),
            _ => (None, None),
        };
        Self {
            status: o.status().to_string(),
            position,
            reason,
        }
    }
}

/// Someone who answered an event or was invited to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantView {
    /// Who.
    pub person: AuthorView,
    /// `name@host`.
    pub handle: String,
    /// Where they stand.
    #[schema(schema_with = super::schema::participant_status)]
    pub status: ParticipantStatus,
    /// Their note for the organisers.
    pub message: Option<String>,
    /// Since when.
    pub since: DateTime<Utc>,
    /// When they were last reminded.
    pub reminded_at: Option<DateTime<Utc>>,
}

/// Who is coming to an event, and who asked or was asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantList {
    /// People going.
    pub participant_count: i32,
    /// Places, `null` for no limit.
    pub capacity: Option<i32>,
    /// Everyone who answered or was invited.
    pub items: Vec<ParticipantView>,
}
