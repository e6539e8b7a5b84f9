//! The event form of the API (`POST /api/v1/communities/{name}/events`, `PATCH
//! /api/v1/events/{id}`) and its checks: an event as it stands with a form applied.

use super::fields::{check_short, check_title, check_url, parse_time};
use crate::error::ApiError;
use chrono::{DateTime, Utc};
use copse_entities::{
    event::{self, EventStatus, JoinMode},
    post,
};
use copse_federation::objects::event::zone;
use serde::{Deserialize, Deserializer};

/// Reads a field that may be absent (unchanged), `null` (cleared) or a value.
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Where an event happens.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceForm {
    /// Name of the venue.
    #[serde(default)]
    pub name: Option<String>,
    /// Street and number.
    #[serde(default)]
    pub street_address: Option<String>,
    /// Town or city.
    #[serde(default)]
    pub locality: Option<String>,
    /// Postcode.
    #[serde(default)]
    pub postcode: Option<String>,
    /// Region or county.
    #[serde(default)]
    pub region: Option<String>,
    /// Country.
    #[serde(default)]
    pub country: Option<String>,
    /// Latitude, -90 to 90.
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Longitude, -180 to 180.
    #[serde(default)]
    pub longitude: Option<f64>,
}

/// Body of `POST /api/v1/communities/{name}/events` and `PATCH /api/v1/events/{id}`. On
/// PATCH, absent fields keep their value and `null` clears an optional one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventForm {
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Description, markdown.
    #[serde(default)]
    pub description: Option<String>,
    /// Start: a wall-clock time in `timezone` (`2027-06-15T18:00`) or RFC 3339 with offset.
    #[serde(default)]
    pub start: Option<String>,
    /// End, the same way.
    #[serde(default)]
    pub end: Option<String>,
    /// IANA time zone, e.g. `Europe/London`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The venue.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<PlaceForm>)]
    pub place: Option<Option<PlaceForm>>,
    /// Link to join online (http or https).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub online_url: Option<Option<String>>,
    /// Places; `null` or 0 for no limit.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub capacity: Option<Option<i64>>,
    /// `free`, `approval` (or Mobilizon's `restricted`), `invite` or `external`.
    #[serde(default)]
    #[schema(schema_with = super::schema::join_mode)]
    pub join_mode: Option<Choice<JoinMode>>,
    /// Where to register when `join_mode` is `external`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub external_url: Option<Option<String>>,
    /// `tentative`, `confirmed` or `cancelled`.
    #[serde(default)]
    #[schema(schema_with = super::schema::event_status)]
    pub status: Option<Choice<EventStatus>>,
    /// Category, e.g. `MEETING` or `WORKSHOP`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    /// Language tag of the description, e.g. `en` or `cy`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub language: Option<Option<String>>,
}

/// The event as it stands (or a blank one), with `form` applied and checked.
pub fn details_of(
    mut form: EventForm,
    current: Option<(&post::Model, &event::Model)>,
) -> Result<(Option<String>, Option<String>, event::Model), ApiError> {
    let title = match (&form.title, current) {
        (Some(t), _) => Some(check_title(t)?),
        (None, Some(_)) => None,
        (None, None) => return Err(ApiError::invalid("title", "title is required")),
    };
    let description = match form.description.take() {
        Some(d) if d.len() > 100_000 => {
            return Err(ApiError::invalid(
                "description",
                "description must be at most 100000 bytes",
            ))
        }
        d => d,
    };
    let old = current.map(|(_, e)| e);
    let (timezone, starts_at, ends_at) = when_of(&form, old)?;
    let mut e = old
        .cloned()
        .unwrap_or_else(|| blank(starts_at, ends_at, &timezone));
    e.starts_at = starts_at;
    e.ends_at = ends_at;
    e.timezone = timezone;
    if let Some(place) = form.place {
        set_place(&mut e, place.unwrap_or_default())?;
    }
    if let Some(u) = form.online_url {
        e.online_url = check_url("online_url", u)?;
    }
    if let Some(c) = form.capacity {
        e.capacity = capacity_of(c)?;
    }
    if let Some(m) = form.join_mode {
        e.join_mode = m.known(
            "join_mode",
            "join_mode must be free, approval, invite or external",
        )?;
    }
    if let Some(u) = form.external_url {
        e.external_url = check_url("external_url", u)?;
    }
    if e.join_mode == JoinMode::External && e.external_url.is_none() {
        return Err(ApiError::invalid(
            "external_url",
            "external_url is required when join_mode is external",
        ));
    }
    if let Some(s) = form.status {
        e.status = s.known("status", "status must be tentative, confirmed or cancelled")?;
    }
    if let Some(c) = form.category {
        e.category = check_short("category", c, 64)?.map(|c| c.to_uppercase());
    }
    if let Some(l) = form.language {
        e.language = language_of(l)?;
    }
    Ok((title, description, e))
}

/// Applies a place to the event, each part checked.
fn set_place(e: &mut event::Model, p: PlaceForm) -> Result<(), ApiError> {
    e.place_name = check_short("place.name", p.name, 200)?;
    e.street_address = check_short("place.street_address", p.street_address, 200)?;
    e.locality = check_short("place.locality", p.locality, 200)?;
    e.postcode = check_short("place.postcode", p.postcode, 32)?;
    e.region = check_short("place.region", p.region, 200)?;
    e.country = check_short("place.country", p.country, 100)?;
    match (p.latitude, p.longitude) {
        (Some(lat), _) if !(-90.0..=90.0).contains(&lat) => {
            return Err(ApiError::invalid(
                "place.latitude",
                "place.latitude must be between -90 and 90",
            ))
        }
        (_, Some(lon)) if !(-180.0..=180.0).contains(&lon) => {
            return Err(ApiError::invalid(
                "place.longitude",
                "place.longitude must be between -180 and 180",
            ))
        }
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "place.longitude",
                "place.longitude is required with place.latitude",
            ))
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "place.latitude",
                "place.latitude is required with place.longitude",
            ))
        }
        (lat, lon) => {
            e.latitude = lat;
            e.longitude = lon;
        }
    }
    Ok(())
}

/// Places: `None` or 0 for no limit.
fn capacity_of(c: Option<i64>) -> Result<Option<i32>, ApiError> {
    Ok(match c {
        Some(n) if n < 0 => {
            return Err(ApiError::invalid(
                "capacity",
                "capacity must be 0 (no limit) or more",
            ))
        }
        Some(n) if n > 1_000_000 => {
            return Err(ApiError::invalid(
                "capacity",
                "capacity must be at most 1000000",
            ))
        }
        Some(0) | None => None,
        Some(n) => i32::try_from(n).ok(),
    })
}

/// A value of a closed set as the form sent it: one of the set, or anything else, kept so that
/// the checks name it in their turn (an unknown value must not hide an earlier field's error).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Choice<T> {
    /// One of the set.
    Known(T),
    /// Anything else.
    Unknown(serde_json::Value),
}

impl<T> Choice<T> {
    /// The value, or the error naming `field`.
    fn known(self, field: &'static str, message: &'static str) -> Result<T, ApiError> {
        match self {
            Choice::Known(v) => Ok(v),
            Choice::Unknown(_) => Err(ApiError::invalid(field, message)),
        }
    }
}

/// A language tag like `en` or `cy`, or `None`.
fn language_of(l: Option<String>) -> Result<Option<String>, ApiError> {
    let language = check_short("language", l, 16)?;
    if language
        .as_deref()
        .is_some_and(|l| !l.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'))
    {
        return Err(ApiError::invalid(
            "language",
            "language must be a language tag like en or cy",
        ));
    }
    Ok(language)
}

/// The time zone, start and end of the event: the form's, checked, or as they stand.
fn when_of(
    form: &EventForm,
    old: Option<&event::Model>,
) -> Result<(String, DateTime<Utc>, DateTime<Utc>), ApiError> {
    let timezone = match (&form.timezone, old) {
        (Some(t), _) => t.trim().to_string(),
        (None, Some(e)) => e.timezone.clone(),
        (None, None) => return Err(ApiError::invalid("timezone", "timezone is required")),
    };
    let tz = zone(&timezone).ok_or_else(|| {
        ApiError::invalid(
            "timezone",
            "timezone must be an IANA time zone name like Europe/London",
        )
    })?;
    let starts_at = match (&form.start, old) {
        (Some(s), _) => parse_time("start", s, &tz)?,
        (None, Some(e)) => e.starts_at,
        (None, None) => return Err(ApiError::invalid("start", "start is required")),
    };
    let ends_at = match (&form.end, old) {
        (Some(s), _) => parse_time("end", s, &tz)?,
        (None, Some(e)) => e.ends_at,
        (None, None) => return Err(ApiError::invalid("end", "end is required")),
    };
    if ends_at <= starts_at {
        return Err(ApiError::invalid("end", "end must be after start"));
    }
    if ends_at - starts_at > chrono::Duration::days(366) {
        return Err(ApiError::invalid("end", "an event lasts at most a year"));
    }
    Ok((timezone, starts_at, ends_at))
}

/// A new event with nothing set but its times.
fn blank(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, timezone: &str) -> event::Model {
    event::Model {
        post_id: 0,
        community_id: 0,
        starts_at,
        ends_at,
        timezone: timezone.to_string(),
        place_name: None,
        street_address: None,
        locality: None,
        postcode: None,
        region: None,
        country: None,
        latitude: None,
        longitude: None,
        online_url: None,
        capacity: None,
        join_mode: JoinMode::Free,
        external_url: None,
        status: EventStatus::Confirmed,
        category: None,
        language: None,
        sequence: 0,
        participant_count: 0,
        remaining_capacity: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(v: serde_json::Value) -> EventForm {
        serde_json::from_value(v).unwrap()
    }

    fn base() -> serde_json::Value {
        json!({
            "title": "Workshop",
            "start": "2030-05-01T10:00:00Z",
            "end": "2030-05-01T12:00:00Z",
            "timezone": "Europe/London",
        })
    }

    #[test]
    fn join_mode_and_status_read_as_their_enums() {
        let mut v = base();
        v["join_mode"] = json!("restricted");
        v["status"] = json!("tentative");
        let (_, _, e) = details_of(form(v), None).unwrap();
        assert_eq!(e.join_mode, JoinMode::Approval);
        assert_eq!(e.status, EventStatus::Tentative);
    }

    #[test]
    fn an_unknown_join_mode_is_named_as_the_field_at_fault() {
        let mut v = base();
        v["join_mode"] = json!("everyone");
        let err = details_of(form(v), None).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("join_mode"));
        let mut v = base();
        v["status"] = json!(3);
        let err = details_of(form(v), None).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("status"));
    }

    #[test]
    fn an_unknown_join_mode_does_not_hide_a_missing_title() {
        let mut v = base();
        v.as_object_mut().unwrap().remove("title");
        v["join_mode"] = json!("everyone");
        let err = details_of(form(v), None).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("title"));
    }
}
