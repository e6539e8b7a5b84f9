//! Posts: stored-row lookups, Mastodon-style mention bodies, topics from either side.

use super::T;
use crate::{
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use copse_entities::post;
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use url::Url;

/// The stored post with this ActivityPub id, if any.
pub async fn stored(i: &TestInstance, ap_id: &str) -> Option<post::Model> {
    post::Entity::find()
        .filter(post::Column::ApId.eq(ap_id))
        .one(i.db())
        .await
        .unwrap()
}

/// Waits until the post with this id is stored on `i`, and returns it.
pub async fn wait_stored(i: &TestInstance, ap_id: &str) -> post::Model {
    wait_for("the stored post", T, || async {
        stored(i, ap_id).await.is_some()
    })
    .await;
    stored(i, ap_id).await.unwrap()
}

/// Mastodon's HTML for a status that mentions `group` as `@name`, then says `text`.
pub fn mention_named(group: &Url, name: &str, text: &str) -> String {
    format!(
        "<p><span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>{name}</span></a></span> {text}</p>"
    )
}

/// Mastodon's HTML for a status that mentions `group` as `@net`, then says `text` (a reply
/// to an event is such a status too).
pub fn mention(group: &Url, text: &str) -> String {
    mention_named(group, "net", text)
}

/// A Mastodon user who mentions `group` (as `@name`) with a topic; waits until it is stored.
pub async fn remote_topic(
    a: &TestInstance,
    fake: &FakeServer,
    who: &FakeActor,
    n: u32,
    group: &Url,
    name: &str,
) -> post::Model {
    let html = mention_named(group, name, "Budgets<br>How do you share yours?");
    let (note, create) = who.status(fake, n, group, &html, None);
    let inbox = Url::parse(&format!("{group}/inbox")).unwrap();
    assert_eq!(who.deliver(&a.client, &inbox, &create).await, 202);
    wait_stored(a, note["id"].as_str().unwrap()).await
}

/// A topic in `net` by the account with `token`; its JSON.
pub async fn local_topic(a: &TestInstance, token: &str, title: impl std::fmt::Display) -> Value {
    let (s, topic) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(token),
            Some(json!({ "title": title.to_string(), "content": "Text." })),
        )
        .await;
    assert_eq!(s, 201, "{topic}");
    topic
}

/// A reply by the account with `token` to the post whose JSON is `to`; the reply's JSON.
pub async fn local_reply(a: &TestInstance, token: &str, to: &Value, content: &str) -> Value {
    let (s, r) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/replies", to["local_id"]),
            Some(token),
            Some(json!({ "content": content })),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    r
}
