//! Golden tests: every kind of document Copse sends or serves, compared byte for byte with the
//! examples under `docs/federation/examples/`, which FEDERATION.md and `docs/federation/` show.
//! A change that alters a byte fails here with a diff; `COPSE_BLESS=1 cargo test -p
//! copse-tests --test golden` rewrites the files when the change is meant.
//!
//! Each test starts fresh instances on the fixed clock and drives them in a fixed order, so
//! row ids and clock times are the same on every run and on both databases.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod actors;
mod events;
mod following;
mod membership;
mod notes;
mod people;
mod posts;

use copse_tests::{fake::FakeServer, golden::fixed_time, wait_for, TestInstance};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

/// How long a delivery may take.
const T: Duration = Duration::from_secs(20);

/// An instance on the fixed clock.
async fn spawn(name: &str) -> TestInstance {
    let i = TestInstance::spawn(name).await;
    i.data().clock.set(fixed_time());
    i
}

/// A community `name` coordinated by `token`, with these settings.
async fn community(a: &TestInstance, token: &str, name: &str, settings: Value) -> Url {
    a.community_with(token, name, settings).await;
    a.url(&format!("/c/{name}"))
}

/// An open community where anyone may post.
async fn open(a: &TestInstance, token: &str, name: &str) -> Url {
    community(
        a,
        token,
        name,
        json!({ "membership_policy": "open", "topic_policy": "anyone", "reply_policy": "anyone" }),
    )
    .await
}

/// Waits for the first body POSTed under `label` that `pred` picks.
async fn delivered(
    fake: &FakeServer,
    label: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    wait_for(what, T, || async { fake.posted(label).iter().any(&pred) }).await;
    fake.posted(label).into_iter().find(|v| pred(v)).unwrap()
}

/// Waits for the first activity `b` received of `kind` that `pred` picks.
async fn received(
    b: &TestInstance,
    kind: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    wait_for(what, T, || async {
        b.received(kind).await.iter().any(&pred)
    })
    .await;
    b.received(kind)
        .await
        .into_iter()
        .find(|v| pred(v))
        .unwrap()
}

/// GETs an ActivityPub document, which must be there.
async fn served(a: &TestInstance, url: &str) -> Value {
    let (s, doc) = a.get_ap(&Url::parse(url).unwrap()).await;
    assert_eq!(s, 200, "{url}: {doc}");
    doc
}

/// GETs a document with a plain `Accept: */*`, as discovery clients do.
async fn fetched(a: &TestInstance, url: &str) -> (String, String) {
    let res = a.client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (kind, res.text().await.unwrap())
}

/// Calls the API and checks the status.
async fn call(
    a: &TestInstance,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let (s, out) = a.api(method, path, Some(token), body).await;
    assert_eq!(s, status, "{path}: {out}");
    out
}

/// Starts a topic in a local community.
async fn topic(a: &TestInstance, token: &str, community: &str, title: &str, body: &str) -> Value {
    call(
        a,
        Method::POST,
        &format!("/api/v1/communities/{community}/posts"),
        token,
        Some(json!({ "title": title, "content": body })),
        201,
    )
    .await
}

/// Replies to a post.
async fn reply(a: &TestInstance, token: &str, to: i64, body: &str) -> Value {
    call(
        a,
        Method::POST,
        &format!("/api/v1/posts/{to}/replies"),
        token,
        Some(json!({ "content": body })),
        201,
    )
    .await
}

/// The local id of a post's JSON from the API.
fn local_id(post: &Value) -> i64 {
    post["local_id"]
        .as_i64()
        .or_else(|| post["id"].as_i64())
        .unwrap()
}
