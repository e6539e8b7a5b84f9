//! Events in the browser: scheduled, changed and cancelled with one form that names the field
//! at fault, times read in the zone the form names, and answered with Going / Not going / Join
//! the waiting list as the API does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{
    event::{self, EventStatus},
    event_participant::{self, ParticipantStatus},
    post,
};
use copse_tests::{
    builders::{
        activities::wait_received, communities::accepted_follows, events::participant_status, T,
    },
    visitor::{account_with_password, Visitor},
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

const PASSWORD: &str = "a long enough password";

/// Alpha's open "net" coordinated by `coord` (signed in); coord's token.
async fn net(a: &TestInstance) -> (Visitor<'_>, String) {
    let token = account_with_password(a, "coord", PASSWORD).await;
    a.community_with(&token, "net", json!({ "membership_policy": "open" }))
        .await;
    let mut coord = Visitor::new(a);
    coord.sign_in("coord", PASSWORD).await;
    (coord, token)
}

/// A member of net signed in.
async fn member<'a>(a: &'a TestInstance, name: &str) -> Visitor<'a> {
    let token = account_with_password(a, name, PASSWORD).await;
    let (s, _) = a.follow(&token, &"net").await;
    assert_eq!(s, 202);
    let mut v = Visitor::new(a);
    v.sign_in(name, PASSWORD).await;
    v
}

/// The form of a workshop, with `changes`.
fn workshop<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("title", "Launch workshop"),
        ("description", "Bring a case."),
        ("timezone", "UTC"),
        ("start", "2030-06-15T18:00"),
        ("end", "2030-06-15T20:00"),
        ("place.name", "The Kenn Centre"),
        ("place.locality", "Exeter"),
        ("capacity", "20"),
        ("join_mode", "free"),
    ];
    for (k, v) in changes {
        f.retain(|(n, _)| n != k);
        f.push((k, v));
    }
    f
}

async fn events(a: &TestInstance) -> Vec<(post::Model, event::Model)> {
    let mut out = Vec::new();
    for e in event::Entity::find().all(a.db()).await.unwrap() {
        let p = post::Entity::find_by_id(e.post_id)
            .one(a.db())
            .await
            .unwrap()
            .unwrap();
        out.push((p, e));
    }
    out
}

/// Schedules through the form; the post id.
async fn scheduled(coord: &mut Visitor<'_>, changes: &[(&str, &str)]) -> i64 {
    let res = coord
        .submit("/c/net/events/new", "/c/net/events/new", &workshop(changes))
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    res.location
        .unwrap()
        .trim_start_matches("/post/")
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_made_with_the_form_is_scheduled_and_federated() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let (mut coord, _) = net(&a).await;
    let bob = b.create_user("bob").await;
    let (s, _) = b.follow(&bob, &format!("net@{}", a.domain)).await;
    assert_eq!(s, 202);
    wait_for("bob accepted", T, || async {
        accepted_follows(&b).await == 1
    })
    .await;
    let id = scheduled(&mut coord, &[]).await;
    let (p, e) = events(&a).await.pop().unwrap();
    assert_eq!(p.id, id);
    assert_eq!(p.title, "Launch workshop");
    assert_eq!(e.capacity, Some(20));
    assert_eq!(e.place_name.as_deref(), Some("The Kenn Centre"));
    wait_received(&b, "the announced event", |v| {
        v["type"] == "Announce" && v["object"]["object"]["type"] == "Event"
            || v["object"]["type"] == "Event"
    })
    .await;
    let page = coord.get(&format!("/post/{id}")).await;
    assert!(page.body.contains("20 of 20 places left"), "{}", page.body);
    assert!(
        page.body.contains("Download calendar (.ics)"),
        "calendar links kept"
    );
}

#[tokio::test]
async fn times_are_read_in_the_zone_the_form_names() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, _) = net(&a).await;
    let form = coord.get("/c/net/events/new").await;
    assert!(
        form.body.contains("UTC unless you change it"),
        "{}",
        form.body
    );
    scheduled(
        &mut coord,
        &[
            ("timezone", "Europe/London"),
            ("start", "2030-07-01T10:00"),
            ("end", "2030-07-01T12:00"),
        ],
    )
    .await;
    let (_, e) = events(&a).await.pop().unwrap();
    assert_eq!(
        e.starts_at.to_rfc3339(),
        "2030-07-01T09:00:00+00:00",
        "BST is UTC+1"
    );
    assert_eq!(e.timezone, "Europe/London");
}

#[tokio::test]
async fn an_end_before_the_start_is_named_beside_end_and_schedules_nothing() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, _) = net(&a).await;
    let res = coord
        .submit(
            "/c/net/events/new",
            "/c/net/events/new",
            &workshop(&[("end", "2030-06-15T17:00")]),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    let at = res.body.find("id=\"end-error\"").expect("error beside end");
    assert!(
        res.body[at..].contains("end must be after start"),
        "{}",
        res.body
    );
    assert!(
        res.body.contains("value=\"Launch workshop\""),
        "the form keeps what was typed"
    );
    assert!(events(&a).await.is_empty());
}

#[tokio::test]
async fn a_bad_capacity_is_named_beside_its_field() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, _) = net(&a).await;
    let res = coord
        .submit(
            "/c/net/events/new",
            "/c/net/events/new",
            &workshop(&[("capacity", "-3")]),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    let at = res
        .body
        .find("id=\"capacity-error\"")
        .expect("error beside capacity");
    assert!(res.body[at..].contains("capacity must be 0 (no limit) or more"));
    assert!(events(&a).await.is_empty());
}

#[tokio::test]
async fn the_edit_form_shows_the_event_and_saves_changes() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, _) = net(&a).await;
    let id = scheduled(&mut coord, &[("timezone", "Europe/London")]).await;
    let form = coord.get(&format!("/post/{id}/event/edit")).await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("value=\"2030-06-15T18:00\""),
        "local time: {}",
        form.body
    );
    let res = coord
        .submit(
            &format!("/post/{id}/event/edit"),
            &format!("/post/{id}/event/edit"),
            &workshop(&[
                ("title", "Launch workshop, moved"),
                ("timezone", "Europe/London"),
                ("place.name", "The Corn Exchange"),
            ]),
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let (p, e) = events(&a).await.pop().unwrap();
    assert_eq!(p.title, "Launch workshop, moved");
    assert_eq!(e.place_name.as_deref(), Some("The Corn Exchange"));
    assert!(e.sequence > 0, "a change is a new version for calendars");
}

#[tokio::test]
async fn cancelling_asks_first_then_marks_the_event_cancelled() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, _) = net(&a).await;
    let id = scheduled(&mut coord, &[]).await;
    let confirm = coord.get(&format!("/post/{id}/event/cancel")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Yes, cancel the event"));
    assert_eq!(
        events(&a).await[0].1.status,
        EventStatus::Confirmed,
        "asking changes nothing"
    );
    let res = coord
        .submit(
            &format!("/post/{id}/event/cancel"),
            &format!("/post/{id}/event/cancel"),
            &[],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(events(&a).await[0].1.status, EventStatus::Cancelled);
}

#[tokio::test]
async fn a_member_cannot_open_or_send_the_event_forms() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, _) = net(&a).await;
    let id = scheduled(&mut coord, &[]).await;
    let mut max = member(&a, "max").await;
    assert_eq!(max.get("/c/net/events/new").await.status, 403);
    assert_eq!(max.get(&format!("/post/{id}/event/edit")).await.status, 403);
    assert_eq!(
        max.get(&format!("/post/{id}/event/cancel")).await.status,
        403
    );
    let csrf = max.get("/c/net").await.csrf();
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend(workshop(&[("title", "Hijacked")]));
    assert_eq!(
        max.post(&format!("/post/{id}/event/edit"), &fields)
            .await
            .status,
        403
    );
    assert_eq!(
        max.post(&format!("/post/{id}/event/cancel"), &[("csrf", &csrf)])
            .await
            .status,
        403
    );
    let (p, e) = events(&a).await.pop().unwrap();
    assert_eq!(
        (p.title.as_str(), e.status),
        ("Launch workshop", EventStatus::Confirmed)
    );
    let page = max.get(&format!("/post/{id}")).await;
    assert!(
        !page.body.contains("/event/edit"),
        "no change link for members"
    );
}

#[tokio::test]
async fn the_last_place_is_taken_then_the_next_person_waits() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, _) = net(&a).await;
    let id = scheduled(&mut coord, &[("capacity", "1")]).await;
    let mut ria = member(&a, "ria").await;
    let mut sam = member(&a, "sam").await;
    let page = ria.get(&format!("/post/{id}")).await;
    assert!(page.body.contains("1 of 1 places left"), "{}", page.body);
    assert!(page.body.contains(">Going</button>"));
    let res = ria
        .submit(
            &format!("/post/{id}"),
            &format!("/post/{id}/rsvp"),
            &[("going", "true")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        participant_status(&a, id, "ria").await,
        Some(ParticipantStatus::Going)
    );
    let page = ria.get(&format!("/post/{id}")).await;
    assert!(page.body.contains("You are going."));
    assert!(page.body.contains(">Not going</button>"));
    let page = sam.get(&format!("/post/{id}")).await;
    assert!(
        page.body.contains("full — join the waiting list"),
        "{}",
        page.body
    );
    assert!(page.body.contains(">Join the waiting list</button>"));
    sam.submit(
        &format!("/post/{id}"),
        &format!("/post/{id}/rsvp"),
        &[("going", "true")],
    )
    .await;
    assert_eq!(
        participant_status(&a, id, "sam").await,
        Some(ParticipantStatus::Waiting)
    );
    let page = sam.get(&format!("/post/{id}")).await;
    assert!(
        page.body
            .contains("You are on the waiting list (number 1)."),
        "{}",
        page.body
    );
    // Ria gives her place up; Sam, first in line, has it.
    ria.submit(
        &format!("/post/{id}"),
        &format!("/post/{id}/rsvp"),
        &[("going", "false")],
    )
    .await;
    assert_eq!(participant_status(&a, id, "ria").await, None);
    assert_eq!(
        participant_status(&a, id, "sam").await,
        Some(ParticipantStatus::Going)
    );
}

#[tokio::test]
async fn a_banned_person_cannot_answer_an_event() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, token) = net(&a).await;
    let id = scheduled(&mut coord, &[]).await;
    let mut tom = member(&a, "tom").await;
    let csrf = tom.get(&format!("/post/{id}")).await.csrf();
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/bans",
            Some(&token),
            Some(json!({ "handle": "tom" })),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let res = tom
        .post(
            &format!("/post/{id}/rsvp"),
            &[("csrf", &csrf), ("going", "true")],
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.body.contains("You are banned from"), "{}", res.body);
    let going = event_participant::Entity::find()
        .filter(event_participant::Column::Status.eq(ParticipantStatus::Going))
        .count(a.db())
        .await
        .unwrap();
    assert_eq!(going, 0);
}

#[tokio::test]
async fn an_event_title_and_place_are_escaped() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, _) = net(&a).await;
    let id = scheduled(
        &mut coord,
        &[
            ("title", "<script>alert(1)</script>"),
            ("place.name", "<img src=x onerror=alert(2)>"),
        ],
    )
    .await;
    let page = coord.get(&format!("/post/{id}")).await;
    assert!(!page.body.contains("<script>alert(1)"), "{}", page.body);
    assert!(!page.body.contains("<img src=x"), "{}", page.body);
    assert!(
        page.body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        page.body
    );
    let form = coord.get(&format!("/post/{id}/event/edit")).await;
    assert!(!form.body.contains("<img src=x"), "{}", form.body);
}
