//! Request limits against hostile clients, over raw TCP: trickled bodies time out (408), an
//! address may hold only so many inbox requests at once (429), oversized bodies are refused
//! before they are read (413, also chunked), and public documents too large for the response
//! cache are still served whole. Each case checks the status, that nothing was stored, and
//! that no request left this server.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{community, post, received_activity};
use copse_tests::{
    fake::FakeServer,
    raw::{RawAnswer, RawConn},
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};
use std::{net::IpAddr, time::Duration};

/// Stored rows a hostile request could have added.
async fn rows(a: &TestInstance) -> (u64, u64, u64) {
    (
        received_activity::Entity::find()
            .count(a.db())
            .await
            .unwrap(),
        community::Entity::find().count(a.db()).await.unwrap(),
        post::Entity::find().count(a.db()).await.unwrap(),
    )
}

/// The request head of a POST with a body of `length` bytes.
fn post_head(a: &TestInstance, path: &str, length: usize, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n{extra}\r\n",
        a.domain
    )
}

/// Starts a request whose body then arrives one byte every 100 ms (while no answer comes), and
/// returns the answer.
async fn trickle(a: &TestInstance, path: &str, extra: &str) -> (RawAnswer, RawConn) {
    let mut conn = RawConn::connect(a.instance().addr, None).await;
    conn.send(post_head(a, path, 1000, extra).as_bytes())
        .await
        .unwrap();
    for _ in 0..100 {
        if let Some(answer) = conn.answer(Duration::from_millis(100)).await {
            return (answer, conn);
        }
        conn.send(b"{").await.expect("the server is still reading");
    }
    panic!("no answer while the body trickled in for 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_bodies_time_out_with_408() {
    let a = TestInstance::spawn_with("alpha", |s| s.http.body_read_timeout_seconds = 1).await;
    a.create_community("net", "London Networks").await;
    let ana = a.create_user("ana").await;
    let fake = FakeServer::start().await;
    let before = rows(&a).await;
    let started = tokio::time::Instant::now();
    let (answer, mut conn) = trickle(&a, "/inbox", "").await;
    assert_eq!(answer.status, 408, "{}", answer.head);
    assert_eq!(answer.header("connection").as_deref(), Some("close"));
    let body: Value = serde_json::from_slice(&conn.body(&answer, Duration::from_secs(2)).await)
        .expect("a JSON error");
    assert!(
        body["error"].is_string() && body["field"].is_null(),
        "{body}"
    );
    assert!(conn.closed(Duration::from_secs(2)).await);
    assert!(started.elapsed() < Duration::from_secs(8));
    // The API's bodies have the same deadline.
    let auth = format!("Authorization: Bearer {ana}\r\n");
    let (answer, _) = trickle(&a, "/api/v1/communities", &auth).await;
    assert_eq!(answer.status, 408, "{}", answer.head);
    assert_eq!(rows(&a).await, before, "nothing was stored");
    assert!(fake.requests().is_empty());
    // A body sent at once is still read.
    let (s, _) = a
        .api(
            Method::POST,
            "/api/v1/communities",
            Some(&ana),
            Some(json!({ "name": "quick", "title": "Quick" })),
        )
        .await;
    assert_eq!(s, 201);
}

/// Opens an inbox request from `from` whose body never comes, so it stays in progress.
async fn held_inbox_request(a: &TestInstance, from: Option<IpAddr>) -> RawConn {
    let mut conn = RawConn::connect(a.instance().addr, from).await;
    conn.send(post_head(a, "/inbox", 1000, "").as_bytes())
        .await
        .unwrap();
    conn.send(b"{\"type\":").await.unwrap();
    conn
}

/// A whole unsigned inbox POST from `from`; its answer.
async fn inbox_post(a: &TestInstance, from: Option<IpAddr>) -> RawAnswer {
    let mut conn = RawConn::connect(a.instance().addr, from).await;
    conn.send(format!("{}{{}}", post_head(a, "/inbox", 2, "")).as_bytes())
        .await
        .unwrap();
    conn.answer(Duration::from_secs(5))
        .await
        .expect("an answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_may_hold_only_so_many_inbox_requests() {
    let a = TestInstance::spawn_with("alpha", |s| {
        s.http.inbox_requests_per_client = 2;
        s.http.body_read_timeout_seconds = 60;
    })
    .await;
    let fake = FakeServer::start().await;
    let before = rows(&a).await;
    let held = vec![
        held_inbox_request(&a, None).await,
        held_inbox_request(&a, None).await,
    ];
    // Once both are in progress, a third from the same address is turned away at once.
    wait_for(
        "a 429 for the third request",
        Duration::from_secs(10),
        || async { inbox_post(&a, None).await.status == 429 },
    )
    .await;
    let refused = inbox_post(&a, None).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after").as_deref(), Some("10"));
    // Another address is not held back: its unsigned request gets the usual 401.
    let other: IpAddr = "127.0.0.2".parse().unwrap();
    assert_eq!(inbox_post(&a, Some(other)).await.status, 401);
    // The API is not limited by inbox requests.
    let (s, _) = a
        .api(Method::GET, "/api/v1/communities/none", None, None)
        .await;
    assert_eq!(s, 404);
    // When the held requests go away, their address may send again.
    drop(held);
    wait_for(
        "the slots to be given back",
        Duration::from_secs(10),
        || async { inbox_post(&a, None).await.status == 401 },
    )
    .await;
    assert_eq!(rows(&a).await, before);
    assert!(fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_address_behind_a_proxy_is_the_one_it_names() {
    let a = TestInstance::spawn_with("alpha", |s| {
        s.http.inbox_requests_per_client = 1;
        s.http.body_read_timeout_seconds = 60;
        s.http.client_address_header = "x-forwarded-for".into();
    })
    .await;
    // Both connections come from the proxy (127.0.0.1) on behalf of different clients.
    let mut held = RawConn::connect(a.instance().addr, None).await;
    let head = post_head(&a, "/inbox", 1000, "X-Forwarded-For: 192.0.2.1\r\n");
    held.send(head.as_bytes()).await.unwrap();
    let send = |client: &'static str| {
        let a = &a;
        async move {
            let mut c = RawConn::connect(a.instance().addr, None).await;
            let head = post_head(a, "/inbox", 2, &format!("X-Forwarded-For: {client}\r\n"));
            c.send(format!("{head}{{}}").as_bytes()).await.unwrap();
            c.answer(Duration::from_secs(5)).await.unwrap().status
        }
    };
    wait_for(
        "a 429 for the held client",
        Duration::from_secs(10),
        || async { send("203.0.113.5, 192.0.2.1").await == 429 },
    )
    .await;
    assert_eq!(
        send("192.0.2.2").await,
        401,
        "another client behind the proxy"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_before_they_are_read() {
    // T13. A small limit, so the chunked bodies below fit in the socket buffers.
    let a = TestInstance::spawn_with("alpha", |s| s.federation.max_body_bytes = 64 * 1024).await;
    let ana = a.create_user("ana").await;
    let fake = FakeServer::start().await;
    let before = rows(&a).await;
    let auth = format!("Authorization: Bearer {ana}\r\n");
    for (path, extra) in [("/inbox", ""), ("/api/v1/communities", auth.as_str())] {
        // A declared 5 MB body: the answer comes before any of it is sent.
        let mut conn = RawConn::connect(a.instance().addr, None).await;
        conn.send(post_head(&a, path, 5 * 1024 * 1024, extra).as_bytes())
            .await
            .unwrap();
        let answer = conn.answer(Duration::from_secs(5)).await.expect("answer");
        assert_eq!(answer.status, 413, "{path}: {}", answer.head);
        // A chunked body with no length, over the limit.
        let mut conn = RawConn::connect(a.instance().addr, None).await;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n{extra}\r\n",
            a.domain
        );
        let mut req = head.into_bytes();
        for _ in 0..16 {
            req.extend_from_slice(format!("{:x}\r\n", 8192).as_bytes());
            req.extend_from_slice(&[b' '; 8192]);
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"0\r\n\r\n");
        let _ = conn.send(&req).await;
        let answer = conn.answer(Duration::from_secs(5)).await.expect("answer");
        assert_eq!(answer.status, 413, "{path} chunked: {}", answer.head);
        let body: Value =
            serde_json::from_slice(&conn.body(&answer, Duration::from_secs(2)).await).unwrap();
        assert!(body["error"].is_string(), "{body}");
    }
    assert_eq!(rows(&a).await, before);
    assert!(fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_too_large_for_the_cache_are_served_whole() {
    // A 1 MiB cache keeps bodies up to 128 KiB; this thread's page is well over that (and
    // over the 256 KiB that used to fail with an empty 500).
    let a = TestInstance::spawn_with("alpha", |s| {
        s.http.cache_ms = 60_000;
        s.http.cache_max_bytes = 1024 * 1024;
    })
    .await;
    a.create_community("net", "London Networks").await;
    let ana = a.create_user("ana").await;
    let long = |i: usize| format!("Part {i} marker-{i}. {}", "Long notes. ".repeat(8000));
    let (s, topic) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&ana),
            Some(json!({ "title": "Long topic", "content": long(0) })),
        )
        .await;
    assert_eq!(s, 201);
    for i in 1..3 {
        let (s, _) = a
            .api(
                Method::POST,
                &format!("/api/v1/posts/{}/replies", topic["local_id"]),
                Some(&ana),
                Some(json!({ "content": long(i) })),
            )
            .await;
        assert_eq!(s, 201);
    }
    let page = format!("/post/{}", topic["local_id"]);
    for path in [page.clone(), page.clone(), format!("{page}?junk=1")] {
        let res = a.client.get(a.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let html = res.text().await.unwrap();
        assert!(html.len() > 256 * 1024, "{path}: {} bytes", html.len());
        for i in 0..3 {
            assert!(html.contains(&format!("marker-{i}")), "{path}: part {i}");
        }
    }
    for _ in 0..2 {
        let res = a
            .client
            .get(a.url("/c/net?tag=none&x=y"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(!html.contains("Long topic"), "the tag filters the topics");
    }
}
