//! A host that accepts connections and never answers holds its own deliveries for the request
//! timeout, and not the deliveries to live hosts in the batches after its own.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{delivery, delivery_batch};
use copse_tests::{
    bench::{fanout::seed_followers, sink::Sink},
    wait_for, TestInstance,
};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

/// A loopback port that accepts every connection and never writes a byte. It keeps the
/// connections open until `hang_up`, and counts those the other end closed.
struct Silent {
    port: u16,
    held: Arc<Mutex<Vec<tokio::net::TcpStream>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Silent {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let held: Arc<Mutex<Vec<tokio::net::TcpStream>>> = Arc::default();
        let kept = held.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                kept.lock().unwrap().push(tcp);
            }
        });
        Self { port, held, task }
    }

    fn accepted(&self) -> usize {
        self.held.lock().unwrap().len()
    }

    /// True while every accepted connection is still open at the other end.
    fn all_open(&self) -> bool {
        let mut buf = [0u8; 4096];
        self.held.lock().unwrap().iter().all(|tcp| loop {
            // Past the request's bytes: end of stream means the client closed it, would-block
            // that it is still open.
            match tcp.try_read(&mut buf) {
                Ok(0) => return false,
                Ok(_) => continue,
                Err(e) => return e.kind() == std::io::ErrorKind::WouldBlock,
            }
        })
    }

    fn hang_up(&self) {
        self.held.lock().unwrap().clear();
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_never_answers_does_not_hold_the_next_batch() {
    // One worker, and a request timeout far beyond the test's wait: without leaving the silent
    // host behind, the second batch would wait for its timeout.
    let a = TestInstance::spawn_with("alpha", |s| {
        s.federation.request_timeout_seconds = 60;
        s.federation.lease_seconds = 120;
    })
    .await;
    let community = a.create_community("net", "London Networks").await;
    let token = a.create_user("ada").await;
    let sink = Sink::start().await;
    let silent = Silent::start().await;
    seed_followers(a.db(), &community, sink.port, 2, 2, true, "live").await;
    seed_followers(a.db(), &community, silent.port, 1, 1, true, "silent").await;

    // Each post goes out as two activities (both Announce forms) in one batch: each host gets
    // both over one connection. Two posts: two batches, the second behind the silent host.
    for title in ["Meetup", "Workshop"] {
        let (status, body) = a
            .api(
                reqwest::Method::POST,
                "/api/v1/communities/net/posts",
                Some(&token),
                Some(json!({ "title": title, "content": "Thursday" })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    wait_for(
        "both activities of both posts at both live hosts",
        Duration::from_secs(30),
        || async { sink.distinct() == 8 },
    )
    .await;
    wait_for(
        "the first form of each post tried at the silent host",
        Duration::from_secs(30),
        || async { silent.accepted() == 2 },
    )
    .await;
    assert!(
        silent.all_open(),
        "the live hosts were served while the silent host's request was still waiting"
    );

    // When the silent host hangs up, its deliveries are recorded for a retry and the batches go.
    silent.hang_up();
    wait_for(
        "the silent host's deliveries kept for retry",
        Duration::from_secs(30),
        || async {
            let rows = delivery::Entity::find().count(a.db()).await.unwrap();
            let batches = delivery_batch::Entity::find().count(a.db()).await.unwrap();
            rows == 4 && batches == 0
        },
    )
    .await;
    assert_eq!(sink.duplicates(), 0);
}
