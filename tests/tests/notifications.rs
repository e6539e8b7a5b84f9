//! Notifications for people with an account here, one behaviour per test: each kind is written
//! once for the person it is for and never for the one who acted, a replayed cause writes
//! nothing new, a reply from another instance over HTTP notifies the local author, and the
//! notifications page (its count, "Mark all read", and who may see it).

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use copse_entities::{
    notification::{self, NotificationKind},
    person,
};
use copse_tests::{
    builders::{
        communities::{community, copse_member, network, network_with_members},
        events::{schedule, wait_event, workshop},
        posts::{local_reply, local_topic, wait_stored},
        T,
    },
    visitor::{account_with_password, Visitor},
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};

/// The row id of the local person `name`.
async fn person_id(i: &TestInstance, name: &str) -> i64 {
    person::Entity::find()
        .filter(person::Column::Name.eq(name))
        .filter(person::Column::Local.eq(true))
        .one(i.db())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no local {name}"))
        .id
}

/// The notifications of the local person `name`, oldest first.
async fn notes_of(i: &TestInstance, name: &str) -> Vec<notification::Model> {
    let id = person_id(i, name).await;
    notification::Entity::find()
        .filter(notification::Column::PersonId.eq(id))
        .order_by_asc(notification::Column::Id)
        .all(i.db())
        .await
        .unwrap()
}

/// The kinds of `name`'s notifications, oldest first.
async fn kinds_of(i: &TestInstance, name: &str) -> Vec<NotificationKind> {
    notes_of(i, name).await.iter().map(|n| n.kind).collect()
}

/// Alpha with "net", where anyone may join, coordinated by ana; bob and cat are members.
async fn alpha() -> (TestInstance, String, String, String) {
    let a = TestInstance::spawn("alpha").await;
    let (ana, bob, cat) = network_with_members(&a).await;
    (a, ana, bob, cat)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_notifies_the_author_once_and_not_the_one_replying() {
    let (a, ana, bob, _) = alpha().await;
    let topic = local_topic(&a, &ana, "Budgets").await;
    // bob names ana as well: one notification, the reply.
    let r = local_reply(&a, &bob, &topic, "@ana we publish ours every quarter.").await;
    local_reply(&a, &ana, &topic, "Thanks, everyone.").await;
    let ana_notes: Vec<_> = notes_of(&a, "ana")
        .await
        .into_iter()
        .filter(|n| n.kind == NotificationKind::Reply || n.kind == NotificationKind::Mention)
        .collect();
    assert_eq!(ana_notes.len(), 1, "{ana_notes:?}");
    assert_eq!(ana_notes[0].kind, NotificationKind::Reply);
    assert_eq!(
        ana_notes[0].link,
        format!("/post/{}#p{}", topic["local_id"], r["local_id"])
    );
    assert!(ana_notes[0].text.starts_with("bob replied"));
    let bob_kinds = kinds_of(&a, "bob").await;
    assert!(
        !bob_kinds.contains(&NotificationKind::Reply),
        "{bob_kinds:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_notifies_the_person_named_and_not_the_author() {
    let (a, _, bob, _) = alpha().await;
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&bob),
            Some(json!({ "title": "Rotas", "content": "What do you think, @cat? And @bob?" })),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let cat = notes_of(&a, "cat").await;
    let mentions: Vec<_> = cat
        .iter()
        .filter(|n| n.kind == NotificationKind::Mention)
        .collect();
    assert_eq!(mentions.len(), 1, "{cat:?}");
    assert_eq!(mentions[0].text, "bob mentioned you in “Rotas”");
    assert!(!kinds_of(&a, "bob")
        .await
        .contains(&NotificationKind::Mention));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_cause_twice_notifies_once() {
    let (a, ana, bob, _) = alpha().await;
    let topic = local_topic(&a, &ana, "Budgets").await;
    let r = local_reply(&a, &bob, &topic, "Quarterly.").await;
    let row = copse_entities::post::Entity::find_by_id(r["local_id"].as_i64().unwrap())
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    // What a replayed activity would do: the same post reaches the store again.
    copse_federation::store::notifications::new_post(a.db(), &row)
        .await
        .unwrap();
    let replies = notes_of(&a, "ana")
        .await
        .into_iter()
        .filter(|n| n.kind == NotificationKind::Reply)
        .count();
    assert_eq!(replies, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_from_another_instance_notifies_the_local_author() {
    let (a, ana, _, _) = alpha().await;
    let b = TestInstance::spawn("beta").await;
    let dan = copse_member(&a, &b, "dan", "net").await;
    let topic = local_topic(&a, &ana, "Budgets").await;
    let on_b = wait_stored(&b, topic["id"].as_str().unwrap()).await;
    let (s, r) = b
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/replies", on_b.id),
            Some(&dan),
            Some(json!({ "content": "Ours go out every quarter." })),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    wait_for("ana's notification of dan's reply", T, || async {
        notes_of(&a, "ana")
            .await
            .iter()
            .any(|n| n.kind == NotificationKind::Reply)
    })
    .await;
    let n = notes_of(&a, "ana")
        .await
        .into_iter()
        .find(|n| n.kind == NotificationKind::Reply)
        .unwrap();
    assert!(n.text.starts_with("dan replied"), "{}", n.text);
    assert!(n
        .link
        .starts_with(&format!("/post/{}#p", topic["local_id"])));
    // dan has no account on alpha: nothing is written for him there.
    assert!(person::Entity::find()
        .filter(person::Column::Name.eq("dan"))
        .one(a.db())
        .await
        .unwrap()
        .is_some_and(|p| !p.local));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_requests_and_decisions_notify_coordinator_and_applicant() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    community(
        &a,
        &ana,
        "circle",
        json!({ "membership_policy": "approval" }),
    )
    .await;
    let mia = a.create_user("mia").await;
    let leo = a.create_user("leo").await;
    for t in [&mia, &leo] {
        let (s, body) = a.follow(t, format!("circle@{}", a.domain)).await;
        assert!(s == 200 || s == 202, "{s} {body}");
    }
    let requests: Vec<_> = notes_of(&a, "ana")
        .await
        .into_iter()
        .filter(|n| n.kind == NotificationKind::JoinRequest)
        .collect();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].link, "/c/circle/desk");
    assert!(kinds_of(&a, "mia").await.is_empty());

    let path = |who: i64, what: &str| format!("/api/v1/communities/circle/requests/{who}/{what}");
    let mia_id = person_id(&a, "mia").await;
    let leo_id = person_id(&a, "leo").await;
    let (s, _) = a
        .api(Method::POST, &path(mia_id, "approve"), Some(&ana), None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = a
        .api(
            Method::POST,
            &path(leo_id, "decline"),
            Some(&ana),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(
        kinds_of(&a, "mia").await,
        [NotificationKind::Welcome, NotificationKind::JoinDecided]
    );
    let mia_notes = notes_of(&a, "mia").await;
    assert!(mia_notes[1].text.contains("approved"));
    let leo_notes = notes_of(&a, "leo").await;
    assert_eq!(leo_notes.len(), 1);
    assert_eq!(leo_notes[0].kind, NotificationKind::JoinDecided);
    assert!(leo_notes[0].text.contains("declined"));
    // ana acted: she hears of neither decision.
    assert!(!kinds_of(&a, "ana")
        .await
        .iter()
        .any(|k| *k == NotificationKind::JoinDecided || *k == NotificationKind::Welcome));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_an_open_community_is_a_welcome() {
    let (a, _, _, _) = alpha().await;
    assert_eq!(kinds_of(&a, "bob").await, [NotificationKind::Welcome]);
    assert_eq!(notes_of(&a, "bob").await[0].link, "/c/net");
}

/// An event in net that bob is going to; its JSON.
async fn bobs_event(a: &TestInstance, ana: &str, bob: &str) -> Value {
    let created = schedule(a, ana, workshop()).await;
    let (s, body) = a
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/rsvp", created["id"]),
            Some(bob),
            Some(json!({ "going": true })),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    created
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_then_cancelled_event_notifies_those_going() {
    let (a, ana, bob, cat) = alpha().await;
    let created = bobs_event(&a, &ana, &bob).await;
    let (s, body) = a
        .api(
            Method::PATCH,
            &format!("/api/v1/events/{}", created["id"]),
            Some(&ana),
            Some(json!({ "start": "2027-06-15T19:00", "end": "2027-06-15T21:00" })),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = a
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/cancel", created["id"]),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let about: Vec<_> = notes_of(&a, "bob")
        .await
        .into_iter()
        .filter(|n| n.post_id == created["id"].as_i64())
        .collect();
    assert_eq!(
        about.iter().map(|n| n.kind).collect::<Vec<_>>(),
        [
            NotificationKind::EventChanged,
            NotificationKind::EventCancelled
        ]
    );
    assert_eq!(about[1].text, "“Launch workshop” has been cancelled");
    assert_eq!(about[1].link, format!("/post/{}", created["id"]));
    // cat is not going; ana made the changes.
    let _ = cat;
    assert!(!kinds_of(&a, "cat")
        .await
        .contains(&NotificationKind::EventChanged));
    assert!(!kinds_of(&a, "ana")
        .await
        .contains(&NotificationKind::EventCancelled));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_notifies_those_going_once() {
    let a = TestInstance::spawn_with("alpha", |s| s.events.reminder_lead_minutes = 120).await;
    let ana = a.create_user("ana").await;
    network(&a, &ana, "en").await;
    let bob = a.create_user("bob").await;
    a.follow(&bob, format!("net@{}", a.domain)).await;
    let clock = a.data().clock.clone();
    clock.set(Utc.with_ymd_and_hms(2027, 6, 1, 9, 0, 0).unwrap());
    bobs_event(&a, &ana, &bob).await;
    let data = a.data();
    // The event starts at 17:00 UTC; two hours before is 15:00.
    clock.set(Utc.with_ymd_and_hms(2027, 6, 15, 15, 1, 0).unwrap());
    copse_federation::actions::events::send_due_reminders(&data)
        .await
        .unwrap();
    copse_federation::actions::events::send_due_reminders(&data)
        .await
        .unwrap();
    let reminders: Vec<_> = notes_of(&a, "bob")
        .await
        .into_iter()
        .filter(|n| n.kind == NotificationKind::EventReminder)
        .collect();
    assert_eq!(reminders.len(), 1);
    assert!(reminders[0]
        .text
        .starts_with("Reminder: “Launch workshop” starts"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_event_elsewhere_notifies_a_local_participant() {
    let (a, ana, _, _) = alpha().await;
    let b = TestInstance::spawn("beta").await;
    let dan = copse_member(&a, &b, "dan", "net").await;
    let created = schedule(&a, &ana, workshop()).await;
    let (on_b, _) = wait_event(&b, created["ap_id"].as_str().unwrap()).await;
    let (s, body) = b
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/rsvp", on_b.id),
            Some(&dan),
            Some(json!({ "going": true })),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let url = format!("/api/v1/events/{}", created["id"]);
    wait_for("dan going on alpha", T, || async {
        a.api(Method::GET, &url, None, None).await.1["participant_count"] == 1
    })
    .await;
    let (s, body) = a
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/cancel", created["id"]),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    wait_for("dan's notification on beta", T, || async {
        kinds_of(&b, "dan")
            .await
            .contains(&NotificationKind::EventCancelled)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolved_report_notifies_the_reporter() {
    let (a, ana, bob, _) = alpha().await;
    let (s, topic) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&bob),
            Some(json!({ "title": "Cheap pills", "content": "Buy now." })),
        )
        .await;
    assert_eq!(s, 201, "{topic}");
    let cat = a.create_user("zed").await;
    let (s, _) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/reports", topic["local_id"]),
            Some(&cat),
            Some(json!({ "reason": "spam" })),
        )
        .await;
    assert_eq!(s, 202);
    let (_, queue) = a
        .api(
            Method::GET,
            "/api/v1/communities/net/reports",
            Some(&ana),
            None,
        )
        .await;
    let id = queue["items"][0]["id"].as_i64().unwrap();
    let (s, body) = a
        .api(
            Method::POST,
            &format!("/api/v1/reports/{id}/resolve"),
            Some(&ana),
            Some(json!({ "status": "resolved" })),
        )
        .await;
    assert_eq!(s, 204, "{body}");
    let zed = notes_of(&a, "zed").await;
    assert_eq!(zed.len(), 1, "{zed:?}");
    assert_eq!(zed[0].kind, NotificationKind::ReportResolved);
    assert_eq!(zed[0].text, "Your report in The net was resolved");
    assert!(!kinds_of(&a, "bob")
        .await
        .contains(&NotificationKind::ReportResolved));
}

/// Alpha where ana (who signs in with a password) has a reply from bob waiting.
async fn ana_with_a_reply() -> (TestInstance, String, String) {
    let a = TestInstance::spawn("alpha").await;
    let ana = account_with_password(&a, "ana", "correct horse battery").await;
    network(&a, &ana, "en").await;
    let bob = a.create_user("bob").await;
    a.follow(&bob, format!("net@{}", a.domain)).await;
    let topic = local_topic(&a, &ana, "Budgets <b>&</b> plans").await;
    local_reply(&a, &bob, &topic, "Quarterly.").await;
    (a, ana, bob)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_notifications_and_the_header_counts_them() {
    let (a, _, _) = ana_with_a_reply().await;
    let mut v = Visitor::new(&a);
    v.sign_in("ana", "correct horse battery").await;
    let page = v.get("/notifications").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("bob replied to you in “Budgets &#60;b&#62;&#38;&#60;/b&#62; plans”"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<span class=\"count\">1</span>"));
    assert!(page.body.contains("class=\"unread\""));
    assert!(page.body.contains("just now"));
    let n = &notes_of(&a, "ana").await[0];
    assert!(page.body.contains(&format!("href=\"{}\"", n.link)));
    // Showing them marks nothing read.
    assert!(notes_of(&a, "ana")
        .await
        .iter()
        .all(|n| n.read_at.is_none()));
    // And the header of any page counts them and links here.
    let home = v.get("/").await;
    assert!(home
        .body
        .contains("<a href=\"/notifications\">Notifications <span class=\"count\">1</span></a>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mark_all_read_marks_what_the_page_showed() {
    let (a, _, _) = ana_with_a_reply().await;
    let mut v = Visitor::new(&a);
    v.sign_in("ana", "correct horse battery").await;
    let page = v.get("/notifications").await;
    let csrf = page.csrf();
    let shown = page
        .body
        .split("name=\"up_to\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    // Another arrives after the page was drawn.
    let cat = a.create_user("cat").await;
    a.follow(&cat, format!("net@{}", a.domain)).await;
    let (s, _) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&cat),
            Some(json!({ "title": "Hello", "content": "Hi @ana" })),
        )
        .await;
    assert_eq!(s, 201);
    let refused = v
        .post(
            "/notifications/read",
            &[("csrf", "wrong"), ("up_to", &shown)],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(notes_of(&a, "ana")
        .await
        .iter()
        .all(|n| n.read_at.is_none()));
    let res = v
        .post("/notifications/read", &[("csrf", &csrf), ("up_to", &shown)])
        .await;
    assert_eq!(res.status, 303);
    let notes = notes_of(&a, "ana").await;
    let (read, unread): (Vec<_>, Vec<_>) = notes.iter().partition(|n| n.read_at.is_some());
    assert!(!read.is_empty());
    assert_eq!(unread.len(), 1, "{unread:?}");
    assert_eq!(unread[0].kind, NotificationKind::Mention);
    let page = v.get("/notifications").await;
    assert!(page.body.contains("<span class=\"count\">1</span>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_else_sees_someones_notifications() {
    let (a, _, _) = ana_with_a_reply().await;
    account_with_password(&a, "eve", "another long password").await;
    let mut eve = Visitor::new(&a);
    eve.sign_in("eve", "another long password").await;
    let page = eve.get("/notifications").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("bob replied"), "{}", page.body);
    assert!(page.body.contains("No notifications yet."));
    // Marking read as eve leaves ana's alone.
    let csrf = page.csrf();
    let up_to = i64::MAX.to_string();
    eve.post("/notifications/read", &[("csrf", &csrf), ("up_to", &up_to)])
        .await;
    assert!(notes_of(&a, "ana")
        .await
        .iter()
        .all(|n| n.read_at.is_none()));
    // Signed out, the page asks to sign in.
    let mut stranger = Visitor::new(&a);
    let res = stranger.get("/notifications").await;
    assert_ne!(res.status, 200);
    assert!(!res.body.contains("bob replied"));
}
