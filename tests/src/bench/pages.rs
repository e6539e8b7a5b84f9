//! The pages people see signed in, which the response cache never answers (a session cookie
//! passes it by): the pages of random communities among many, one topic with 200 replies, and
//! the notifications page of a person with many notifications.

use super::{
    load::{self, Request},
    measure::{Row, Stopwatch},
};
use crate::{
    visitor::{account_with_password, Visitor},
    TestInstance,
};
use copse_entities::{notification::NotificationKind, person};
use copse_federation::store::notifications::{notify, Notice};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

const PASSWORD: &str = "a long enough password";

/// Runs `per_endpoint` signed-in requests against each page; `communities` seeded ones are
/// named `c0`… and `token` may post in the community `reads`.
pub async fn run(
    a: &TestInstance,
    db_name: &str,
    per_endpoint: usize,
    communities: usize,
    token: &str,
    axum_ceiling: f64,
) -> Vec<Row> {
    let topic = topic_with_replies(a, token, 200).await;
    account_with_password(a, "member", PASSWORD).await;
    notifications_for(a, "member", topic, 200).await;
    let mut v = Visitor::new(a);
    v.sign_in("member", PASSWORD).await;
    let cookie = format!(
        "copse_session={}",
        v.cookie("copse_session").expect("a session cookie")
    );
    let pick = |k: usize, n: usize| (k * 7919 + 17) % n.max(1);
    let pages = [
        (
            format!("signed-in community page of {communities}"),
            (0..per_endpoint)
                .map(|k| a.url(&format!("/c/c{}", pick(k, communities))).to_string())
                .collect::<Vec<_>>(),
        ),
        (
            "signed-in topic with 200 replies".to_string(),
            vec![a.url(&format!("/post/{topic}")).to_string(); per_endpoint],
        ),
        (
            "signed-in notifications page (200 notifications)".to_string(),
            vec![a.url("/notifications").to_string(); per_endpoint],
        ),
    ];
    let client = load::client_for(a);
    let mut rows = Vec::new();
    for (name, urls) in pages {
        let reqs: Vec<Request> = urls
            .into_iter()
            .map(|url| Request {
                url,
                headers: vec![
                    ("Accept".into(), "text/html".into()),
                    ("Cookie".into(), cookie.clone()),
                ],
                body: None,
            })
            .collect();
        let sw = Stopwatch::start();
        let mut res = load::run(&client, reqs, 64).await;
        assert_eq!(res.ok as usize, per_endpoint, "{name}: {:?}", res.errors);
        rows.push(
            Row::new(
                db_name,
                &format!("read {name}, 64 connections"),
                res.ok,
                &sw,
            )
            .against("raw axum", axum_ceiling)
            .latencies(&mut res.latencies),
        );
    }
    rows
}

/// A topic in `reads` with `replies` replies; returns its row id.
async fn topic_with_replies(a: &TestInstance, token: &str, replies: usize) -> i64 {
    let (s, topic) = a
        .api(
            reqwest::Method::POST,
            "/api/v1/communities/reads/posts",
            Some(token),
            Some(json!({ "title": "A long thread", "content": "Where do we start?" })),
        )
        .await;
    assert_eq!(s, 201, "{topic}");
    let id = topic["local_id"].as_i64().expect("local_id");
    for i in 0..replies {
        let (s, body) = a
            .api(
                reqwest::Method::POST,
                &format!("/api/v1/posts/{id}/replies"),
                Some(token),
                Some(json!({ "content": format!("Reply {i}: some **markdown** and a [link](https://example.org/).") })),
            )
            .await;
        assert_eq!(s, 201, "{body}");
    }
    id
}

/// Gives the local person `name` `count` notifications of replies to the topic `topic`.
async fn notifications_for(a: &TestInstance, name: &str, topic: i64, count: usize) {
    let who = person::Entity::find()
        .filter(person::Column::Name.eq(name))
        .filter(person::Column::Local.eq(true))
        .one(a.db())
        .await
        .expect("find the person")
        .expect("a local person");
    let now = chrono::Utc::now();
    for i in 0..count {
        let notice = Notice {
            kind: NotificationKind::Reply,
            community_id: None,
            post_id: Some(topic),
            actor_id: None,
            text: format!("Reply {i} to your topic A long thread"),
            link: format!("/post/{topic}"),
            key: format!("bench-{i}"),
        };
        notify(a.db(), who.id, &notice, now)
            .await
            .expect("write a notification");
    }
}
