//! An event row as the `Event` we publish, the words Mastodon readers see, and times in the
//! event's own time zone.

use super::{post::thread_context, public};
use crate::{
    protocol::{Audience, Event, Place, PostalAddress, Source},
    Error,
};
use chrono::{DateTime, FixedOffset, Utc};
use copse_entities::{
    community,
    event::{self, EventStatus},
    person, post,
};
use jiff::{tz::TimeZone, Timestamp};
use serde_json::{json, Value};

/// The IANA time zone of that name, or `None` when there is no such zone.
pub fn zone(name: &str) -> Option<TimeZone> {
    if name.is_empty() || name.len() > 64 {
        return None;
    }
    TimeZone::get(name).ok()
}

fn timestamp(t: DateTime<Utc>) -> Timestamp {
    Timestamp::from_millisecond(t.timestamp_millis()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// `t` as the wall-clock time of `tz`, with its offset.
pub fn local_time(t: DateTime<Utc>, tz: &TimeZone) -> DateTime<FixedOffset> {
    let seconds = tz.to_offset(timestamp(t)).seconds();
    // Every tzdb offset is well within a day, so the fallback is never taken.
    match FixedOffset::east_opt(seconds) {
        Some(offset) => t.with_timezone(&offset),
        None => t.fixed_offset(),
    }
}

/// The abbreviation in use at `t` (`BST`, `CET`), or the offset when the zone has none.
pub fn abbreviation(t: DateTime<Utc>, tz: &TimeZone) -> String {
    let info = tz.to_offset_info(timestamp(t));
    info.abbreviation().to_string()
}

/// A wall-clock time in a zone as an instant: `2027-06-15T18:00` in `Europe/London`. A time
/// that a change of clocks skips is moved forward, as calendars do.
pub fn from_local(civil: &str, tz: &TimeZone) -> Option<DateTime<Utc>> {
    let dt: jiff::civil::DateTime = civil.parse().ok()?;
    let z = dt.to_zoned(tz.clone()).ok()?;
    DateTime::from_timestamp_millis(z.timestamp().as_millisecond())
}

/// Date and time in words: `Tuesday 15 June 2027, 18:00–20:00 BST (Europe/London)`.
pub fn when_in_words(start: DateTime<Utc>, end: DateTime<Utc>, tz_name: &str) -> String {
    let Some(tz) = zone(tz_name) else {
        return format!(
            "{} – {} UTC",
            start.format("%A %-d %B %Y, %H:%M"),
            end.format("%H:%M")
        );
    };
    let (s, e) = (local_time(start, &tz), local_time(end, &tz));
    let day = "%A %-d %B %Y";
    let abbr = abbreviation(start, &tz);
    if s.date_naive() == e.date_naive() {
        format!(
            "{}, {}–{} {abbr} ({tz_name})",
            s.format(day),
            s.format("%H:%M"),
            e.format("%H:%M")
        )
    } else {
        format!(
            "{}, {} – {}, {} {abbr} ({tz_name})",
            s.format(day),
            s.format("%H:%M"),
            e.format(day),
            e.format("%H:%M")
        )
    }
}

/// The place in words: name, street, town and postcode, country.
pub fn place_in_words(e: &event::Model) -> Option<String> {
    let town = match (&e.locality, &e.postcode) {
        (Some(l), Some(p)) => Some(format!("{l} {p}")),
        (l, p) => l.clone().or_else(|| p.clone()),
    };
    let parts: Vec<String> = [
        e.place_name.clone(),
        e.street_address.clone(),
        town,
        e.country.clone(),
    ]
    .into_iter()
    .flatten()
    .filter(|s| !s.trim().is_empty())
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The one-paragraph summary Mastodon shows above the event: status, when, where, online
/// link, how to register, and how to answer by replying (`answer_hint`).
pub fn summary_of(title: &str, e: &event::Model, answer_hint: &str) -> String {
    let mut parts = Vec::new();
    if e.status == EventStatus::Cancelled {
        parts.push(format!("CANCELLED: {title}"));
    } else if e.status == EventStatus::Tentative {
        parts.push("To be confirmed".to_string());
    }
    parts.push(when_in_words(e.starts_at, e.ends_at, &e.timezone));
    if let Some(place) = place_in_words(e) {
        parts.push(place);
    }
    if let Some(link) = &e.online_url {
        parts.push(format!("Online: {link}"));
    }
    if e.status != EventStatus::Cancelled {
        match (e.join_mode, &e.external_url) {
            (event::JoinMode::External, Some(u)) => parts.push(format!("Register at {u}")),
            (event::JoinMode::Invite, _) => parts.push("By invitation".into()),
            _ => parts.push(answer_hint.to_string()),
        }
    }
    parts.join(" · ")
}

/// The `Event` we publish. The group holds it (`attributedTo`), as Mobilizon's group events
/// are, so that the group can send its updates; `actor` names the organiser.
pub fn event_of(
    p: &post::Model,
    e: &event::Model,
    c: &community::Model,
    organizer: &person::Model,
    answer_hint: &str,
) -> Event {
    let tz = zone(&e.timezone).unwrap_or(TimeZone::UTC);
    let location = e.has_place().then(|| Place {
        kind: "Place".into(),
        name: e.place_name.clone(),
        address: (e.street_address.is_some()
            || e.locality.is_some()
            || e.postcode.is_some()
            || e.region.is_some()
            || e.country.is_some())
        .then(|| PostalAddress {
            kind: "PostalAddress".into(),
            street_address: e.street_address.clone(),
            address_locality: e.locality.clone(),
            postal_code: e.postcode.clone(),
            address_region: e.region.clone(),
            address_country: e.country.clone(),
        }),
        latitude: e.latitude,
        longitude: e.longitude,
    });
    let attachment = e
        .online_url
        .iter()
        .map(|u| json!({ "type": "Link", "name": "Online", "mediaType": "text/html", "href": u }))
        .collect();
    let followers = {
        let mut u = c.ap_id.0.clone();
        let path = format!("{}/followers", u.path().trim_end_matches('/'));
        u.set_path(&path);
        u
    };
    Event {
        id: p.ap_id.0.clone(),
        kind: "Event".into(),
        attributed_to: c.ap_id.0.clone(),
        actor: Some(organizer.ap_id.0.clone()),
        audience: Audience::new(vec![public(), c.ap_id.0.clone()], vec![followers])
            .in_group(c.ap_id.0.clone()),
        name: p.title.clone(),
        // Mastodon and GoToSocial show `summary` as the content warning and drop `name`, so
        // the content opens with the title, as a topic's does.
        content: Some(format!("{}\n{}", super::title_heading(&p.title), p.content)),
        media_type: Some("text/html".into()),
        source: p.source.as_ref().map(|s| Source {
            content: s.clone(),
            media_type: "text/markdown".into(),
        }),
        // Plain text: Mastodon shows `summary` as the content warning without reading HTML.
        summary: Some(summary_of(&p.title, e, answer_hint)),
        start_time: local_time(e.starts_at, &tz),
        end_time: Some(local_time(e.ends_at, &tz)),
        timezone: Some(e.timezone.clone()),
        location,
        attachment,
        is_online: Some(e.is_online()),
        join_mode: Some(e.join_mode.wire().into()),
        external_participation_url: e.external_url.clone(),
        // Mobilizon reads 0 as "no limit".
        maximum_attendee_capacity: Some(e.capacity.map_or(0, i64::from)),
        remaining_attendee_capacity: e.remaining().map(i64::from),
        participant_count: Some(i64::from(e.participant_count)),
        status: Some(e.status.ical().into()),
        category: e.category.clone(),
        in_language: e.language.clone(),
        url: Some(Value::String(p.ap_id.0.to_string())),
        context: c
            .local
            .then(|| Value::String(thread_context(c, p.id).to_string())),
        tag: p
            .tags
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default(),
        published: Some(p.published),
        updated: p.updated,
    }
}

/// The event fields of a received `Event`, for a row under `post_id`. Times without a known
/// zone are kept in UTC; a missing end is the start; a capacity of 0 means no limit.
pub fn fields_of(ev: &Event, post_id: i64, community_id: i64) -> Result<event::Model, Error> {
    let starts_at = ev.start_time.with_timezone(&Utc);
    let ends_at = ev
        .end_time
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| *t >= starts_at)
        .unwrap_or(starts_at);
    let timezone = ev
        .timezone
        .as_deref()
        .filter(|t| zone(t).is_some())
        .unwrap_or("UTC")
        .to_string();
    let place = ev.location.clone().unwrap_or_default();
    let address = place.address.clone().unwrap_or_default();
    let clip = |s: Option<String>| s.map(|s| s.chars().take(500).collect::<String>());
    let online_url = ev
        .online_link()
        .or_else(|| {
            ev.is_online
                .unwrap_or(false)
                .then(|| ev.url.as_ref().and_then(Value::as_str).map(str::to_string))
                .flatten()
        })
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
    let count = |v: Option<i64>| v.and_then(|v| i32::try_from(v.max(0)).ok());
    Ok(event::Model {
        post_id,
        community_id,
        starts_at,
        ends_at,
        timezone,
        place_name: clip(place.name),
        street_address: clip(address.street_address),
        locality: clip(address.address_locality),
        postcode: clip(address.postal_code),
        region: clip(address.address_region),
        country: clip(address.address_country),
        latitude: place.latitude.filter(|l| (-90.0..=90.0).contains(l)),
        longitude: place.longitude.filter(|l| (-180.0..=180.0).contains(l)),
        online_url: clip(online_url),
        capacity: count(ev.maximum_attendee_capacity).filter(|c| *c > 0),
        join_mode: event::JoinMode::from_wire(ev.join_mode.as_deref().unwrap_or("free")),
        external_url: clip(
            ev.external_participation_url
                .clone()
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        ),
        status: event::EventStatus::from_ical(ev.status.as_deref().unwrap_or("CONFIRMED")),
        category: clip(ev.category.clone()),
        language: ev
            .in_language
            .clone()
            .filter(|l| l.len() <= 16 && !l.is_empty()),
        sequence: 0,
        participant_count: count(ev.participant_count).unwrap_or(0),
        remaining_capacity: count(ev.remaining_attendee_capacity),
    })
}

/// What a deleted event dereferences to.
pub fn event_tombstone(p: &post::Model) -> Value {
    let mut t = super::tombstone_of(p);
    t["formerType"] = Value::String("Event".into());
    t
}
