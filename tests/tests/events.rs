//! Events across instances, one behaviour per test: publishing, changing, cancelling and
//! deleting as a Mastodon-shaped and a Mobilizon-shaped reader and another Copse instance see
//! it; reminders on a controlled clock; and Mobilizon's own event from a followed group.
//! Which form each kind of server is sent is in `events_forms.rs`, answers and places in
//! `events_rsvp.rs`, the iCalendar feeds in `events_calendar.rs`.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use copse_entities::{event, event_participant};
use copse_tests::{
    builders::{
        activities::{activity, public_activity, quiet},
        communities::{copse_member, fake_follower, network},
        events::{event_row, notes_to, schedule, wait_event, workshop, workshop_with},
        posts::mention,
        T,
    },
    fake::FakeServer,
    fixture, wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use url::Url;

/// Alpha with "net" (in English and Welsh) coordinated by ana; her token and the group.
async fn alpha() -> (TestInstance, String, Url) {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let group = network(&a, &ana, "en, cy").await;
    (a, ana, group)
}

/// The Group's `Create` of `id` in the shared inbox of `label`, if it came.
fn group_create(fake: &FakeServer, label: &str, group: &Url, id: &str) -> Option<Value> {
    fake.shared_inbox(label)
        .into_iter()
        .find(|v| v["type"] == "Create" && v["actor"] == group.as_str() && v["object"]["id"] == id)
}

/// An event scheduled on alpha, with bob on beta as a member and mia on a Mastodon-shaped
/// server following: `(alpha, beta, fake, ana, created, ap id)`, once beta has stored it.
async fn followed_event() -> (
    TestInstance,
    TestInstance,
    FakeServer,
    String,
    Value,
    String,
) {
    let (a, ana, group) = alpha().await;
    let b = TestInstance::spawn("beta").await;
    copse_member(&a, &b, "bob", "net").await;
    let fake = FakeServer::start().await;
    fake_follower(&a, &fake, "masto", "mia", &group).await;
    let created = schedule(&a, &ana, workshop()).await;
    let id = created["ap_id"].as_str().unwrap().to_string();
    wait_event(&b, &id).await;
    (a, b, fake, ana, created, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_event_input_names_the_field() {
    let (a, ana, _) = alpha().await;
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
                Some(workshop_with(patch)),
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
    assert_eq!(
        event::Entity::find().all(a.db()).await.unwrap().len(),
        0,
        "refused events leave no row"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_coordinators_and_facilitators_schedule_events() {
    let (a, _, _) = alpha().await;
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_event_reaches_mobilizon_with_every_field() {
    let (a, ana, group) = alpha().await;
    let fake = FakeServer::start().await;
    fake_follower(&a, &fake, "mobi", "zoe", &group).await;
    let created = schedule(&a, &ana, workshop()).await;
    assert_eq!(created["start"], "2027-06-15T18:00:00+01:00");
    assert_eq!(created["remaining"], 2);
    let id = created["ap_id"].as_str().unwrap().to_string();
    wait_for("the Group's Create at the Mobilizon reader", T, || async {
        group_create(&fake, "mobi", &group, &id).is_some()
    })
    .await;
    let seen = group_create(&fake, "mobi", &group, &id).unwrap()["object"].clone();
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_event_reaches_mastodon_and_copse_followers() {
    let (a, b, fake, _, _, id) = followed_event().await;
    let group = a.url("/c/net");
    // Mastodon gets the Group's own Create, which it shows once as the Group's status.
    wait_for("the Create at the Mastodon reader", T, || async {
        group_create(&fake, "masto", &group, &id).is_some()
    })
    .await;
    // The Copse follower stores it.
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_event_arrives_as_an_update() {
    let (a, b, fake, ana, created, id) = followed_event().await;
    let group = a.url("/c/net");
    // Moved by an hour and to another room: Mastodon gets the Update itself, as an edit.
    let (s, changed) = a
        .api(
            Method::PATCH,
            &format!("/api/v1/events/{}", created["id"]),
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_event_arrives_as_an_update_with_its_status() {
    let (a, b, fake, ana, created, id) = followed_event().await;
    let (s, cancelled) = a
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/cancel", created["id"]),
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_event_leaves_a_tombstone_everywhere() {
    let (a, b, _fake, ana, created, id) = followed_event().await;
    let (s, _) = a
        .api(
            Method::DELETE,
            &format!("/api/v1/events/{}", created["id"]),
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
async fn reminders_go_out_once_at_the_lead_time() {
    let a = TestInstance::spawn_with("alpha", |s| s.events.reminder_lead_minutes = 120).await;
    let ana = a.create_user("ana").await;
    let group = network(&a, &ana, "en").await;
    let fake = FakeServer::start().await;
    let mia = fake_follower(&a, &fake, "masto", "mia", &group).await;
    let clock = a.data().clock.clone();
    clock.set(Utc.with_ymd_and_hms(2027, 6, 1, 9, 0, 0).unwrap());
    let created = schedule(&a, &ana, workshop()).await;
    let id = created["ap_id"].as_str().unwrap().to_string();
    let (_, create) = mia.status(&fake, 1, &group, &mention(&group, "going"), Some(&id));
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
    quiet(&a).await;
    assert_eq!(reminders(), 1);
}

/// Alpha, where ana follows the Mobilizon group "devon" that has announced its event (from
/// the shared fixture): `(alpha, fake, devon, the event's JSON)` once it is stored, or `None`
/// where the fixtures are absent.
async fn mobilizon_event() -> Option<(
    TestInstance,
    FakeServer,
    copse_tests::fake::FakeActor,
    Value,
)> {
    let Some(path) = fixture("fediverse/mobilizon/objects/event.json") else {
        eprintln!("skipped: ../shared fixtures are absent");
        return None;
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
    let create = activity(
        format!("{base}/creates/1"),
        "Create",
        &devon.id,
        event.clone(),
    );
    let announce = public_activity(format!("{base}/announces/1"), "Announce", &devon.id, create);
    assert_eq!(
        devon.deliver(&a.client, &a.url("/inbox"), &announce).await,
        202
    );
    wait_event(&a, event["id"].as_str().unwrap()).await;
    Some((a, fake, devon, event))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mobilizon_events_from_a_followed_group_are_understood() {
    let Some((a, _fake, _devon, event)) = mobilizon_event().await else {
        return;
    };
    let (p, e) = event_row(&a, event["id"].as_str().unwrap()).await.unwrap();
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_copy_of_a_moved_mobilizon_event_never_wins() {
    let Some((a, fake, devon, event)) = mobilizon_event().await else {
        return;
    };
    let base = fake.base("mobi");
    let id = event["id"].as_str().unwrap().to_string();
    // The group moves it, straight to its followers.
    let mut moved = event.clone();
    moved["startTime"] = json!("2022-12-11T19:30:00+00:00");
    moved["updated"] = json!("2022-10-01T10:00:00Z");
    moved["ical:status"] = json!("TENTATIVE");
    let update = public_activity(format!("{base}/updates/1"), "Update", &devon.id, moved);
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
    let again = public_activity(format!("{base}/announces/2"), "Announce", &devon.id, event);
    assert_eq!(
        devon.deliver(&a.client, &a.url("/inbox"), &again).await,
        202
    );
    wait_for("the stale copy received", T, || async {
        a.received("Announce").await.len() == 2
    })
    .await;
    quiet(&a).await;
    let (_, e) = event_row(&a, &id).await.unwrap();
    assert_eq!(
        (e.starts_at, e.status),
        (moved_at, event::EventStatus::Tentative)
    );
    assert_eq!(e.sequence, 1);
}
