//! Two worker processes on one PostgreSQL queue (as `copse worker` twice next to `copse serve`):
//! during a fan-out both take batches, every delivery arrives, and none arrives twice but for
//! the resends a lease allows.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::{extract::State, http::HeaderMap, http::Uri, Router};
use copse_federation::queue::{self, TARGETS_PER_BATCH};
use copse_tests::{wait_for, TestInstance};
use serde_json::json;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::task::JoinSet;
use url::Url;

/// Deliveries received, by `host/path`.
type Counts = Arc<Mutex<HashMap<String, usize>>>;

/// A remote inbox server for every `*.localhost` host on one port, counting what it receives.
/// It answers after a few milliseconds, as a server across a network would, so a batch takes
/// long enough for the other worker to look for work meanwhile.
async fn counting_inboxes() -> (u16, Counts) {
    async fn inbox(State(counts): State<Counts>, uri: Uri, headers: HeaderMap) -> &'static str {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        *counts
            .lock()
            .unwrap()
            .entry(format!("{host}{}", uri.path()))
            .or_default() += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
        ""
    }
    let listener = copse_server::listen(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let port = listener.local_addr().unwrap().port();
    let counts = Counts::default();
    let app = Router::new().fallback(inbox).with_state(counts.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_a_fan_out_on_postgresql() {
    if copse_tests::postgres_url().is_none() {
        println!("skipped: two worker processes need PostgreSQL (COPSE_TEST_DATABASE_URL)");
        return;
    }
    // The serving process runs no delivery workers; two worker processes do.
    let a = TestInstance::spawn_with("alpha", |s| s.federation.delivery_workers = 0).await;
    a.create_community("net", "London Networks").await;
    let mut worker_settings = a.settings.clone();
    worker_settings.federation.delivery_workers = 1;
    worker_settings.federation.inbox_workers = 0;
    let mut workers = Vec::new();
    let mut tasks = JoinSet::new();
    for _ in 0..2 {
        let config = copse_server::prepare(&worker_settings).await.unwrap();
        copse_server::spawn_workers(&mut tasks, &config, &worker_settings);
        workers.push(config);
    }

    // A fan-out to 8 batches' worth of inboxes on 16 hosts.
    let (port, counts) = counting_inboxes().await;
    let inboxes: Vec<Url> = (0..8 * TARGETS_PER_BATCH)
        .map(|i| Url::parse(&format!("http://h{}.localhost:{port}/u/{i}/inbox", i % 16)).unwrap())
        .collect();
    let total = inboxes.len();
    let ctx = &a.instance().config;
    let activity = copse_federation::protocol::WithContext::new(json!({
        "id": ctx.urls.new_activity("Announce"), "type": "Announce",
        "actor": ctx.urls.community("net"), "object": "http://example.localhost/x"
    }));
    queue::enqueue(a.db(), &ctx.urls, &activity, None, true, inboxes.clone())
        .await
        .unwrap();

    wait_for("every delivery", Duration::from_secs(120), || async {
        counts.lock().unwrap().len() == total
    })
    .await;
    wait_for("the queue to empty", Duration::from_secs(30), || async {
        a.queued_deliveries().await == 0
    })
    .await;
    let counts = counts.lock().unwrap().clone();
    for inbox in &inboxes {
        let key = format!("{}{}", inbox.authority(), inbox.path());
        assert!(
            counts.get(&key).is_some_and(|n| *n >= 1),
            "{key} got nothing"
        );
    }
    let received: usize = counts.values().sum();
    let duplicates = received - total;
    println!("{total} deliveries, {duplicates} duplicates");
    // A resend happens only when a lease runs out in the middle of a part of a batch.
    assert!(
        duplicates <= a.settings.federation.claim_batch as usize,
        "{duplicates} duplicates"
    );
    let delivered: Vec<u64> = workers
        .iter()
        .map(|w| {
            w.metrics
                .deliveries()
                .into_iter()
                .find(|(l, _)| *l == "delivered")
                .unwrap()
                .1
        })
        .collect();
    println!("delivered by each worker: {delivered:?}");
    assert!(
        delivered.iter().all(|n| *n > 0),
        "one worker did all the work: {delivered:?}"
    );
    assert_eq!(delivered.iter().sum::<u64>() as usize, received);
    tasks.shutdown().await;
}
