//! What Mastodon-compatible and group-aware servers see of Copse, one behaviour per test:
//! reports, announces sent back to their origin, settings changes, replies to remote people,
//! events, moderation from the other side.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{post, report};
use copse_tests::{
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

const T: Duration = Duration::from_secs(20);

async fn stored(i: &TestInstance, ap_id: &str) -> Option<post::Model> {
    post::Entity::find()
        .filter(post::Column::ApId.eq(ap_id))
        .one(i.db())
        .await
        .unwrap()
}

fn mention(group: &Url, name: &str, text: &str) -> String {
    format!(
        "<p><span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>{name}</span></a></span> {text}</p>"
    )
}

/// An open community `name` on `a` coordinated by the account with `token`.
async fn open_community(a: &TestInstance, token: &str, name: &str) -> Url {
    a.community_with(
        token,
        name,
        json!({ "membership_policy": "open", "topic_policy": "members", "reply_policy": "members" }),
    )
    .await;
    a.url(&format!("/c/{name}"))
}

/// A Mastodon user who mentions `group` with a topic, and waits until it is stored.
async fn remote_topic(
    a: &TestInstance,
    fake: &FakeServer,
    who: &FakeActor,
    n: u32,
    group: &Url,
    name: &str,
) -> post::Model {
    let html = mention(group, name, "Budgets<br>How do you share yours?");
    let (note, create) = who.status(fake, n, group, &html, None);
    let inbox = Url::parse(&format!("{group}/inbox")).unwrap();
    assert_eq!(who.deliver(&a.client, &inbox, &create).await, 202);
    let id = note["id"].as_str().unwrap().to_string();
    wait_for("the topic", T, || async { stored(a, &id).await.is_some() }).await;
    stored(a, &id).await.unwrap()
}

/// Waits until the inbox worker has handled everything received.
async fn settled(a: &TestInstance) {
    use copse_entities::received_activity::{Column, Entity, InboxStatus};
    wait_for("the inbox to settle", T, || async {
        Entity::find()
            .filter(Column::Status.eq(InboxStatus::Pending))
            .count(a.db())
            .await
            .unwrap()
            == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flag_naming_posts_reaches_only_their_community() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = open_community(&a, &ana, "net").await;
    let other = open_community(&a, &ana, "other").await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    a.follow_as(&fake, &mia, "masto", &net).await;
    a.follow_as(&fake, &mia, "masto", &other).await;
    let topic = remote_topic(&a, &fake, &mia, 1, &net, "net").await;

    // Mastodon's shape: from the instance actor, naming the account and its status.
    let masto = fake.actor("masto", "actor");
    let flag = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/flags/1", fake.base("masto")), "type": "Flag",
        "actor": masto.id, "content": "Spam, again",
        "object": [mia.id, topic.ap_id.0]
    });
    assert_eq!(masto.deliver(&a.client, &a.url("/inbox"), &flag).await, 202);
    wait_for("the report", T, || async {
        report::Entity::find().count(a.db()).await.unwrap() > 0
    })
    .await;
    settled(&a).await;
    let reports = report::Entity::find().all(a.db()).await.unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].community_id, topic.community_id);

    // A Flag naming only the account goes to the communities where they are a member.
    let flag = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/flags/2", fake.base("masto")), "type": "Flag",
        "actor": masto.id, "content": "Harassment", "object": [mia.id]
    });
    assert_eq!(masto.deliver(&a.client, &a.url("/inbox"), &flag).await, 202);
    wait_for("two more reports", T, || async {
        report::Entity::find().count(a.db()).await.unwrap() == 3
    })
    .await;
    let (s, body) = a
        .api(
            Method::GET,
            "/api/v1/communities/other/reports",
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1, "{body}");
}
