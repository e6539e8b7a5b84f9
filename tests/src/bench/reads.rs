//! Reads under 64 concurrent connections: WebFinger, the Group actor, an outbox page and the
//! community's HTML page.

use super::{
    load::{self, Request},
    measure::{Row, Stopwatch},
};
use crate::TestInstance;
use serde_json::json;

/// Runs `per_endpoint` requests against each endpoint.
pub async fn run(
    a: &TestInstance,
    db_name: &str,
    per_endpoint: usize,
    axum_ceiling: f64,
) -> Vec<Row> {
    a.create_community("reads", "Reads").await;
    let token = a.create_user("reader").await;
    for i in 0..30 {
        let (s, _) = a
            .api(
                reqwest::Method::POST,
                "/api/v1/communities/reads/posts",
                Some(&token),
                Some(json!({ "title": format!("Post {i}"), "content": "Some **markdown** text.\n\nA second paragraph." })),
            )
            .await;
        assert_eq!(s, 201);
    }
    let endpoints = [
        (
            "WebFinger",
            a.url(&format!(
                "/.well-known/webfinger?resource=acct:reads@{}",
                a.domain
            )),
            "application/jrd+json",
        ),
        (
            "Group actor",
            a.url("/c/reads"),
            "application/activity+json",
        ),
        (
            "outbox page",
            a.url("/c/reads/outbox"),
            "application/activity+json",
        ),
        ("community HTML", a.url("/c/reads"), "text/html"),
    ];
    // Remote servers and browsers keep their connections open: open the 64 connections first
    // (on a document none of the measured endpoints share a cache entry with), so that p99 is
    // the answer time and not 64 TCP handshakes at once.
    let client = load::client_for(a);
    let warm = load::get_many(
        &client,
        vec![a.url("/.well-known/nodeinfo").to_string(); 256],
        64,
    )
    .await;
    assert_eq!(warm.ok, 256, "{:?}", warm.errors);
    let mut rows = Vec::new();
    for (name, url, accept) in endpoints {
        let reqs: Vec<Request> = (0..per_endpoint)
            .map(|_| Request {
                url: url.to_string(),
                headers: vec![("Accept".into(), accept.into())],
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
