//! Generated and mutated activities through the inbox (signature, parsing, caps, origins, storage)
//! and the inbox worker: starting from the fediverse fixtures, fields, types and ids are
//! replaced, the result is signed by a known actor and POSTed. Nothing answers 5xx, every refusal
//! is a 4xx in the `{"error", "field"}` shape, and the instance keeps serving.
//!
//! 64 cases by default; `PROPTEST_CASES=5000 cargo test -p copse-tests --test inbox_properties`
//! runs a long search.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_tests::{fake::FakeServer, fixture, TestInstance};
use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use serde_json::{json, Value};

/// Every JSON fixture under `fediverse/*/activities`.
fn seeds() -> Vec<Value> {
    let Some(root) = fixture("fediverse") else {
        return vec![json!({ "type": "Create", "object": { "type": "Note" } })];
    };
    let mut out = Vec::new();
    for server in std::fs::read_dir(root).unwrap().flatten() {
        let Ok(files) = std::fs::read_dir(server.path().join("activities")) else {
            continue;
        };
        for f in files.flatten() {
            if let Ok(text) = std::fs::read_to_string(f.path()) {
                if let Ok(v) = serde_json::from_str::<Value>(&text) {
                    out.push(v);
                }
            }
        }
    }
    out
}

/// The JSON pointers of every value in `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                pointers(
                    child,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn replacement(ids: Vec<String>) -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        "(Create|Update|Delete|Announce|Follow|Undo|Accept|Reject|Like|Flag|Join|Leave|Note|Page|Event|Tombstone|Person|Group)"
            .prop_map(Value::from),
        proptest::sample::select(ids).prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
        Just(json!({ "type": "Note", "id": "http://nobody.localhost:1/n" })),
        Just(Value::String("\u{0}".repeat(3))),
        Just(Value::String("é".repeat(20_000))),
    ]
}

#[test]
fn mutated_activities_are_refused_with_a_json_4xx_or_accepted() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (a, fake, mia) = rt.block_on(async {
        let a = TestInstance::spawn("alpha").await;
        let ana = a.create_user("ana").await;
        a.community_with(
            &ana,
            "net",
            json!({ "topic_policy": "anyone", "reply_policy": "anyone" }),
        )
        .await;
        let fake = FakeServer::start().await;
        let mia = fake.actor("masto", "mia");
        (a, fake, mia)
    });
    let group = a.url("/c/net").to_string();
    let ids = vec![
        mia.id.to_string(),
        group.clone(),
        format!("{}/statuses/1", mia.id),
        format!("{}/users/bob", fake.base("victim")),
        a.url("/post/1").to_string(),
        "https://www.w3.org/ns/activitystreams#Public".to_string(),
    ];
    let seeds = seeds();
    assert!(!seeds.is_empty());
    let strategy = (
        0..seeds.len(),
        proptest::collection::vec((any::<usize>(), replacement(ids)), 0..4),
        any::<bool>(),
        any::<bool>(),
    );
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let counter = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&strategy, |(seed, mutations, own_actor, shared)| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut doc = seeds[seed].clone();
            if let Some(o) = doc.as_object_mut() {
                o.insert(
                    "id".into(),
                    Value::from(format!("{}/activities/{n}", mia.id)),
                );
                if own_actor {
                    o.insert("actor".into(), Value::from(mia.id.to_string()));
                }
            }
            for (at, value) in mutations {
                let mut all = Vec::new();
                pointers(&doc, String::new(), &mut all);
                let at = &all[at % all.len()];
                match doc.pointer_mut(at) {
                    Some(slot) if !at.is_empty() => *slot = value,
                    _ => {}
                }
            }
            let inbox = if shared {
                a.url("/inbox")
            } else {
                a.url("/c/net/inbox")
            };
            rt.block_on(async {
                let body = serde_json::to_vec(&doc).unwrap();
                let signed = mia
                    .key
                    .sign("POST", &inbox, Some(&body), chrono::Utc::now())
                    .unwrap();
                let res = a
                    .client
                    .post(inbox.as_str())
                    .header("Content-Type", "application/activity+json")
                    .header("Date", signed.date)
                    .header("Digest", signed.digest.unwrap_or_default())
                    .header("Signature", signed.signature)
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let status = res.status().as_u16();
                let text = res.text().await.unwrap_or_default();
                prop_assert!(status < 500, "{status} {text} for {doc}");
                if status >= 400 {
                    let v: Value = serde_json::from_str(&text)
                        .map_err(|_| TestCaseError::fail(format!("{status} not JSON: {text}")))?;
                    prop_assert!(v["error"].is_string(), "{status} {text}");
                    prop_assert!(v.get("field").is_some(), "{status} {text}");
                }
                Ok(())
            })
        })
        .unwrap();
    // The worker processed what was stored without taking the instance down.
    rt.block_on(async {
        let (status, _) = a
            .api(reqwest::Method::GET, "/api/v1/communities/net", None, None)
            .await;
        assert_eq!(status, 200);
    });
}
