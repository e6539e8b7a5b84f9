//! Events across instances: publishing, changing and cancelling as a Mastodon-shaped and a
//! Mobilizon-shaped reader and another Copse instance see it; Join/Leave with capacity and a
//! waiting list; answers by reply; approval, invitations and external registration;
//! reminders on a controlled clock; Mobilizon's own event; and iCalendar feeds read back by an
//! independent parser.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use copse_entities::{event, event_participant, post};
use copse_tests::{
    fake::{FakeActor, FakeServer},
    fixture, wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

const T: Duration = Duration::from_secs(20);

/// A community "net" on `a`, coordinated by the account `ana`, open to anyone.
async fn network(a: &TestInstance, ana: &str, languages: &str) -> Url {
    a.community_with(
        ana,
        "net",
        json!({ "membership_policy": "open", "languages": languages }),
    )
    .await;
    a.url("/c/net")
}

fn workshop() -> Value {
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

async fn schedule(a: &TestInstance, token: &str, form: Value) -> Value {
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

async fn event_row(i: &TestInstance, ap_id: &str) -> Option<(post::Model, event::Model)> {
    let p = post::Entity::find()
        .filter(post::Column::ApId.eq(ap_id))
        .one(i.db())
        .await
        .unwrap()?;
    let e = event::Entity::find_by_id(p.id).one(i.db()).await.unwrap()?;
    Some((p, e))
}

fn reply_html(group: &Url, text: &str) -> String {
    format!(
        "<p><span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>net</span></a></span> {text}</p>"
    )
}

/// Direct notes (the Create's object) a fake actor received.
fn notes_to(fake: &FakeServer, label: &str) -> Vec<Value> {
    fake.posted(label)
        .into_iter()
        .filter(|v| v["type"] == "Create" && v["object"]["type"] == "Note")
        .map(|v| v["object"].clone())
        .collect()
}

/// True when `label` got an `Accept` or `Reject` (`kind`) of `join`.
fn answered(fake: &FakeServer, label: &str, kind: &str, join: &Value) -> bool {
    fake.posted(label)
        .iter()
        .any(|v| v["type"] == kind && v["object"]["id"] == join["id"])
}

fn join_of(fake: &FakeServer, who: &FakeActor, label: &str, n: u32, event: &str) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/joins/{n}", fake.base(label)),
        "type": "Join", "actor": who.id, "object": event,
        "participationMessage": "I coordinate the Exeter network."
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_every_reader_and_changes_arrive_as_updates() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let ana = a.create_user("ana").await;
    let group = network(&a, &ana, "en, cy").await;
    let bob = b.create_user("bob").await;
    let (s, body) = b.follow(&bob, format!("net@{}", a.domain)).await;
    assert_eq!(s, 202, "{body}");
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let zoe = fake.actor("mobi", "zoe");
    a.follow_as(&fake, &mia, "masto", &group).await;
    a.follow_as(&fake, &zoe, "mobi", &group).await;
    wait_for("bob's membership", T, || async {
        b.received("Accept").await.len() == 1
    })
    .await;

    // Bad input names the field; only coordinators and facilitators schedule.
    let bad = |patch: Value| {
        let mut form = workshop();
        for (k, v) in patch.as_object().unwrap() {
            form[k] = v.clone();
        }
        form
    };
    for (patch, field) in [
        (json!({ "end": "2027-06-15T17:00" }), "end"),
        (json!({ "timezone": "Europe/Atlantis" }), "timezone"),
        (json!({ "capacity": -1 }), "capacity"),
        (json!({ "start": "next tuesday" }), "start"),
        (json!({ "join_mode": "external" }), "external_url"),
        (json!({ "join_mode": "sometimes" }), "join_mode"),
        (json!({ "online_url": "javascript:alert(1)" }), "online_url"),
        (json!({ "status": "maybe" }), "status"),
        (
            json!({ "place": { "name": "Pole", "latitude": 91.0, "longitude": 0.0 } }),
            "place.latitude",
        ),
    ] {
        let (s, body) = a
            .api(
                Method::POST,
                "/api/v1/communities/net/events",
                Some(&ana),
                Some(bad(patch)),
            )
            .await;
        assert_eq!((s, body["field"].as_str()), (422, Some(field)), "{body}");
    }
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/events",
            Some(&ana),
            Some(json!({ "title": "x", "start": "2027-01-01T10:00", "end": "2027-01-01T11:00" })),
        )
        .await;
    assert_eq!(
        (s, body["field"].as_str()),
        (422, Some("timezone")),
        "{body}"
    );
    let cy = a.create_user("cy").await;
    assert!(matches!(a.follow(&cy, "net").await.0, 200..=202));
    let (s, _) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/events",
            Some(&cy),
            Some(workshop()),
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(
        event::Entity::find().all(a.db()).await.unwrap().len(),
        0,
        "refused events leave no row"
    );

    // Published: both forms reach the readers, every Mobilizon field is there.
    let created = schedule(&a, &ana, workshop()).await;
    assert_eq!(created["start"], "2027-06-15T18:00:00+01:00");
    assert_eq!(created["remaining"], 2);
    let id = created["ap_id"].as_str().unwrap().to_string();
    let group_create = |label: &'static str| {
        let fake = &fake;
        let id = id.clone();
        let group = group.clone();
        move || {
            fake.shared_inbox(label).into_iter().find(|v| {
                v["type"] == "Create"
                    && v["actor"] == group.as_str()
                    && v["object"]["id"] == id.as_str()
            })
        }
    };
    wait_for("the Group's Create at the Mobilizon reader", T, || async {
        group_create("mobi")().is_some()
    })
    .await;
    let seen = group_create("mobi")().unwrap()["object"].clone();
    assert_eq!(seen["id"], id.as_str());
    assert_eq!(seen["name"], "Launch workshop");
    assert_eq!(seen["attributedTo"], group.as_str());
    assert!(seen["actor"].as_str().unwrap().ends_with("/u/ana"));
    assert_eq!(seen["startTime"], "2027-06-15T18:00:00+01:00");
    assert_eq!(seen["endTime"], "2027-06-15T20:00:00+01:00");
    assert_eq!(seen["timezone"], "Europe/London");
    assert_eq!(seen["location"]["type"], "Place");
    assert_eq!(seen["location"]["name"], "The Kenn Centre");
    assert_eq!(seen["location"]["latitude"], 50.6688);
    assert_eq!(seen["location"]["longitude"], -3.5377);
    let address = &seen["location"]["address"];
    assert_eq!(address["type"], "PostalAddress");
    assert_eq!(address["streetAddress"], "Devon Expressway");
    assert_eq!(address["addressLocality"], "Exeter");
    assert_eq!(address["postalCode"], "EX6 7TW");
    assert_eq!(address["addressCountry"], "United Kingdom");
    assert_eq!(seen["joinMode"], "free");
    assert_eq!(seen["maximumAttendeeCapacity"], 2);
    assert_eq!(seen["remainingAttendeeCapacity"], 2);
    assert_eq!(seen["participantCount"], 0);
    assert_eq!(seen["ical:status"], "CONFIRMED");
    assert_eq!(seen["isOnline"], true);
    assert_eq!(seen["attachment"][0]["href"], "https://meet.example/launch");
    assert_eq!(seen["category"], "WORKSHOP");
    assert_eq!(seen["inLanguage"], "en");
    assert!(seen["content"].as_str().unwrap().contains("Bring a case"));
    let summary = seen["summary"].as_str().unwrap();
    for words in [
        "Tuesday 15 June 2027",
        "18:00–20:00 BST",
        "Europe/London",
        "The Kenn Centre, Devon Expressway, Exeter EX6 7TW",
        "going",
        "dw i'n dod",
    ] {
        assert!(summary.contains(words), "{words:?} missing from {summary}");
    }
    // Mastodon gets the Group's own Create, which it shows once as the Group's status.
    wait_for("the Create at the Mastodon reader", T, || async {
        group_create("masto")().is_some()
    })
    .await;
    // The Copse follower stores it.
    wait_for("the event on beta", T, || async {
        event_row(&b, &id).await.is_some()
    })
    .await;
    let (p, e) = event_row(&b, &id).await.unwrap();
    assert_eq!(p.title, "Launch workshop");
    assert_eq!(
        e.starts_at,
        Utc.with_ymd_and_hms(2027, 6, 15, 17, 0, 0).unwrap()
    );
    assert_eq!(e.timezone, "Europe/London");
    assert_eq!(e.capacity, Some(2));
    assert_eq!(e.postcode.as_deref(), Some("EX6 7TW"));
    assert_eq!(e.online_url.as_deref(), Some("https://meet.example/launch"));
    // Served at its id.
    let (s, served) = a.get_ap(&Url::parse(&id).unwrap()).await;
    assert_eq!((s, served["type"].as_str()), (200, Some("Event")));

    // Moved by an hour and to another room: Mastodon gets the Update itself, as an edit.
    let local_id = created["id"].as_i64().unwrap();
    let (s, changed) = a
        .api(
            Method::PATCH,
            &format!("/api/v1/events/{local_id}"),
            Some(&ana),
            Some(json!({ "start": "2027-06-15T19:00", "end": "2027-06-15T21:00", "place": { "name": "Room 2, The Kenn Centre", "locality": "Exeter" } })),
        )
        .await;
    assert_eq!(s, 200, "{changed}");
    assert_eq!(changed["sequence"], 1);
    wait_for("the Update at the Mastodon reader", T, || async {
        fake.shared_inbox("masto").iter().any(|v| {
            v["type"] == "Update"
                && v["actor"] == group.as_str()
                && v["object"]["updated"].is_string()
                && v["object"]["summary"]
                    .as_str()
                    .is_some_and(|s| s.contains("19:00–21:00") && s.contains("Room 2"))
        })
    })
    .await;
    wait_for("the change on beta", T, || async {
        event_row(&b, &id).await.is_some_and(|(_, e)| {
            e.starts_at == Utc.with_ymd_and_hms(2027, 6, 15, 18, 0, 0).unwrap()
                && e.place_name.as_deref() == Some("Room 2, The Kenn Centre")
        })
    })
    .await;

    // Cancelled: an update again, with the status and the word on Mastodon.
    let (s, cancelled) = a
        .api(
            Method::POST,
            &format!("/api/v1/events/{local_id}/cancel"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    wait_for("the cancellation at the Mastodon reader", T, || async {
        fake.shared_inbox("masto").iter().any(|v| {
            v["type"] == "Update"
                && v["object"]["ical:status"] == "CANCELLED"
                && v["object"]["summary"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("CANCELLED: Launch workshop"))
        })
    })
    .await;
    wait_for("the cancellation on beta", T, || async {
        event_row(&b, &id)
            .await
            .is_some_and(|(_, e)| e.status == event::EventStatus::Cancelled)
    })
    .await;

    // Deleted: a tombstone everywhere.
    let (s, _) = a
        .api(
            Method::DELETE,
            &format!("/api/v1/events/{local_id}"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 204);
    wait_for("the deletion on beta", T, || async {
        event_row(&b, &id).await.is_some_and(|(p, _)| p.deleted)
    })
    .await;
    let (s, gone) = a.get_ap(&Url::parse(&id).unwrap()).await;
    assert_eq!((s, gone["formerType"].as_str()), (410, Some("Event")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_leaves_waiting_list_and_replies_from_anywhere() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let ana = a.create_user("ana").await;
    let group = network(&a, &ana, "en, cy").await;
    let bob = b.create_user("bob").await;
    assert_eq!(b.follow(&bob, format!("net@{}", a.domain)).await.0, 202);
    wait_for("bob's membership", T, || async {
        b.received("Accept").await.len() == 1
    })
    .await;
    let fake = FakeServer::start().await;
    let zoe = fake.actor("mobi", "zoe");
    let kai = fake.actor("fri", "kai");
    let mia = fake.actor("masto", "mia");
    let dai = fake.actor("masto", "dai");
    // Everyone who answers is known here (Mastodon users follow the group first).
    for (who, label) in [
        (&zoe, "mobi"),
        (&kai, "fri"),
        (&mia, "masto"),
        (&dai, "masto"),
    ] {
        a.follow_as(&fake, who, label, &group).await;
    }
    let created = schedule(&a, &ana, workshop()).await;
    let id = created["ap_id"].as_str().unwrap().to_string();
    let local_id = created["id"].as_i64().unwrap();
    let inbox = a.url("/inbox");

    // Bob, on another Copse instance, answers through his own API: a Join, accepted.
    wait_for("the event on beta", T, || async {
        event_row(&b, &id).await.is_some()
    })
    .await;
    let (bp, _) = event_row(&b, &id).await.unwrap();
    let (s, answer) = b
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/rsvp", bp.id),
            Some(&bob),
            Some(json!({ "going": true })),
        )
        .await;
    assert_eq!(
        (s, answer["status"].as_str()),
        (200, Some("pending")),
        "{answer}"
    );
    wait_for("bob accepted", T, || async {
        event_participant::Entity::find()
            .filter(event_participant::Column::EventId.eq(bp.id))
            .one(b.db())
            .await
            .unwrap()
            .is_some_and(|r| r.status == event_participant::ParticipantStatus::Going)
    })
    .await;

    // Zoe joins from a Mobilizon-shaped server: the last place, accepted.
    let zoe_join = join_of(&fake, &zoe, "mobi", 1, &id);
    assert_eq!(zoe.deliver(&a.client, &inbox, &zoe_join).await, 202);
    wait_for("zoe's Accept", T, || async {
        fake.posted("mobi").iter().any(|v| {
            v["type"] == "Accept"
                && v["object"]["id"] == zoe_join["id"]
                && v["actor"] == group.as_str()
        })
    })
    .await;

    // Mia (Mastodon) replies "Going!": full, so first on the waiting list, told in reply.
    let (going, create) = mia.status(&fake, 1, &group, &reply_html(&group, "Going!"), Some(&id));
    assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("mia's place on the waiting list", T, || async {
        notes_to(&fake, "masto").iter().any(|n| {
            n["inReplyTo"] == going["id"]
                && n["content"]
                    .as_str()
                    .unwrap()
                    .contains("number 1 on the waiting list")
        })
    })
    .await;
    let stored = post::Entity::find()
        .filter(post::Column::ApId.eq(going["id"].as_str().unwrap()))
        .one(a.db())
        .await
        .unwrap();
    assert!(stored.is_none(), "an answer is not a comment");

    // Kai joins from a Friendica-shaped server: second in line, no answer yet.
    let kai_join = join_of(&fake, &kai, "fri", 1, &id);
    assert_eq!(kai.deliver(&a.client, &inbox, &kai_join).await, 202);
    let url = format!("/api/v1/events/{local_id}");
    wait_for("two waiting", T, || async {
        a.api(Method::GET, &url, None, None).await.1["waiting_count"] == 2
    })
    .await;
    let (_, ev) = a.api(Method::GET, &url, None, None).await;
    assert_eq!(
        (ev["participant_count"].as_i64(), ev["remaining"].as_i64()),
        (Some(2), Some(0))
    );
    assert!(!fake
        .posted("fri")
        .iter()
        .any(|v| v["type"] == "Accept" && v["object"]["id"] == kai_join["id"]));

    // Coordinators see who is coming; members do not.
    let (s, list) = a
        .api(
            Method::GET,
            &format!("{url}/participants"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 200, "{list}");
    let statuses: Vec<(&str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["person"]["name"].as_str().unwrap(),
                i["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("bob", "going"),
            ("zoe", "going"),
            ("mia", "waiting"),
            ("kai", "waiting")
        ]
    );
    assert!(list["items"][1]["message"]
        .as_str()
        .unwrap()
        .contains("Exeter network"));
    let cy = a.create_user("cy").await;
    assert!(matches!(a.follow(&cy, "net").await.0, 200..=202));
    assert_eq!(
        a.api(Method::GET, &format!("{url}/participants"), Some(&cy), None)
            .await
            .0,
        403
    );

    // Zoe leaves: the first in line (mia) gets the place, told by a note.
    let leave = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/leaves/1", fake.base("mobi")),
        "type": "Leave", "actor": zoe.id, "object": id
    });
    assert_eq!(zoe.deliver(&a.client, &inbox, &leave).await, 202);
    wait_for("mia's place", T, || async {
        notes_to(&fake, "masto")
            .iter()
            .any(|n| n["content"].as_str().unwrap().contains("You are going to"))
    })
    .await;

    // Bob withdraws on beta: a Leave; kai is next and gets the Accept of his own Join.
    let (s, answer) = b
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/rsvp", bp.id),
            Some(&bob),
            Some(json!({ "going": false })),
        )
        .await;
    assert_eq!((s, answer["status"].as_str()), (200, Some("not_going")));
    wait_for("kai's Accept", T, || async {
        answered(&fake, "fri", "Accept", &kai_join)
    })
    .await;

    // Mia can't make it after all: the place is freed, and she is told.
    let (_, create) = mia.status(
        &fake,
        2,
        &group,
        &reply_html(&group, "Sorry, not going."),
        Some(&id),
    );
    assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("one going", T, || async {
        a.api(Method::GET, &url, None, None).await.1["participant_count"] == 1
    })
    .await;
    // Dai answers in Welsh, one of the community's languages.
    let (_, create) = dai.status(
        &fake,
        1,
        &group,
        &reply_html(&group, "Dw i’n dod!"),
        Some(&id),
    );
    assert_eq!(dai.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("two going again", T, || async {
        a.api(Method::GET, &url, None, None).await.1["participant_count"] == 2
    })
    .await;
    // A longer reply is a comment in the event's thread.
    let (comment, create) = dai.status(
        &fake,
        2,
        &group,
        &reply_html(&group, "Will the slides be shared afterwards?"),
        Some(&id),
    );
    assert_eq!(dai.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("the comment", T, || async {
        post::Entity::find()
            .filter(post::Column::ApId.eq(comment["id"].as_str().unwrap()))
            .one(a.db())
            .await
            .unwrap()
            .is_some_and(|p| p.topic_id == Some(local_id))
    })
    .await;

    // Approval: a request waits for a coordinator, who accepts one and declines another.
    let mut form = workshop();
    form["title"] = json!("Peer review circle");
    form["join_mode"] = json!("approval");
    let circle = schedule(&a, &ana, form).await;
    let circle_id = circle["ap_id"].as_str().unwrap().to_string();
    let zoe_ask = join_of(&fake, &zoe, "mobi", 2, &circle_id);
    let kai_ask = join_of(&fake, &kai, "fri", 2, &circle_id);
    assert_eq!(zoe.deliver(&a.client, &inbox, &zoe_ask).await, 202);
    assert_eq!(kai.deliver(&a.client, &inbox, &kai_ask).await, 202);
    let curl = format!("/api/v1/events/{}", circle["id"]);
    wait_for("two pending requests", T, || async {
        let (_, l) = a
            .api(
                Method::GET,
                &format!("{curl}/participants"),
                Some(&ana),
                None,
            )
            .await;
        l["items"]
            .as_array()
            .is_some_and(|i| i.len() == 2 && i.iter().all(|x| x["status"] == "pending"))
    })
    .await;
    let zoe_handle = format!("zoe@mobi.localhost:{}", fake.port);
    let kai_handle = format!("kai@fri.localhost:{}", fake.port);
    let (s, d) = a
        .api(
            Method::POST,
            &format!("{curl}/participants/{zoe_handle}"),
            Some(&ana),
            Some(json!({ "decision": "accept" })),
        )
        .await;
    assert_eq!((s, d["status"].as_str()), (200, Some("going")), "{d}");
    let (s, d) = a
        .api(
            Method::POST,
            &format!("{curl}/participants/{kai_handle}"),
            Some(&ana),
            Some(json!({ "decision": "maybe" })),
        )
        .await;
    assert_eq!((s, d["field"].as_str()), (422, Some("decision")));
    let (s, _) = a
        .api(
            Method::POST,
            &format!("{curl}/participants/{kai_handle}"),
            Some(&ana),
            Some(json!({ "decision": "reject" })),
        )
        .await;
    assert_eq!(s, 200);
    wait_for("the Accept and the Reject", T, || async {
        answered(&fake, "mobi", "Accept", &zoe_ask)
            && fake
                .posted("fri")
                .iter()
                .any(|v| v["type"] == "Reject" && v["object"]["id"] == kai_ask["id"])
    })
    .await;

    // Invitation only: refused until invited, then accepted.
    let mut form = workshop();
    form["title"] = json!("Funders' round table");
    form["join_mode"] = json!("invite");
    let table = schedule(&a, &ana, form).await;
    let table_id = table["ap_id"].as_str().unwrap().to_string();
    let first = join_of(&fake, &kai, "fri", 3, &table_id);
    assert_eq!(kai.deliver(&a.client, &inbox, &first).await, 202);
    wait_for("the Reject of an uninvited join", T, || async {
        answered(&fake, "fri", "Reject", &first)
    })
    .await;
    let (s, _) = a
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/invites", table["id"]),
            Some(&ana),
            Some(json!({ "handle": kai_handle })),
        )
        .await;
    assert_eq!(s, 204);
    let second = join_of(&fake, &kai, "fri", 4, &table_id);
    assert_eq!(kai.deliver(&a.client, &inbox, &second).await, 202);
    wait_for("the Accept of an invited join", T, || async {
        answered(&fake, "fri", "Accept", &second)
    })
    .await;

    // Kai takes it back with an Undo of his Join (as some servers do instead of Leave).
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/undos/1", fake.base("fri")),
        "type": "Undo", "actor": kai.id, "object": second
    });
    assert_eq!(kai.deliver(&a.client, &inbox, &undo).await, 202);
    let turl = format!("/api/v1/events/{}/participants", table["id"]);
    wait_for("kai withdrawn", T, || async {
        let (_, l) = a.api(Method::GET, &turl, Some(&ana), None).await;
        l["items"].as_array().is_some_and(Vec::is_empty)
    })
    .await;

    // External registration: a Join is refused with where to register.
    let mut form = workshop();
    form["title"] = json!("Regional conference");
    form["join_mode"] = json!("external");
    form["external_url"] = json!("https://tickets.example/conf");
    let conf = schedule(&a, &ana, form).await;
    let conf_join = join_of(&fake, &zoe, "mobi", 3, conf["ap_id"].as_str().unwrap());
    assert_eq!(zoe.deliver(&a.client, &inbox, &conf_join).await, 202);
    wait_for("the Reject of an external event", T, || async {
        answered(&fake, "mobi", "Reject", &conf_join)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_go_out_once_at_the_lead_time() {
    let a = TestInstance::spawn_with("alpha", |s| s.events.reminder_lead_minutes = 120).await;
    let ana = a.create_user("ana").await;
    let group = network(&a, &ana, "en").await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    a.follow_as(&fake, &mia, "masto", &group).await;
    let clock = a.data().clock.clone();
    clock.set(Utc.with_ymd_and_hms(2027, 6, 1, 9, 0, 0).unwrap());
    let created = schedule(&a, &ana, workshop()).await;
    let id = created["ap_id"].as_str().unwrap().to_string();
    let (_, create) = mia.status(&fake, 1, &group, &reply_html(&group, "going"), Some(&id));
    assert_eq!(mia.deliver(&a.client, &a.url("/inbox"), &create).await, 202);
    let (s, _) = a
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/rsvp", created["id"]),
            Some(&ana),
            Some(json!({ "going": true })),
        )
        .await;
    assert_eq!(s, 200);
    let url = format!("/api/v1/events/{}", created["id"]);
    wait_for("two going", T, || async {
        a.api(Method::GET, &url, None, None).await.1["participant_count"] == 2
    })
    .await;
    let reminders = || {
        notes_to(&fake, "masto")
            .into_iter()
            .filter(|n| n["content"].as_str().unwrap().contains("Reminder"))
            .count()
    };
    let data = a.data();
    let send = || copse_federation::actions::events::send_due_reminders(&data);

    // The event starts at 17:00 UTC; two hours before is 15:00.
    clock.set(Utc.with_ymd_and_hms(2027, 6, 15, 14, 59, 0).unwrap());
    assert_eq!(send().await.unwrap(), 0);
    clock.set(Utc.with_ymd_and_hms(2027, 6, 15, 15, 1, 0).unwrap());
    send().await.unwrap();
    wait_for("mia's reminder", T, || async { reminders() == 1 }).await;
    let note = notes_to(&fake, "masto")
        .into_iter()
        .find(|n| n["content"].as_str().unwrap().contains("Reminder"))
        .unwrap();
    assert!(note["content"]
        .as_str()
        .unwrap()
        .contains("18:00–20:00 BST"));
    assert_eq!(note["to"], json!([mia.id.as_str()]));
    // Everyone going is marked, ana included; nothing goes twice.
    let rows = event_participant::Entity::find().all(a.db()).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.reminded_at.is_some()));
    clock.set(Utc.with_ymd_and_hms(2027, 6, 15, 16, 0, 0).unwrap());
    assert_eq!(send().await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(reminders(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mobilizon_events_from_a_followed_group_are_understood() {
    let Some(path) = fixture("fediverse/mobilizon/objects/event.json") else {
        eprintln!("skipped: ../shared fixtures are absent");
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let fake = FakeServer::start().await;
    let base = fake.base("mobi");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace(
            "https://rendezvous.nomagic.uk/@devon_caledonian_society",
            &format!("{base}/users/devon"),
        )
        .replace(
            "https://rendezvous.nomagic.uk/@emorrp1",
            &format!("{base}/users/emorrp1"),
        )
        .replace("https://rendezvous.nomagic.uk", &base);
    let event: Value = serde_json::from_str(&text).unwrap();
    let devon = fake.actor("mobi", "devon");
    fake.actor("mobi", "emorrp1");
    // Mobilizon's group: a Group actor, found by WebFinger.
    fake.serve(
        &devon.id,
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": devon.id, "type": "Group", "preferredUsername": "devon",
            "name": "Devon Caledonian Society",
            "inbox": format!("{}/inbox", devon.id), "outbox": format!("{}/outbox", devon.id),
            "followers": format!("{}/followers", devon.id),
            "endpoints": { "sharedInbox": format!("{base}/inbox") },
            "publicKey": { "id": format!("{}#main-key", devon.id), "owner": devon.id, "publicKeyPem": devon.public_pem }
        }),
    );
    fake.serve(
        &Url::parse(&format!("{base}/.well-known/webfinger")).unwrap(),
        json!({
            "subject": format!("acct:devon@mobi.localhost:{}", fake.port),
            "links": [{ "rel": "self", "type": "application/activity+json", "href": devon.id }]
        }),
    );
    let (s, body) = a
        .follow(&ana, format!("devon@mobi.localhost:{}", fake.port))
        .await;
    assert!(s == 202 || s == 200, "{s} {body}");

    // The group announces its event.
    let announce = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{base}/announces/1"), "type": "Announce", "actor": devon.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": format!("{base}/creates/1"), "type": "Create", "actor": devon.id,
            "object": event.clone()
        }
    });
    assert_eq!(
        devon.deliver(&a.client, &a.url("/inbox"), &announce).await,
        202
    );
    let id = event["id"].as_str().unwrap().to_string();
    wait_for("the Mobilizon event", T, || async {
        event_row(&a, &id).await.is_some()
    })
    .await;
    let (p, e) = event_row(&a, &id).await.unwrap();
    assert_eq!(p.title, "Caledonian scottish dance class");
    assert!(p.content.contains("posh ceilidh"));
    assert!(p.tags.as_deref().unwrap().contains("#Dance"));
    assert_eq!(
        e.starts_at,
        Utc.with_ymd_and_hms(2022, 12, 11, 19, 0, 0).unwrap()
    );
    assert_eq!(
        e.ends_at,
        Utc.with_ymd_and_hms(2022, 12, 11, 21, 0, 0).unwrap()
    );
    assert_eq!(e.timezone, "Europe/London");
    assert_eq!(e.place_name.as_deref(), Some("The Kenn Centre"));
    assert_eq!(e.street_address.as_deref(), Some("Devon Expressway"));
    assert_eq!(e.locality.as_deref(), Some("Teignbridge"));
    assert_eq!(e.region.as_deref(), Some("England"));
    assert_eq!(e.postcode.as_deref(), Some("EX6 7TW"));
    assert_eq!(e.country.as_deref(), Some("United Kingdom"));
    assert!((e.latitude.unwrap() - 50.66881615).abs() < 1e-9);
    assert_eq!(e.capacity, None, "Mobilizon's 0 means no limit");
    assert_eq!(e.join_mode, event::JoinMode::Free);
    assert_eq!(e.status, event::EventStatus::Confirmed);
    assert_eq!(e.category.as_deref(), Some("SPORTS"));
    assert_eq!(e.language.as_deref(), Some("en"));
    assert!(!e.is_online());

    // The group moves it, straight to its followers; an older copy never wins.
    let mut moved = event.clone();
    moved["startTime"] = json!("2022-12-11T19:30:00+00:00");
    moved["updated"] = json!("2022-10-01T10:00:00Z");
    moved["ical:status"] = json!("TENTATIVE");
    let update = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{base}/updates/1"), "type": "Update", "actor": devon.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"], "object": moved
    });
    assert_eq!(
        devon.deliver(&a.client, &a.url("/inbox"), &update).await,
        202
    );
    let moved_at = Utc.with_ymd_and_hms(2022, 12, 11, 19, 30, 0).unwrap();
    wait_for("the moved event", T, || async {
        event_row(&a, &id)
            .await
            .is_some_and(|(_, e)| e.starts_at == moved_at)
    })
    .await;
    let again = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{base}/announces/2"), "type": "Announce", "actor": devon.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"], "object": event
    });
    assert_eq!(
        devon.deliver(&a.client, &a.url("/inbox"), &again).await,
        202
    );
    wait_for("the stale copy handled", T, || async {
        a.received("Announce").await.len() == 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, e) = event_row(&a, &id).await.unwrap();
    assert_eq!(
        (e.starts_at, e.status),
        (moved_at, event::EventStatus::Tentative)
    );
    assert_eq!(e.sequence, 1);
}

/// Reads one property's value and parameters from a parsed component.
fn prop<'a>(
    props: &'a [ical::property::Property],
    name: &str,
) -> Option<&'a ical::property::Property> {
    props.iter().find(|p| p.name == name)
}

/// UTC of a `DTSTART;TZID=...` read with the calendar's own VTIMEZONE: the offset of the
/// latest observance that began at or before the local time.
fn utc_of(
    cal: &ical::parser::ical::component::IcalCalendar,
    p: &ical::property::Property,
) -> DateTime<Utc> {
    let value = p.value.as_deref().unwrap();
    if let Some(v) = value.strip_suffix('Z') {
        return NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S")
            .unwrap()
            .and_utc();
    }
    let tzid = p
        .params
        .as_ref()
        .and_then(|ps| ps.iter().find(|(k, _)| k == "TZID"))
        .map(|(_, v)| v[0].clone())
        .expect("a TZID");
    let local = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").unwrap();
    let tz = cal
        .timezones
        .iter()
        .find(|t| {
            prop(&t.properties, "TZID").and_then(|p| p.value.as_deref()) == Some(tzid.as_str())
        })
        .expect("the VTIMEZONE of the TZID");
    let mut best: Option<(NaiveDateTime, i64)> = None;
    for o in &tz.transitions {
        let start = NaiveDateTime::parse_from_str(
            prop(&o.properties, "DTSTART")
                .unwrap()
                .value
                .as_deref()
                .unwrap(),
            "%Y%m%dT%H%M%S",
        )
        .unwrap();
        let to = prop(&o.properties, "TZOFFSETTO")
            .unwrap()
            .value
            .clone()
            .unwrap();
        let sign = if to.starts_with('-') { -1 } else { 1 };
        let seconds = sign
            * (to[1..3].parse::<i64>().unwrap() * 3600 + to[3..5].parse::<i64>().unwrap() * 60);
        if start <= local && best.is_none_or(|(s, _)| start > s) {
            best = Some((start, seconds));
        }
    }
    let (_, offset) = best.expect("an observance in force");
    (local - chrono::Duration::seconds(offset)).and_utc()
}

fn parse_calendar(text: &str) -> ical::parser::ical::component::IcalCalendar {
    let mut reader = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let cal = reader.next().expect("one calendar").expect("it parses");
    assert!(reader.next().is_none());
    cal
}

async fn get_text(a: &TestInstance, path: &str) -> (u16, String, String) {
    let res = a.client.get(a.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendars_round_trip_through_an_independent_parser() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    network(&a, &ana, "en").await;
    // Summer and winter in London, the days the clocks change, and New York.
    let cases = [
        (
            "Summer meet-up",
            "2027-06-15T18:00",
            "2027-06-15T20:00",
            "Europe/London",
            (2027, 6, 15, 17, 0),
        ),
        (
            "Winter meet-up",
            "2027-01-12T18:00",
            "2027-01-12T20:00",
            "Europe/London",
            (2027, 1, 12, 18, 0),
        ),
        (
            "Clocks forward",
            "2027-03-28T12:00",
            "2027-03-28T13:00",
            "Europe/London",
            (2027, 3, 28, 11, 0),
        ),
        (
            "Clocks back",
            "2027-10-31T10:00",
            "2027-10-31T11:00",
            "Europe/London",
            (2027, 10, 31, 10, 0),
        ),
        (
            "Partners call",
            "2027-07-04T09:30",
            "2027-07-04T10:30",
            "America/New_York",
            (2027, 7, 4, 13, 30),
        ),
    ];
    let mut ids = Vec::new();
    for (title, start, end, tz, _) in cases {
        let created = schedule(
            &a,
            &ana,
            json!({ "title": title, "description": "Notes; commas, and a\nnew line.", "start": start, "end": end, "timezone": tz, "place": { "name": "Hall, upstairs; east wing" } }),
        )
        .await;
        ids.push(created["id"].as_i64().unwrap());
    }
    // One change and one cancellation.
    let (s, _) = a
        .api(
            Method::PATCH,
            &format!("/api/v1/events/{}", ids[0]),
            Some(&ana),
            Some(json!({ "title": "Summer meet-up (room 2)" })),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = a
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/cancel", ids[1]),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 200);

    let (s, ctype, text) = get_text(&a, "/c/net/events.ics").await;
    assert_eq!(s, 200);
    assert!(ctype.starts_with("text/calendar"), "{ctype}");
    assert!(
        text.split("\r\n").all(|l| l.len() <= 75),
        "lines are folded"
    );
    let cal = parse_calendar(&text);
    assert_eq!(cal.events.len(), cases.len());
    let london = cal
        .timezones
        .iter()
        .find(|t| prop(&t.properties, "TZID").unwrap().value.as_deref() == Some("Europe/London"))
        .expect("London's VTIMEZONE");
    let kinds: Vec<&str> = london
        .transitions
        .iter()
        .map(|o| match o.transition {
            ical::parser::ical::component::IcalTimeZoneTransitionType::STANDARD => "STANDARD",
            ical::parser::ical::component::IcalTimeZoneTransitionType::DAYLIGHT => "DAYLIGHT",
        })
        .collect();
    assert!(
        kinds.contains(&"STANDARD") && kinds.contains(&"DAYLIGHT"),
        "{kinds:?}"
    );
    for (title, _, _, tz, (y, mo, d, h, mi)) in cases {
        let ev = cal
            .events
            .iter()
            .find(|e| {
                prop(&e.properties, "SUMMARY")
                    .unwrap()
                    .value
                    .as_deref()
                    .unwrap()
                    .starts_with(title)
            })
            .unwrap_or_else(|| panic!("{title} in the feed"));
        let start = prop(&ev.properties, "DTSTART").unwrap();
        assert!(start
            .params
            .as_ref()
            .unwrap()
            .iter()
            .any(|(k, v)| k == "TZID" && v[0] == tz));
        assert_eq!(
            utc_of(&cal, start),
            Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap(),
            "{title}"
        );
        assert_eq!(
            prop(&ev.properties, "LOCATION").unwrap().value.as_deref(),
            Some("Hall\\, upstairs\\; east wing")
        );
    }
    let by_title = |t: &str| {
        cal.events
            .iter()
            .find(|e| {
                prop(&e.properties, "SUMMARY")
                    .unwrap()
                    .value
                    .as_deref()
                    .unwrap()
                    .starts_with(t)
            })
            .unwrap()
    };
    let changed = by_title("Summer meet-up (room 2)");
    assert_eq!(
        prop(&changed.properties, "SEQUENCE")
            .unwrap()
            .value
            .as_deref(),
        Some("1")
    );
    let cancelled = by_title("Winter meet-up");
    assert_eq!(
        prop(&cancelled.properties, "STATUS")
            .unwrap()
            .value
            .as_deref(),
        Some("CANCELLED")
    );
    assert_eq!(
        prop(&cancelled.properties, "SEQUENCE")
            .unwrap()
            .value
            .as_deref(),
        Some("1")
    );
    let untouched = by_title("Clocks back");
    assert_eq!(
        prop(&untouched.properties, "SEQUENCE")
            .unwrap()
            .value
            .as_deref(),
        Some("0")
    );
    assert_eq!(
        prop(&untouched.properties, "STATUS")
            .unwrap()
            .value
            .as_deref(),
        Some("CONFIRMED")
    );

    // One event's own feed.
    let (s, _, text) = get_text(&a, &format!("/post/{}/event.ics", ids[4])).await;
    assert_eq!(s, 200);
    let one = parse_calendar(&text);
    assert_eq!(one.events.len(), 1);
    assert_eq!(one.timezones.len(), 1);
    let start = prop(&one.events[0].properties, "DTSTART").unwrap();
    assert_eq!(
        utc_of(&one, start),
        Utc.with_ymd_and_hms(2027, 7, 4, 13, 30, 0).unwrap()
    );

    // The pages link both feeds, to download and to subscribe.
    let (_, _, page) = get_text(&a, "/c/net").await;
    assert!(
        page.contains("href=\"/c/net/events.ics\" download"),
        "{page}"
    );
    assert!(page.contains(&format!("webcal://{}/c/net/events.ics", a.domain)));
    assert!(page.contains("Partners call"));
    let (_, _, page) = get_text(&a, &format!("/post/{}", ids[4])).await;
    assert!(page.contains(&format!("/post/{}/event.ics", ids[4])));
    assert!(
        page.contains("Sunday 4 July 2027, 09:30–10:30 EDT (America/New_York)"),
        "{page}"
    );
}
