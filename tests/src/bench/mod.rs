//! The benchmark: the machine's ceilings, then fan-out (on loopback and over a slow, failing
//! network), sustained posting with recovery, inbox
//! ingest, reads and growth, each reported against the ceiling that bounds it. `copse-bench`
//! runs it; a smoke run with small sizes is part of the test suite.

pub mod ceilings;
pub mod fanout;
pub mod growth;
pub mod ingest;
pub mod load;
pub mod measure;
pub mod pages;
pub mod reads;
pub mod sink;
pub mod sustained;
pub mod wan;
pub mod wan_hosts;

use crate::{TestDb, TestInstance};
use measure::Row;

/// How big a run is.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Shrinks ceiling measurements.
    pub ceiling_scale: f64,
    /// Followers and instances of the large fan-out.
    pub fanout: (usize, usize),
    /// Followers and instances of the fan-out over TLS with slow and failing hosts.
    pub wan: (usize, usize),
    /// Remote actors and activities for ingest.
    pub ingest: (usize, usize),
    /// Requests per read endpoint, and posts in the database the uncached reads choose from.
    pub reads: (usize, usize),
    /// Table sizes for growth, and repetitions per query.
    pub growth: (Vec<usize>, usize),
    /// Posts per second, seconds and healthy instances for the sustained run.
    pub sustained: (u32, u32, usize),
    /// Sinks verify every delivery's signature (costs CPU on the same cores).
    pub verify_signatures: bool,
}

impl Sizes {
    /// The full run the issue asks for.
    pub fn full() -> Self {
        Self {
            ceiling_scale: 1.0,
            fanout: (10_000, 1_000),
            wan: (10_000, 1_000),
            ingest: (1_000, 20_000),
            reads: (5_000, 100_000),
            growth: (vec![10_000, 100_000, 1_000_000], 200),
            sustained: (5, 30, 20),
            verify_signatures: false,
        }
    }

    /// A few seconds of everything, for CI.
    pub fn smoke() -> Self {
        Self {
            ceiling_scale: 0.02,
            fanout: (60, 12),
            wan: (60, 40),
            ingest: (10, 60),
            reads: (50, 1_000),
            growth: (vec![1_000, 2_000], 10),
            sustained: (5, 2, 2),
            verify_signatures: true,
        }
    }
}

/// Settings of the instance under test: the defaults an operator runs (workers, concurrency,
/// batches, pool), with short retries so the sustained run's returning instance is retried
/// within the run.
pub fn bench_settings(s: &mut copse_server::settings::Settings) {
    let d = copse_server::settings::Settings::default();
    s.federation.delivery_workers = d.federation.delivery_workers;
    s.federation.delivery_concurrency = d.federation.delivery_concurrency;
    s.federation.claim_batch = d.federation.claim_batch;
    s.federation.inbox_workers = d.federation.inbox_workers;
    s.federation.poll_interval_ms = d.federation.poll_interval_ms;
    s.federation.retry_initial_ms = 500;
    s.federation.retry_max_seconds = 2;
    s.federation.request_timeout_seconds = 10;
    s.federation.lease_seconds = d.federation.lease_seconds;
    s.database.max_connections = d.database.max_connections;
    s.http.cache_ms = d.http.cache_ms;
    // The load generator stands in for many servers from one address: the per-address inbox
    // limit would turn most of its concurrent deliveries away.
    s.http.inbox_requests_per_client = 100_000;
}

/// Runs every scenario on the database `TestDb::new` gives (SQLite, or PostgreSQL when
/// `COPSE_TEST_DATABASE_URL` is set) and returns the rows.
pub async fn run_all(sizes: &Sizes, only: &[String]) -> Vec<Row> {
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let probe = TestDb::new().await;
    let db_name = if probe.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    eprintln!("measuring ceilings on {db_name}...");
    let c = ceilings::measure(&probe, sizes.ceiling_scale).await;
    let mut rows = vec![
        Row {
            note: "openssl RSA-2048, 1 thread / all cores".into(),
            ..ceiling_row(db_name, "ceiling: sign", c.sign_1, c.sign_all)
        },
        Row {
            note: "openssl RSA-2048 incl. header parsing, 1 thread / all cores".into(),
            ..ceiling_row(db_name, "ceiling: verify", c.verify_1, c.verify_all)
        },
        Row {
            note: "trivial axum handler, 64 connections, loopback".into(),
            ..ceiling_row(db_name, "ceiling: raw axum", c.axum, c.axum)
        },
        Row {
            ceiling: String::new(),
            note: "unsigned deliveries (Announce-sized) through Copse's client into the sink, \
                   64 at a time, each on a new connection"
                .into(),
            ..ceiling_row(
                db_name,
                "ceiling: transport, new connections",
                0.0,
                c.post_new,
            )
        },
        Row {
            ceiling: String::new(),
            note: "the same over 64 kept-alive connections".into(),
            ..ceiling_row(db_name, "ceiling: transport, kept-alive", 0.0, c.post_kept)
        },
        Row {
            note: "one transaction per row / 500 rows per transaction".into(),
            ..ceiling_row(
                db_name,
                "ceiling: insert",
                c.insert_single,
                c.insert_batched,
            )
        },
    ];
    if wanted("fanout") {
        eprintln!("fan-out...");
        let a = TestInstance::spawn_with("fan", bench_settings).await;
        let sink = sink::Sink::start().await;
        let (followers, instances) = sizes.fanout;
        for shared in [true, false] {
            rows.push(
                fanout::copse_fanout(
                    &a,
                    &sink,
                    db_name,
                    (followers, instances),
                    shared,
                    sizes.verify_signatures,
                    &c,
                )
                .await,
            );
        }
        rows.push(
            fanout::reference::run(&sink, db_name, followers, instances, false, c.sign_all).await,
        );
    }
    if wanted("wan") {
        eprintln!("fan-out over a slow, failing network...");
        let (followers, instances) = sizes.wan;
        rows.extend(wan::run(db_name, followers, instances, &c).await);
    }
    if wanted("sustained") {
        eprintln!("sustained posting...");
        let a = TestInstance::spawn_with("steady", bench_settings).await;
        let (rate, secs, inst) = sizes.sustained;
        rows.extend(sustained::run(&a, db_name, rate, secs, inst).await);
    }
    if wanted("ingest") {
        eprintln!("inbox ingest...");
        let a = TestInstance::spawn_with("ingest", bench_settings).await;
        // The inbox writer batches concurrent requests into one transaction, so the bound is
        // the slowest of answering a request, verifying its signature and a batched insert.
        let (name, ceiling) = [
            ("raw axum", c.axum),
            ("verify(all cores)", c.verify_all),
            ("insert(batched)", c.insert_batched),
        ]
        .into_iter()
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .unwrap_or(("raw axum", c.axum));
        let (actors, total) = sizes.ingest;
        for mut row in ingest::run(&a, db_name, actors, total, ceiling, name).await {
            row.note = format!(
                "{:.2} of the single-row insert rate ({:.0}/s)",
                row.per_sec / c.insert_single.max(1e-9),
                c.insert_single
            );
            rows.push(row);
        }
    }
    if wanted("reads") {
        eprintln!("reads...");
        let a = TestInstance::spawn_with("reads", bench_settings).await;
        let (per_endpoint, posts) = sizes.reads;
        rows.extend(reads::run(&a, db_name, per_endpoint, posts, c.axum).await);
    }
    if wanted("growth") {
        eprintln!("growth...");
        let (levels, reps) = &sizes.growth;
        rows.extend(growth::run(db_name, levels, *reps).await);
    }
    rows
}

fn ceiling_row(db: &str, name: &str, one: f64, all: f64) -> Row {
    Row {
        db: db.into(),
        scenario: name.into(),
        ops: 0,
        per_sec: all,
        ceiling: format!("1 thread {one:.0}/s"),
        ratio: None,
        cpu_ms_per_op: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        peak_rss_mb: measure::peak_rss_mb(),
        note: String::new(),
    }
}

/// Starts the `copse` binary next to this one (build it with the same profile), lets it idle
/// and reports its resident memory.
pub fn idle_server_row() -> Option<Row> {
    let exe = std::env::current_exe().ok()?;
    let copse = exe.parent()?.join("copse");
    if !copse.exists() {
        eprintln!(
            "idle memory: {} not built (cargo build --release -p copse-server); skipped",
            copse.display()
        );
        return None;
    }
    let dir = tempfile::tempdir().ok()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let mut child = std::process::Command::new(&copse)
        .arg("serve")
        .env("COPSE__BIND", format!("127.0.0.1:{port}"))
        .env(
            "COPSE__DATABASE__URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("idle.db").display()),
        )
        .env("COPSE__LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(std::time::Duration::from_secs(3));
    let rss = measure::rss_mb_of(child.id());
    let _ = child.kill();
    let _ = child.wait();
    Some(Row {
        db: "sqlite".into(),
        scenario: "idle server (copse serve, resident memory)".into(),
        ops: 0,
        per_sec: 0.0,
        ceiling: "target 40 MB".into(),
        ratio: None,
        cpu_ms_per_op: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        peak_rss_mb: rss,
        note: "VmRSS after 3 s idle".into(),
    })
}
