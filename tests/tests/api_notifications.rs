//! The notifications API: a reply to someone's topic shows in their list, newest first and
//! paged; marking read (all, or up to an id) lowers the unread count; nobody else's token sees
//! or marks them; the choice of mail is read and changed, with refusals naming the field; and
//! every route wants a token.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::local_user::{self, EmailChoice};
use copse_tests::{
    builders::{
        communities::network_with_members,
        posts::{local_reply, local_topic},
    },
    TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

/// Alpha with "net", where anyone may join, coordinated by ana; bob and cat are members.
async fn alpha() -> (TestInstance, String, String, String) {
    let a = TestInstance::spawn("alpha").await;
    let (ana, bob, cat) = network_with_members(&a).await;
    (a, ana, bob, cat)
}

/// `GET path` with `token`, which must answer 200; the body.
async fn get(a: &TestInstance, token: &str, path: &str) -> Value {
    let (s, body) = a.api(Method::GET, path, Some(token), None).await;
    assert_eq!(s, 200, "{path}: {body}");
    body
}

/// `POST /api/v1/notifications/read` with `body`, which must answer 200; the body.
async fn mark(a: &TestInstance, token: &str, body: Value) -> Value {
    let (s, marked) = a
        .api(
            Method::POST,
            "/api/v1/notifications/read",
            Some(token),
            Some(body),
        )
        .await;
    assert_eq!(s, 200, "{marked}");
    marked
}

fn ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_a_persons_topic_shows_in_their_notifications() {
    let (a, ana, bob, _) = alpha().await;
    let topic = local_topic(&a, &ana, "Budgets").await;
    let r = local_reply(&a, &bob, &topic, "We publish ours every quarter.").await;
    let list = get(&a, &ana, "/api/v1/notifications").await;
    assert_eq!(list["page"], 1);
    assert_eq!(list["unread_count"], 1, "{list:#}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list:#}");
    let n = &items[0];
    assert_eq!(n["kind"], "reply");
    assert_eq!(n["text"], "bob replied to you in “Budgets”");
    assert_eq!(
        n["link"],
        format!(
            "http://{}/post/{}#p{}",
            a.domain, topic["local_id"], r["local_id"]
        )
    );
    assert_eq!(n["post_id"], r["local_id"]);
    assert_eq!(n["actor"]["name"], "bob");
    assert_eq!(n["community"], a.url("/c/net").as_str());
    assert!(n["read_at"].is_null(), "{n}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marking_read_lowers_the_unread_count_up_to_the_id_given() {
    let (a, ana, bob, cat) = alpha().await;
    let topic = local_topic(&a, &ana, "Budgets").await;
    local_reply(&a, &bob, &topic, "Quarterly.").await;
    local_reply(&a, &cat, &topic, "Monthly.").await;
    local_reply(&a, &bob, &topic, "Or yearly.").await;
    let list = get(&a, &ana, "/api/v1/notifications").await;
    assert_eq!(list["unread_count"], 3);
    let all = ids(&list);
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0] > w[1]), "newest first: {all:?}");
    // Pages of two: the third, oldest, is alone on page 2.
    let first = get(&a, &ana, "/api/v1/notifications?limit=2").await;
    assert_eq!(ids(&first), all[..2]);
    let second = get(&a, &ana, "/api/v1/notifications?limit=2&page=2").await;
    assert_eq!(second["page"], 2);
    assert_eq!(ids(&second), all[2..]);

    // Up to the middle one: the two oldest are read, the newest stays unread.
    let marked = mark(&a, &ana, json!({ "up_to": all[1] })).await;
    assert_eq!(
        (marked["marked"].as_u64(), marked["unread_count"].as_u64()),
        (Some(2), Some(1))
    );
    let unread = get(&a, &ana, "/api/v1/notifications?unread=true").await;
    assert_eq!(unread["unread_count"], 1);
    assert_eq!(ids(&unread), vec![all[0]]);
    let list = get(&a, &ana, "/api/v1/notifications?unread=false").await;
    assert_eq!(ids(&list), all);
    assert!(list["items"][0]["read_at"].is_null());
    assert!(list["items"][2]["read_at"].is_string(), "{list:#}");

    // `{}` marks the rest; marking again marks nothing.
    let marked = mark(&a, &ana, json!({})).await;
    assert_eq!(
        (marked["marked"].as_u64(), marked["unread_count"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(mark(&a, &ana, json!({})).await["marked"], 0);
    let unread = get(&a, &ana, "/api/v1/notifications?unread=true").await;
    assert!(ids(&unread).is_empty());
    assert_eq!(unread["unread_count"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_persons_token_neither_sees_nor_marks_them() {
    let (a, ana, bob, cat) = alpha().await;
    let topic = local_topic(&a, &ana, "Budgets").await;
    local_reply(&a, &bob, &topic, "Quarterly.").await;
    let anas = ids(&get(&a, &ana, "/api/v1/notifications").await);
    assert_eq!(anas.len(), 1);
    for token in [&bob, &cat] {
        let theirs = get(&a, token, "/api/v1/notifications").await;
        let items = theirs["items"].as_array().unwrap();
        assert!(
            items
                .iter()
                .all(|n| n["kind"] != "reply" && !anas.contains(&n["id"].as_i64().unwrap())),
            "{theirs:#}"
        );
        // Marking "up to" ana's id marks only their own.
        mark(&a, token, json!({ "up_to": anas[0] })).await;
        mark(&a, token, json!({})).await;
    }
    let list = get(&a, &ana, "/api/v1/notifications?unread=true").await;
    assert_eq!(list["unread_count"], 1, "{list:#}");
    assert_eq!(ids(&list), anas);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_choice_of_mail_is_read_and_changed_and_a_field_left_out_is_kept() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let path = "/api/v1/me/notification-settings";
    let now = get(&a, &ana, path).await;
    assert_eq!(now["email"], Value::Null);
    assert_eq!(now["email_notifications"], "none");
    assert!(now["instance_sends_mail"].is_boolean());
    let put = |body: Value| a.api(Method::PUT, path, Some(&ana), Some(body));
    let (s, body) = put(json!({ "email": "ana@x.test", "email_notifications": "digest" })).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        (body["email"].as_str(), body["email_notifications"].as_str()),
        (Some("ana@x.test"), Some("digest"))
    );
    // The settings page reads the same row.
    let user = local_user::Entity::find()
        .filter(local_user::Column::Email.eq("ana@x.test"))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.email_notifications, EmailChoice::Digest);
    let (s, body) = put(json!({ "email_notifications": "each" })).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["email"], "ana@x.test");
    assert_eq!(get(&a, &ana, path).await["email_notifications"], "each");
    // Clearing the address asks for no mail as well.
    let (s, body) = put(json!({ "email": "", "email_notifications": "none" })).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["email"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_answers_422_naming_the_field() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let path = "/api/v1/me/notification-settings";
    let cases = [
        (
            Method::PUT,
            path,
            json!({ "email": "ana@x.test", "email_notifications": "weekly" }),
            "email_notifications",
        ),
        (
            Method::PUT,
            path,
            json!({ "email_notifications": "each" }),
            "email",
        ),
        (
            Method::PUT,
            path,
            json!({ "email": "not an address" }),
            "email",
        ),
        (
            Method::POST,
            "/api/v1/notifications/read",
            json!({ "up_to": 0 }),
            "up_to",
        ),
    ];
    for (method, path, body, field) in cases {
        let (s, e) = a.api(method, path, Some(&ana), Some(body.clone())).await;
        assert_eq!((s, e["field"].as_str()), (422, Some(field)), "{body}: {e}");
        assert!(e["error"].is_string());
    }
    for query in ["limit=1000", "page=0"] {
        let (s, e) = a
            .api(
                Method::GET,
                &format!("/api/v1/notifications?{query}"),
                Some(&ana),
                None,
            )
            .await;
        assert_eq!(s, 422, "{query}: {e}");
        assert_eq!(e["field"], query.split('=').next().unwrap());
    }
    // Not a value of the right type at all: 400, still naming the field.
    let (s, e) = a
        .api(
            Method::GET,
            "/api/v1/notifications?unread=maybe",
            Some(&ana),
            None,
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("unread")), "{e}");
    let (s, e) = a
        .api(
            Method::PUT,
            path,
            Some(&ana),
            Some(json!({ "email_choice": "each" })),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("email_choice")), "{e}");
    // Nothing was stored by the refusals.
    assert_eq!(get(&a, &ana, path).await["email_notifications"], "none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_notification_route_wants_a_token() {
    let a = TestInstance::spawn("alpha").await;
    let routes = [
        (Method::GET, "/api/v1/notifications", None),
        (Method::POST, "/api/v1/notifications/read", Some(json!({}))),
        (Method::GET, "/api/v1/me/notification-settings", None),
        (
            Method::PUT,
            "/api/v1/me/notification-settings",
            Some(json!({ "email_notifications": "none" })),
        ),
    ];
    for (method, path, body) in routes {
        for token in [None, Some("not-a-token")] {
            let (s, e) = a.api(method.clone(), path, token, body.clone()).await;
            assert_eq!(s, 401, "{method} {path} {token:?}: {e}");
            assert_eq!(e["error"], "a valid bearer token is required");
        }
    }
}
