//! The real network: one post to followers on many instances over TLS, each host answering after
//! 50–150 ms, once with every host live and once with 5% silent (accepting, never answering), 5%
//! refusing connections and 2% answering 503. Reported: when the last live host had the post, the
//! p99 delivery age at live hosts, and deliveries per second against the sign ceiling.

use super::{
    bench_settings,
    ceilings::Ceilings,
    fanout::seed_followers_at,
    measure::{percentile_ms, Row, Stopwatch},
    wan_hosts::{kind_of, Kind, TestCa, WanHosts},
};
use crate::TestInstance;
use serde_json::json;
use std::time::{Duration, Instant};

/// One run's figures.
struct Run {
    row: Row,
    last_live: Duration,
    p99: f64,
}

/// Runs the scenario (shared inboxes: one delivery of each Announce form per instance) with and
/// without faults and returns both rows; the one with faults says whether it met the targets.
pub async fn run(
    db_name: &str,
    followers: usize,
    instances: usize,
    ceilings: &Ceilings,
) -> Vec<Row> {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let roots = dir.path().join("ca.pem");
    std::fs::write(&roots, &ca.ca_pem).expect("write CA");
    let a = TestInstance::spawn_with("wan", |s| {
        bench_settings(s);
        s.federation.extra_roots_file = roots.display().to_string();
    })
    .await;
    let clean = once(&a, &ca, db_name, (followers, instances), false, ceilings).await;
    let mut faulty = once(&a, &ca, db_name, (followers, instances), true, ceilings).await;
    let live = faulty.row.ops as f64;
    let bound = Duration::from_secs_f64(1.5 * live / ceilings.sign_all + 1.0);
    let p99_ratio = faulty.p99 / clean.p99.max(1e-9);
    faulty.row.note = format!(
        "{}; live-host p99 {:.2}× the run without faults (target ≤ 2 {}); last live host at \
         {} ms against 1.5 × deliveries / sign ceiling + 1 s = {} ms ({})",
        faulty.row.note,
        p99_ratio,
        if p99_ratio <= 2.0 { "✓" } else { "✗" },
        faulty.last_live.as_millis(),
        bound.as_millis(),
        if faulty.last_live <= bound {
            "✓"
        } else {
            "✗"
        },
    );
    vec![clean.row, faulty.row]
}

async fn once(
    a: &TestInstance,
    ca: &TestCa,
    db_name: &str,
    (followers, instances): (usize, usize),
    faults: bool,
    ceilings: &Ceilings,
) -> Run {
    let hosts = WanHosts::start(ca, faults).await;
    let run = if faults { "f" } else { "c" };
    let name = format!("wan{run}");
    let community = a.create_community(&name, "Over the network").await;
    let token = a.create_user(&format!("{name}u")).await;
    seed_followers_at(a.db(), &community, followers, instances, true, &name, |i| {
        hosts.base(run, i, faults)
    })
    .await;
    let live_hosts = (0..instances.min(followers))
        .filter(|&i| kind_of(i, faults) == Kind::Live)
        .count();
    // Both Announce forms to each live shared inbox.
    let expected = live_hosts * 2;
    let sw = Stopwatch::start();
    let started = Instant::now();
    let (status, body) = a
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/communities/{name}/posts"),
            Some(&token),
            Some(json!({ "title": "Over the network", "content": "to everyone" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let done = hosts.wait_for(expected, Duration::from_secs(300)).await;
    let mut ages: Vec<Duration> = hosts
        .arrivals()
        .iter()
        .map(|t| t.duration_since(started))
        .collect();
    let last_live = ages.iter().max().copied().unwrap_or_default();
    let p99 = percentile_ms(&mut ages, 99.0);
    let (duplicates, unavailable, silent, tls) = hosts.counts();
    let mut row = Row::new(
        db_name,
        &format!(
            "wan {followers} followers / {instances} instances over TLS, {}",
            if faults {
                "5% silent, 5% refusing, 2% 503"
            } else {
                "no faults"
            }
        ),
        hosts.delivered() as u64,
        &sw,
    )
    .latencies(&mut ages);
    row.per_sec = row.ops as f64 / last_live.as_secs_f64().max(1e-9);
    row = row.against("sign(all cores)", ceilings.sign_all);
    row.note = format!(
        "{expected} deliveries to {live_hosts} live hosts{}; last live host at {} ms; \
         p50/p99 are delivery ages; duplicates {duplicates}; {tls} TLS connections; \
         {unavailable} answers 503; {silent} connections to silent hosts",
        if done { "" } else { ", NOT ALL ARRIVED" },
        last_live.as_millis(),
    );
    assert!(
        done,
        "wan fan-out did not complete: {} of {expected}",
        hosts.delivered()
    );
    assert_eq!(duplicates, 0, "one delivery per inbox and activity");
    Run {
        row,
        last_live,
        p99,
    }
}
