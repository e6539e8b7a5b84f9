//! `/metrics`: served on a listener of its own in Prometheus' text format, and its figures
//! follow the queues, the deliveries, the instances' states and the inbox.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::instance;
use copse_federation::{queue, FederationContext};
use copse_tests::{fake::FakeServer, wait_for, TestInstance};
use sea_orm::{EntityTrait, Set};
use serde_json::json;
use std::{collections::HashMap, time::Duration};
use url::Url;

/// Scrapes `/metrics` into `name{labels}` -> value, checking the exposition's shape.
async fn scrape(a: &TestInstance) -> HashMap<String, f64> {
    let addr = a.instance().metrics_addr.expect("metrics are on");
    let res = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = res.text().await.unwrap();
    let mut out = HashMap::new();
    for line in text.lines() {
        if line.starts_with('#') {
            assert!(
                line.starts_with("# HELP copse_") || line.starts_with("# TYPE copse_"),
                "{line}"
            );
            continue;
        }
        let (key, value) = line.rsplit_once(' ').expect("name and value");
        out.insert(key.to_string(), value.parse::<f64>().expect("a number"));
    }
    out
}

fn get(m: &HashMap<String, f64>, key: &str) -> f64 {
    *m.get(key)
        .unwrap_or_else(|| panic!("{key} is missing from {m:?}"))
}

/// `dead.localhost:PORT`, a port nothing listens on.
fn dead_host() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("dead.localhost:{}", l.local_addr().unwrap().port())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_apart_and_follow_the_queues() {
    let a = TestInstance::spawn_with("alpha", |s| {
        s.metrics.enabled = true;
        s.metrics.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        // The test sends by hand, so that it sees the queue before and after.
        s.federation.delivery_workers = 0;
    })
    .await;
    let net = a.create_community("net", "London Networks").await;
    // Not on the public listener.
    let res = a.client.get(a.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404);

    let m = scrape(&a).await;
    assert_eq!(get(&m, r#"copse_queue_depth{queue="outbox"}"#), 0.0);
    assert_eq!(
        get(&m, r#"copse_queue_oldest_age_seconds{queue="outbox"}"#),
        0.0
    );
    assert_eq!(
        get(&m, r#"copse_deliveries_total{outcome="delivered"}"#),
        0.0
    );
    assert_eq!(get(&m, r#"copse_instances{state="paused"}"#), 0.0);
    assert_eq!(
        get(&m, r#"copse_inbox_received_total{result="stored"}"#),
        0.0
    );

    // Two deliveries queued: one to a live host, one to a host that does not answer.
    let fake = FakeServer::start().await;
    let ctx: &FederationContext = &a.instance().config;
    let activity = copse_federation::protocol::WithContext::new(json!({
        "id": ctx.urls.new_activity("Announce"), "type": "Announce",
        "actor": ctx.urls.community("net"), "object": "http://example.localhost/x"
    }));
    let inboxes = [
        Url::parse(&format!("{}/inbox", fake.base("live"))).unwrap(),
        Url::parse(&format!("http://{}/inbox", dead_host())).unwrap(),
    ];
    queue::enqueue(a.db(), &ctx.urls, &activity, None, true, inboxes)
        .await
        .unwrap();
    let m = scrape(&a).await;
    assert_eq!(get(&m, r#"copse_queue_depth{queue="outbox"}"#), 2.0);
    assert!(get(&m, r#"copse_queue_lag_seconds{queue="outbox"}"#) >= 0.0);

    assert_eq!(queue::delivery::work_once(ctx).await.unwrap(), 2);
    let m = scrape(&a).await;
    assert_eq!(
        get(&m, r#"copse_deliveries_total{outcome="delivered"}"#),
        1.0
    );
    assert_eq!(get(&m, r#"copse_deliveries_total{outcome="retry"}"#), 1.0);
    assert_eq!(
        get(&m, r#"copse_queue_depth{queue="outbox"}"#),
        1.0,
        "the retry waits"
    );
    assert_eq!(get(&m, r#"copse_instances{state="failing"}"#), 1.0);
    assert_eq!(fake.posted("live").len(), 1);

    instance::Entity::insert(instance::ActiveModel {
        domain: Set("paused.localhost:1".into()),
        blocked: Set(false),
        failure_count: Set(3),
        paused_until: Set(Some(chrono::Utc::now() + chrono::Duration::hours(1))),
        ..Default::default()
    })
    .exec(a.db())
    .await
    .unwrap();
    assert_eq!(
        get(&scrape(&a).await, r#"copse_instances{state="paused"}"#),
        1.0
    );

    // Inbox throughput: a Follow stored, then applied by the inbox worker.
    let who = fake.actor("remote", "ana");
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/1", fake.base("remote")),
        "type": "Follow", "actor": who.id, "object": net.ap_id
    });
    let inbox = Url::parse(&format!("{}/inbox", net.ap_id)).unwrap();
    assert_eq!(who.deliver(&a.client, &inbox, &follow).await, 202);
    assert_eq!(who.deliver(&a.client, &inbox, &follow).await, 202);
    let m = scrape(&a).await;
    assert_eq!(
        get(&m, r#"copse_inbox_received_total{result="stored"}"#),
        1.0
    );
    assert_eq!(
        get(&m, r#"copse_inbox_received_total{result="duplicate"}"#),
        1.0
    );
    wait_for(
        "the Follow to be applied",
        Duration::from_secs(10),
        || async {
            get(
                &scrape(&a).await,
                r#"copse_inbox_processed_total{result="done"}"#,
            ) == 1.0
        },
    )
    .await;
    // The Accept it caused is queued for the follower's server.
    assert!(get(&scrape(&a).await, r#"copse_queue_depth{queue="outbox"}"#) >= 2.0);
}
