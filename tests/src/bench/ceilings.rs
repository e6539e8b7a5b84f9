//! The machine's own limits, measured in the same process on the same cores: openssl RSA-2048
//! sign and verify, a trivial axum handler on loopback, and database inserts.

use super::{load, measure::Stopwatch};
use crate::TestDb;
use chrono::Utc;
use copse_entities::{received_activity, received_activity::InboxStatus, DbUrl};
use copse_federation::signatures::{generate_keypair, PublicKey, SigningKey};
use sea_orm::{ActiveValue::NotSet, EntityTrait, Set, TransactionTrait};
use std::time::Instant;
use url::Url;

/// The ceilings, in operations per second.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Ceilings {
    /// RSA-2048 signatures per second, one thread.
    pub sign_1: f64,
    /// RSA-2048 signatures per second, one thread per core.
    pub sign_all: f64,
    /// Verifications per second, one thread.
    pub verify_1: f64,
    /// Verifications per second, one thread per core.
    pub verify_all: f64,
    /// Requests per second to a trivial handler, 64 connections.
    pub axum: f64,
    /// Inserts per second, one transaction per row.
    pub insert_single: f64,
    /// Inserts per second, 500 rows per transaction.
    pub insert_batched: f64,
}

fn rsa_rate(threads: usize, per_thread: usize, verify: bool) -> f64 {
    let (public, private) = generate_keypair().expect("keys");
    let key = SigningKey::from_pem(Url::parse("https://x.example/k").expect("url"), &private)
        .expect("key");
    let url = Url::parse("https://y.example/inbox").expect("url");
    let sample = key
        .sign("POST", &url, Some(b"{}"), Utc::now())
        .expect("sign");
    let public = PublicKey::from_pem(&public).expect("public");
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for i in 0..per_thread {
                    if verify {
                        let mut headers = http::HeaderMap::new();
                        headers.insert("host", "y.example".parse().expect("h"));
                        headers.insert("date", sample.date.parse().expect("h"));
                        headers.insert(
                            "digest",
                            sample
                                .digest
                                .clone()
                                .unwrap_or_default()
                                .parse()
                                .expect("h"),
                        );
                        headers.insert("signature", sample.signature.parse().expect("h"));
                        let req = copse_federation::signatures::RequestParts {
                            method: "POST",
                            path_and_query: "/inbox",
                            headers: &headers,
                            body: Some(b"{}"),
                        };
                        let sig = copse_federation::signatures::precheck(&req, Utc::now())
                            .expect("precheck");
                        copse_federation::signatures::verify(&sig, &req, &public).expect("verify");
                    } else {
                        let body = format!("{{\"n\":{i}}}");
                        key.sign("POST", &url, Some(body.as_bytes()), Utc::now())
                            .expect("sign");
                    }
                }
            });
        }
    });
    (threads * per_thread) as f64 / start.elapsed().as_secs_f64()
}

/// Measures every ceiling. `scale` shrinks the work for smoke runs.
pub async fn measure(db: &TestDb, scale: f64) -> Ceilings {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let n = ((2000.0 * scale) as usize).max(20);
    // Best of three: on a shared machine a single short run can catch a slow moment, and a
    // ceiling should be what the cores can do.
    let best = |threads: usize, per: usize, verify: bool| {
        (0..3)
            .map(|_| rsa_rate(threads, per, verify))
            .fold(0.0, f64::max)
    };
    let sign_1 = best(1, n, false);
    let sign_all = best(cores, n, false);
    let verify_1 = best(1, n * 4, true);
    let verify_all = best(cores, n * 4, true);
    let mut axum = 0.0f64;
    for _ in 0..3 {
        axum = axum.max(raw_axum(((20_000.0 * scale) as usize).max(200)).await);
    }
    let (insert_single, insert_batched) = inserts(db, scale).await;
    Ceilings {
        sign_1,
        sign_all,
        verify_1,
        verify_all,
        axum,
        insert_single,
        insert_batched,
    }
}

async fn raw_axum(requests: usize) -> f64 {
    let listener =
        copse_server::listen(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let url = format!("http://{addr}/");
    let sw = Stopwatch::start();
    let result = load::get_many(&load::client(None), vec![url; requests], 64).await;
    let rate = result.ok as f64 / sw.wall().as_secs_f64();
    server.abort();
    rate
}

fn row(i: usize, tag: &str) -> received_activity::ActiveModel {
    let now = Utc::now();
    received_activity::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(Url::parse(&format!("https://r.example/{tag}/{i}")).expect("url"))),
        actor: Set(DbUrl(Url::parse("https://r.example/u/a").expect("url"))),
        kind: Set("Like".into()),
        data: Set(format!("{{\"id\":\"https://r.example/{tag}/{i}\",\"type\":\"Like\",\"actor\":\"https://r.example/u/a\",\"object\":\"https://x.example/post/1\"}}")),
        status: Set(InboxStatus::Done),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        received_at: Set(now),
    }
}

async fn inserts(db: &TestDb, scale: f64) -> (f64, f64) {
    let mut settings = crate::test_settings("ceiling.localhost:1", &db.url);
    settings.federation.delivery_workers = 0;
    let conn = copse_server::db::connect(&settings).await.expect("connect");
    copse_server::db::migrate(&conn).await.expect("migrate");
    let single = ((2000.0 * scale) as usize).max(50);
    let start = Instant::now();
    for i in 0..single {
        let txn = copse_federation::context::begin(&conn)
            .await
            .expect("begin");
        received_activity::Entity::insert(row(i, "single"))
            .exec(&txn)
            .await
            .expect("insert");
        txn.commit().await.expect("commit");
    }
    let single_rate = single as f64 / start.elapsed().as_secs_f64();
    let batched = ((50_000.0 * scale) as usize).max(500);
    let start = Instant::now();
    for chunk in (0..batched).collect::<Vec<_>>().chunks(500) {
        let txn = conn.begin().await.expect("begin");
        received_activity::Entity::insert_many(chunk.iter().map(|i| row(*i, "batch")))
            .exec(&txn)
            .await
            .expect("insert");
        txn.commit().await.expect("commit");
    }
    let batched_rate = batched as f64 / start.elapsed().as_secs_f64();
    (single_rate, batched_rate)
}
