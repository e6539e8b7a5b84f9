//! The machine's own limits, measured in the same process on the same cores: openssl RSA-2048
//! sign and verify, a trivial axum handler on loopback, unsigned deliveries into the bench sink,
//! and database inserts.

use super::{load, measure::Stopwatch, sink::Sink};
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
    /// Unsigned deliveries per second into the bench sink, each over a new connection.
    pub post_new: f64,
    /// Unsigned deliveries per second into the bench sink over kept-alive connections.
    pub post_kept: f64,
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

impl Ceilings {
    /// The most deliveries per second a fan-out could reach on these cores if Copse itself cost
    /// nothing: every delivery is signed and carried (the sink's end included), and
    /// `connections` of the `deliveries` open a connection. Both share the same cores, so their
    /// times per delivery add up.
    pub fn delivery_bound(&self, deliveries: usize, connections: usize) -> f64 {
        let n = deliveries.max(1) as f64;
        let new = (connections as f64).min(n) / n;
        let per_delivery = 1.0 / self.sign_all.max(1e-9)
            + new / self.post_new.max(1e-9)
            + (1.0 - new) / self.post_kept.max(1e-9);
        1.0 / per_delivery
    }
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
    // As many new connections as the fan-out opens: each stays idle in the client's pool until
    // the run ends, and more would leave their memory to the fan-out's peak.
    let fresh = ((1000.0 * scale) as usize).max(50);
    let kept = ((4000.0 * scale) as usize).max(100);
    let (mut post_new, mut post_kept) = (0.0f64, 0.0f64);
    for _ in 0..3 {
        post_new = post_new.max(transport(fresh, true).await);
        post_kept = post_kept.max(transport(kept, false).await);
    }
    Ceilings {
        sign_1,
        sign_all,
        verify_1,
        verify_all,
        axum,
        post_new,
        post_kept,
        insert_single,
        insert_batched,
    }
}

/// Requests in flight in the transport ceilings, as in the raw axum one.
const CONCURRENCY: usize = 64;

/// Unsigned deliveries per second through Copse's delivery client into the bench sink, 64 at a
/// time: each to a host not seen before (so each opens a connection), or over kept-alive
/// connections. Body and headers are the size of a fan-out's Announce (2.4–2.9 kB and a
/// real signature header), so only the signing is left out.
async fn transport(requests: usize, new_connections: bool) -> f64 {
    let sink = Sink::start().await;
    let settings = copse_federation::FederationSettings::new("ceiling.localhost", true);
    let client = copse_federation::http::deliver::DeliveryClient::new(&settings).expect("client");
    let (_, private) = generate_keypair().expect("keys");
    let key = SigningKey::from_pem(Url::parse("https://x.example/k").expect("url"), &private)
        .expect("key");
    let body = bytes::Bytes::from(format!(
        "{{\"id\":\"http://ceiling.localhost/activities/1\",\"pad\":\"{}\"}}",
        "x".repeat(2600)
    ));
    let url = Url::parse("http://h.localhost/inbox").expect("url");
    let signed = std::sync::Arc::new(
        key.sign("POST", &url, Some(&body), Utc::now())
            .expect("sign"),
    );
    let post = move |client: copse_federation::http::deliver::DeliveryClient, i: usize| {
        // Over kept-alive connections each lane keeps to its own host.
        let host = if new_connections {
            format!("n{i}")
        } else {
            format!("k{}", i % CONCURRENCY)
        };
        let (signed, body) = (signed.clone(), body.clone());
        async move {
            let url =
                Url::parse(&format!("http://{host}.localhost:{}/inbox", sink.port)).expect("url");
            let headers = copse_federation::queue::send::headers(&signed);
            client.post(&url, &headers, &body).await
        }
    };
    if !new_connections {
        for lane in 0..CONCURRENCY {
            post(client.clone(), lane).await.expect("warm-up");
        }
    }
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sw = Stopwatch::start();
    let mut lanes = tokio::task::JoinSet::new();
    for lane in 0..CONCURRENCY {
        let (client, next, post) = (client.clone(), next.clone(), post.clone());
        lanes.spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= requests {
                    break;
                }
                let i = if new_connections { n } else { lane };
                let r = post(client.clone(), i).await.expect("post");
                assert!((200..300).contains(&r.status), "sink answered {}", r.status);
            }
        });
    }
    while let Some(r) = lanes.join_next().await {
        r.expect("lane");
    }
    let rate = requests as f64 / sw.wall().as_secs_f64();
    sink.stop();
    rate
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
