//! Events: the workshop form, scheduling through the API, stored rows, Joins and Leaves from
//! fake remote actors, and what those actors were sent back.

use super::{activities::activity, T};
use crate::{
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use copse_entities::{event, event_participant, event_participant::ParticipantStatus, post};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

/// A full event form: a two-hour workshop in Exeter with a place, an online link and room
/// for two, free to join.
pub fn workshop() -> Value {
    json!({
        "title": "Launch workshop",
        "description": "Bring a case from your council. #practice",
        "start": "2027-06-15T18:00",
        "end": "2027-06-15T20:00",
        "timezone": "Europe/London",
        "place": {
            "name": "The Kenn Centre", "street_address": "Devon Expressway",
            "locality": "Exeter", "postcode": "EX6 7TW", "country": "United Kingdom",
            "latitude": 50.6688, "longitude": -3.5377
        },
        "online_url": "https://meet.example/launch",
        "capacity": 2,
        "join_mode": "free",
        "category": "WORKSHOP",
        "language": "en"
    })
}

/// The workshop form with `patch`'s fields replaced.
pub fn workshop_with(patch: Value) -> Value {
    let mut form = workshop();
    for (k, v) in patch.as_object().unwrap() {
        form[k] = v.clone();
    }
    form
}

/// Schedules an event in `net` as the account with `token`; the created event's JSON.
pub async fn schedule(a: &TestInstance, token: &str, form: Value) -> Value {
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/events",
            Some(token),
            Some(form),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    body
}

/// The stored post and event rows of the event with this ActivityPub id.
pub async fn event_row(i: &TestInstance, ap_id: &str) -> Option<(post::Model, event::Model)> {
    let p = post::Entity::find()
        .filter(post::Column::ApId.eq(ap_id))
        .one(i.db())
        .await
        .unwrap()?;
    let e = event::Entity::find_by_id(p.id).one(i.db()).await.unwrap()?;
    Some((p, e))
}

/// Waits until the event with this id is stored on `i`, and returns its rows.
pub async fn wait_event(i: &TestInstance, ap_id: &str) -> (post::Model, event::Model) {
    wait_for("the event", T, || async {
        event_row(i, ap_id).await.is_some()
    })
    .await;
    event_row(i, ap_id).await.unwrap()
}

/// Direct notes (the Create's object) a fake actor received.
pub fn notes_to(fake: &FakeServer, label: &str) -> Vec<Value> {
    fake.posted(label)
        .into_iter()
        .filter(|v| v["type"] == "Create" && v["object"]["type"] == "Note")
        .map(|v| v["object"].clone())
        .collect()
}

/// True when `label` got an `Accept` or `Reject` (`kind`) of `join`.
pub fn answered(fake: &FakeServer, label: &str, kind: &str, join: &Value) -> bool {
    fake.posted(label)
        .iter()
        .any(|v| v["type"] == kind && v["object"]["id"] == join["id"])
}

/// Join number `n` of `who` (served under `label`) to `event`, with a participation message.
pub fn join_of(fake: &FakeServer, who: &FakeActor, label: &str, n: u32, event: &str) -> Value {
    let mut join = activity(
        format!("{}/joins/{n}", fake.base(label)),
        "Join",
        &who.id,
        json!(event),
    );
    join["participationMessage"] = json!("I coordinate the Exeter network.");
    join
}

/// Leave number `n` of `who` (served under `label`) from `event`.
pub fn leave_of(fake: &FakeServer, who: &FakeActor, label: &str, n: u32, event: &str) -> Value {
    activity(
        format!("{}/leaves/{n}", fake.base(label)),
        "Leave",
        &who.id,
        json!(event),
    )
}

/// Where the local person `name` stands with event `event_id` (the post's row id), if they
/// answered or were invited.
pub async fn participant_status(
    a: &TestInstance,
    event_id: i64,
    name: &str,
) -> Option<ParticipantStatus> {
    event_participant::Entity::find()
        .filter(event_participant::Column::EventId.eq(event_id))
        .filter(event_participant::Column::PersonId.eq(a.local_person_id(name).await))
        .one(a.db())
        .await
        .unwrap()
        .map(|r| r.status)
}

/// The event's JSON from the API (`GET /api/v1/events/ID`).
pub async fn event_json(a: &TestInstance, local_id: i64) -> Value {
    a.api(
        Method::GET,
        &format!("/api/v1/events/{local_id}"),
        None,
        None,
    )
    .await
    .1
}

/// Waits until the event's `field` (a count) reads `n`.
pub async fn wait_count(a: &TestInstance, local_id: i64, field: &str, n: i64) {
    wait_for(field, T, || async {
        event_json(a, local_id).await[field] == n
    })
    .await;
}
