//! Inbox ingest: pre-signed activities from many remote actors replayed at full speed, with the
//! actors' keys first unknown (each first activity fetches its actor) and then cached.

use super::{
    load::{self, Request},
    measure::{Row, Stopwatch},
};
use crate::{fake::FakeServer, TestInstance};
use chrono::Utc;
use copse_federation::signatures::generate_keypair;
use serde_json::json;

/// Runs the ingest scenario: `actors` remote actors, `total` activities.
pub async fn run(
    a: &TestInstance,
    db_name: &str,
    actors: usize,
    total: usize,
    ceiling: f64,
    ceiling_name: &str,
) -> Vec<Row> {
    let community = a.create_community("ingest", "Ingest").await;
    let fake = FakeServer::start().await;
    let keys: Vec<(String, String)> = (0..10).map(|_| generate_keypair().expect("keys")).collect();
    let people: Vec<_> = (0..actors)
        .map(|i| {
            let (public, private) = &keys[i % keys.len()];
            fake.actor_with_key(&format!("r{i}"), "p", public, private)
        })
        .collect();
    let inbox = a.url("/inbox");
    // Sign everything up front, on every core: signing is the sender's cost, not ours.
    let requests: Vec<Request> = std::thread::scope(|s| {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let people = &people;
                let inbox = &inbox;
                let community = &community;
                s.spawn(move || {
                    (0..total)
                        .filter(|n| n % threads == t)
                        .map(|n| {
                            let actor = &people[n % people.len()];
                            let body = serde_json::to_vec(&json!({
                                "@context": "https://www.w3.org/ns/activitystreams",
                                "id": format!("{}/likes/{n}", actor.id),
                                "type": "Like",
                                "actor": actor.id,
                                "object": community.ap_id,
                            }))
                            .expect("json");
                            let signed = actor
                                .key
                                .sign("POST", inbox, Some(&body), Utc::now())
                                .expect("sign");
                            (
                                n,
                                Request {
                                    url: inbox.to_string(),
                                    headers: vec![
                                        ("Content-Type".into(), "application/activity+json".into()),
                                        ("Date".into(), signed.date),
                                        ("Digest".into(), signed.digest.unwrap_or_default()),
                                        ("Signature".into(), signed.signature),
                                    ],
                                    body: Some(body),
                                },
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, Request)> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect();
        all.sort_by_key(|(n, _)| *n);
        all.into_iter().map(|(_, r)| r).collect()
    });
    let mut requests = requests.into_iter();
    let cold: Vec<Request> = requests.by_ref().take(actors).collect();
    let warm: Vec<Request> = requests.collect();
    let mut rows = Vec::new();
    for (label, batch) in [
        ("keys cold: each actor fetched once", cold),
        ("keys cached", warm),
    ] {
        let n = batch.len();
        let sw = Stopwatch::start();
        let mut res = load::run(&load::client_for(a), batch, 64).await;
        assert_eq!(res.ok as usize, n, "ingest refused some: {:?}", res.errors);
        rows.push(
            Row::new(
                db_name,
                &format!("inbox ingest, {n} activities from {actors} actors, {label}"),
                res.ok,
                &sw,
            )
            .against(ceiling_name, ceiling)
            .latencies(&mut res.latencies),
        );
    }
    let fetched = fake.requests().iter().filter(|r| r.method == "GET").count();
    assert_eq!(fetched, actors, "each actor's key fetched exactly once");
    rows
}
