//! The outbox queue: who a fan-out goes to, how it is stored in batches, and instance health
//! (an instance that keeps failing past `dead_after` is paused, and deliveries to it are not
//! attempted while it is; hearing from it again revives it).

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{community_follower, delivery, delivery_batch, instance};
use copse_federation::{queue, FederationContext};
use copse_tests::TestInstance;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;
use std::time::Duration;

/// An instance with a community `net` and its workers off, and a queue context on its
/// database, so that a test drives the queue by hand.
async fn driven_by_hand(
    adjust: impl FnOnce(&mut copse_federation::context::FederationSettings),
) -> (TestInstance, FederationContext) {
    let a = TestInstance::spawn_with("alpha", |s| {
        s.federation.delivery_workers = 0;
        s.federation.inbox_workers = 0;
    })
    .await;
    a.create_community("net", "London Networks").await;
    let site = copse_server::db::site(a.db()).await.unwrap();
    let mut settings = a.settings.federation_settings();
    settings.request_timeout = Duration::from_secs(2);
    adjust(&mut settings);
    let ctx = FederationContext::new(a.db().clone(), settings, &site.private_key_pem).unwrap();
    (a, ctx)
}

/// Queues an Announce by the community `net` to `inboxes`.
async fn enqueue_announce(
    a: &TestInstance,
    ctx: &FederationContext,
    inboxes: impl IntoIterator<Item = url::Url>,
) {
    let activity = copse_federation::protocol::WithContext::new(json!({
        "id": ctx.urls.new_activity("Announce"), "type": "Announce",
        "actor": ctx.urls.community("net"), "object": "http://example.localhost/x"
    }));
    queue::enqueue(a.db(), &ctx.urls, &activity, None, true, inboxes)
        .await
        .unwrap();
}

/// `dead.localhost:PORT`, a port nothing listens on.
fn dead_host() -> String {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    format!("dead.localhost:{port}")
}

/// Marks `domain` as failing and paused for the next hour.
async fn pause_for_an_hour(a: &TestInstance, domain: &str) {
    instance::Entity::insert(instance::ActiveModel {
        domain: Set(domain.to_string()),
        blocked: Set(false),
        failure_count: Set(3),
        paused_until: Set(Some(chrono::Utc::now() + chrono::Duration::hours(1))),
        ..Default::default()
    })
    .exec(a.db())
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_instance_is_paused_and_keeps_its_deliveries() {
    let (a, ctx) = driven_by_hand(|s| {
        s.dead_after = Duration::ZERO;
        s.retry_initial = Duration::ZERO;
    })
    .await;
    let dead = dead_host();
    let inbox: url::Url = format!("http://{dead}/inbox").parse().unwrap();
    enqueue_announce(&a, &ctx, [inbox]).await;

    assert_eq!(queue::delivery::work_once(&ctx).await.unwrap(), 1);
    let inst = instance::Entity::find()
        .filter(instance::Column::Domain.eq(dead.clone()))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inst.failure_count, 1);
    assert!(inst.failing_since.is_some());
    assert!(
        inst.paused_until.is_some(),
        "failing longer than dead_after pauses the instance"
    );
    // While paused, its delivery is kept but not claimed.
    assert_eq!(queue::delivery::work_once(&ctx).await.unwrap(), 0);
    let d = delivery::Entity::find().one(a.db()).await.unwrap().unwrap();
    assert_eq!(d.status, delivery::DeliveryStatus::Pending);
    assert_eq!(d.attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_sends_to_each_host_in_turn_and_stops_at_a_failing_one() {
    let (a, ctx) = driven_by_hand(|_| {}).await;
    let live = copse_tests::fake::FakeServer::start().await;
    let dead = dead_host();
    let inboxes: Vec<url::Url> = (0..3)
        .flat_map(|i| {
            [
                format!("http://{dead}/u/{i}/inbox"),
                format!("{}/u/{i}/inbox", live.base("live")),
            ]
        })
        .map(|u| u.parse().unwrap())
        .collect();
    enqueue_announce(&a, &ctx, inboxes).await;

    assert_eq!(queue::delivery::work_once(&ctx).await.unwrap(), 6);
    // The live host got all three, and their rows are gone.
    assert_eq!(live.posted("live").len(), 3);
    let left = delivery::Entity::find().all(a.db()).await.unwrap();
    assert_eq!(left.len(), 3, "only the dead host's deliveries are kept");
    // The dead host was tried once: one attempt counted, the other two put back untried.
    let mut attempts: Vec<i32> = left.iter().map(|d| d.attempts).collect();
    attempts.sort();
    assert_eq!(attempts, [0, 0, 1]);
    for d in &left {
        assert_eq!(d.status, delivery::DeliveryStatus::Pending);
        assert!(d.next_attempt_at > chrono::Utc::now());
        if d.attempts == 0 {
            assert!(
                d.last_error
                    .as_deref()
                    .unwrap_or("")
                    .starts_with("not tried"),
                "{:?}",
                d.last_error
            );
        }
    }
    let failing = instance::Entity::find()
        .filter(instance::Column::Domain.eq(dead))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        failing.failure_count, 1,
        "one failure per batch, not per delivery"
    );
    let healthy = instance::Entity::find()
        .filter(instance::Column::Domain.eq(format!("live.localhost:{}", live.port)))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert!(healthy.last_success_at.is_some());
    assert_eq!(healthy.failure_count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hosts_deliveries_in_a_batch_share_one_connection() {
    let (a, ctx) = driven_by_hand(|_| {}).await;
    let sink = copse_tests::bench::sink::Sink::start().await;
    let inboxes: Vec<url::Url> = (0..10)
        .map(|i| {
            format!("http://h{}.localhost:{}/u/{i}/inbox", i % 2, sink.port)
                .parse()
                .unwrap()
        })
        .collect();
    enqueue_announce(&a, &ctx, inboxes).await;

    assert_eq!(queue::delivery::work_once(&ctx).await.unwrap(), 10);
    assert_eq!(sink.distinct(), 10);
    assert_eq!(
        sink.connections(),
        2,
        "five deliveries to each host, one after another over one connection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_keeps_a_paused_hosts_targets_untried_as_rows() {
    let (a, ctx) = driven_by_hand(|s| s.claim_batch = 2).await;
    let live = copse_tests::fake::FakeServer::start().await;
    let paused = dead_host();
    pause_for_an_hour(&a, &paused).await;
    let mut inboxes: Vec<url::Url> = (0..4)
        .map(|i| {
            format!("{}/u/{i}/inbox", live.base("live"))
                .parse()
                .unwrap()
        })
        .collect();
    inboxes.push(format!("http://{paused}/inbox").parse().unwrap());
    enqueue_announce(&a, &ctx, inboxes).await;
    assert_eq!(
        delivery_batch::Entity::find().count(a.db()).await.unwrap(),
        1
    );
    assert_eq!(delivery::Entity::find().count(a.db()).await.unwrap(), 0);

    // Five targets, two at a time: all handled in one claim, the batch gone afterwards.
    assert_eq!(queue::delivery::work_once(&ctx).await.unwrap(), 5);
    assert_eq!(live.posted("live").len(), 4);
    assert_eq!(
        delivery_batch::Entity::find().count(a.db()).await.unwrap(),
        0
    );
    let kept = delivery::Entity::find().all(a.db()).await.unwrap();
    assert_eq!(kept.len(), 1, "only the paused host's target is stored");
    assert_eq!(kept[0].domain, paused);
    assert_eq!(kept[0].attempts, 0, "not tried, so no attempt counted");
    assert_eq!(kept[0].status, delivery::DeliveryStatus::Pending);
    assert!(kept[0].next_attempt_at <= chrono::Utc::now());
    // While the host is paused the row waits.
    assert_eq!(queue::delivery::work_once(&ctx).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_take_turns_with_new_fan_outs() {
    let (a, ctx) = driven_by_hand(|_| {}).await;
    let live = copse_tests::fake::FakeServer::start().await;
    let back = format!("back.localhost:{}", live.port);
    // A paused host: its delivery is stored, untried, for when it is back.
    pause_for_an_hour(&a, &back).await;
    enqueue_announce(&a, &ctx, [format!("http://{back}/inbox").parse().unwrap()]).await;
    assert_eq!(queue::delivery::work_once(&ctx).await.unwrap(), 1);
    assert_eq!(delivery::Entity::find().count(a.db()).await.unwrap(), 1);

    // It is back, and two new fan-outs are queued meanwhile.
    instance::Entity::update_many()
        .col_expr(
            instance::Column::PausedUntil,
            sea_orm::sea_query::Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(instance::Column::Domain.eq(back.clone()))
        .exec(a.db())
        .await
        .unwrap();
    for i in 0..2 {
        let inbox = format!("{}/u/{i}/inbox", live.base("new"));
        enqueue_announce(&a, &ctx, [inbox.parse().unwrap()]).await;
    }
    let batches = || async { delivery_batch::Entity::find().count(a.db()).await.unwrap() };
    let rows = || async { delivery::Entity::find().count(a.db()).await.unwrap() };

    // A worker takes a batch, then the waiting delivery, then the next batch.
    let mut rounds = queue::delivery::Rounds::waiting(&ctx);
    let woken = || async {
        tokio::time::timeout(Duration::from_millis(50), ctx.outbox_wake.notified())
            .await
            .is_ok()
    };
    assert_eq!(rounds.next(&ctx).await.unwrap(), 1);
    assert_eq!((batches().await, rows().await), (1, 1));
    assert!(woken().await, "taking a batch wakes another worker");
    assert_eq!(rounds.next(&ctx).await.unwrap(), 1);
    assert!(
        woken().await,
        "taking retries wakes another worker for the batch still waiting"
    );
    assert_eq!(
        (batches().await, rows().await),
        (1, 0),
        "the retry went before the second batch"
    );
    assert_eq!(live.posted("back").len(), 1);
    assert_eq!(rounds.next(&ctx).await.unwrap(), 1);
    assert_eq!((batches().await, rows().await), (0, 0));
    assert_eq!(live.posted("new").len(), 2);
    assert_eq!(rounds.next(&ctx).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_fan_out_is_queued_in_batches_with_each_hosts_inboxes_together() {
    let (a, ctx) = driven_by_hand(|_| {}).await;
    let per_batch = queue::TARGETS_PER_BATCH;
    // Hosts interleaved in the input; 2.5 batches' worth of targets.
    let n = per_batch * 5 / 2;
    let inboxes: Vec<url::Url> = (0..n)
        .map(|i| {
            format!("http://h{}.localhost/u/{i}/inbox", i % 7)
                .parse()
                .unwrap()
        })
        .collect();
    enqueue_announce(&a, &ctx, inboxes).await;
    let batches = delivery_batch::Entity::find().all(a.db()).await.unwrap();
    let sizes: Vec<usize> = batches
        .iter()
        .map(|b| {
            serde_json::from_str::<Vec<(String, String)>>(&b.targets)
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes, [per_batch, per_batch, n - 2 * per_batch]);
    assert_eq!(a.queued_deliveries().await, n);
    // Read in order, each host's targets form one run.
    let domains: Vec<String> = batches
        .iter()
        .flat_map(|b| serde_json::from_str::<Vec<(String, String)>>(&b.targets).unwrap())
        .map(|(_, domain)| domain)
        .collect();
    let mut runs = domains.clone();
    runs.dedup();
    assert_eq!(runs.len(), 7, "{runs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_inboxes_are_one_per_server_and_skip_pending_follows() {
    let (a, _ctx) = driven_by_hand(|_| {}).await;
    let net = copse_entities::community::Entity::find()
        .filter(copse_entities::community::Column::Name.eq("net"))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    // Twelve followers on three servers with shared inboxes, six on three without.
    let seed = copse_tests::bench::fanout::seed_followers;
    seed(a.db(), &net, 1, 12, 3, true, "s").await;
    seed(a.db(), &net, 1, 6, 3, false, "p").await;
    let want: std::collections::BTreeSet<String> = (0..3)
        .map(|h| format!("http://s{h}.localhost:1/inbox"))
        .chain((0..6).map(|i| format!("http://p{}.localhost:1/users/u{i}/inbox", i % 3)))
        .collect();
    let got = |a: &TestInstance| {
        let db = a.db().clone();
        async move {
            copse_federation::outbox::announce::follower_inboxes(&db, net.id)
                .await
                .unwrap()
                .into_iter()
                .map(String::from)
                .collect::<std::collections::BTreeSet<String>>()
        }
    };
    assert_eq!(got(&a).await, want);

    // A follow awaiting approval gets nothing.
    let mut follows = community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(net.id))
        .all(a.db())
        .await
        .unwrap();
    follows.sort_by_key(|f| f.id);
    let last: community_follower::ActiveModel = follows.pop().unwrap().into();
    community_follower::ActiveModel {
        pending: Set(true),
        ..last
    }
    .update(a.db())
    .await
    .unwrap();
    assert_eq!(got(&a).await.len(), want.len() - 1);
}
