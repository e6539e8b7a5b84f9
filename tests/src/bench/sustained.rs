//! Sustained posting while one instance is down: how old deliveries get in the queue, and how
//! long after the instance returns until its backlog is delivered.

use super::{
    fanout::seed_followers,
    measure::{percentile_ms, Row, Stopwatch},
    sink::Sink,
};
use crate::TestInstance;
use copse_entities::activity;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

/// Posts `rate` posts a second for `secs` seconds to a community with followers on `instances`
/// healthy instances (shared inboxes) and one more that is down for the first 60% of the run.
pub async fn run(
    a: &TestInstance,
    db_name: &str,
    rate: u32,
    secs: u32,
    instances: usize,
) -> Vec<Row> {
    let healthy = Sink::start().await;
    let down = Sink::start().await;
    let community = a.create_community("steady", "Steady").await;
    let token = a.create_user("steadyu").await;
    seed_followers(
        a.db(),
        &community,
        healthy.port,
        instances * 10,
        instances,
        true,
        "h",
    )
    .await;
    seed_followers(a.db(), &community, down.port, 10, 1, true, "d").await;
    healthy.clear();
    down.clear();
    down.set_down(true);
    let posts = (rate * secs) as usize;
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let mut posted_at: HashMap<String, Instant> = HashMap::new();
    let sw = Stopwatch::start();
    let start = Instant::now();
    let mut back_up_at = None;
    for n in 0..posts {
        let due = start + interval * n as u32;
        tokio::time::sleep_until(due.into()).await;
        if back_up_at.is_none() && start.elapsed() >= Duration::from_secs_f64(f64::from(secs) * 0.6)
        {
            down.set_down(false);
            back_up_at = Some(Instant::now());
        }
        let (s, _) = a
            .api(
                reqwest::Method::POST,
                "/api/v1/communities/steady/posts",
                Some(&token),
                Some(json!({ "title": format!("Steady {n}"), "content": "x" })),
            )
            .await;
        assert_eq!(s, 201);
        let at = Instant::now();
        let ids: Vec<activity::Model> = activity::Entity::find()
            .filter(activity::Column::Kind.eq("Announce"))
            .order_by_desc(activity::Column::Id)
            .limit(2)
            .all(a.db())
            .await
            .expect("announces");
        for id in ids {
            posted_at.entry(id.ap_id.to_string()).or_insert(at);
        }
    }
    let back_up_at = back_up_at.unwrap_or_else(|| {
        down.set_down(false);
        Instant::now()
    });
    let expected_healthy = posts * 2 * instances;
    let expected_down = posts * 2;
    assert!(
        healthy
            .wait_for(expected_healthy, Duration::from_secs(300))
            .await,
        "healthy backlog"
    );
    assert!(
        down.wait_for(expected_down, Duration::from_secs(300)).await,
        "recovered backlog"
    );
    // The backlog: deliveries of posts made while the instance was down.
    let drained = down
        .arrivals_by_id()
        .into_iter()
        .filter(|(id, _)| posted_at.get(id).is_some_and(|p| *p < back_up_at))
        .map(|(_, t)| t)
        .max()
        .unwrap_or(back_up_at);
    let mut ages: Vec<Duration> = healthy
        .arrivals_by_id()
        .into_iter()
        .filter_map(|(id, t)| posted_at.get(&id).map(|p| t.saturating_duration_since(*p)))
        .collect();
    let p99 = percentile_ms(&mut ages, 99.0);
    let total = (expected_healthy + expected_down) as u64;
    vec![Row::new(db_name, &format!("sustained {rate} posts/s for {secs}s, {instances}+1 instances, one down 60%"), total, &sw)
        .latencies(&mut ages)
        .note(format!(
            "queue age p99 {p99:.1} ms on healthy instances; backlog of the returning instance delivered {:.2}s after it came back (retry backoff bounds this)",
            drained.saturating_duration_since(back_up_at).as_secs_f64()
        ))]
}
