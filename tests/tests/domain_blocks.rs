//! Domain blocks take effect at once: the inbox refuses the domain, nothing is fetched from it,
//! deliveries already queued for it are given up rather than sent, and activities it sent that
//! were not applied yet are dropped.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{
    delivery::{self, DeliveryStatus},
    instance,
    received_activity::{self, InboxStatus},
    DbUrl,
};
use copse_federation::{queue, Error, FederationContext};
use copse_tests::{fake::FakeServer, TestInstance};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::NotSet, ColumnTrait, EntityTrait, PaginatorTrait,
    QueryFilter, Set,
};
use serde_json::json;
use url::Url;

/// An instance whose workers are off, so that the test runs them by hand, with a community
/// `net` and a fake server for the hosts `evil` and `good`.
async fn set_up() -> (TestInstance, FakeServer, copse_entities::community::Model) {
    let a = TestInstance::spawn_with("alpha", |s| {
        s.federation.delivery_workers = 0;
        s.federation.inbox_workers = 0;
    })
    .await;
    let net = a.create_community("net", "London Networks").await;
    (a, FakeServer::start().await, net)
}

/// Queues an Announce by `net` to one inbox on each of `evil` and `good` (a batch of first
/// attempts), and a stored retry of it to `evil`.
async fn queue_deliveries(a: &TestInstance, fake: &FakeServer) {
    let ctx: &FederationContext = &a.instance().config;
    let activity = copse_federation::protocol::WithContext::new(json!({
        "id": ctx.urls.new_activity("Announce"), "type": "Announce",
        "actor": ctx.urls.community("net"), "object": "http://example.localhost/x"
    }));
    let inboxes = ["evil", "good"].map(|h| Url::parse(&format!("{}/inbox", fake.base(h))).unwrap());
    let row = queue::enqueue(a.db(), &ctx.urls, &activity, None, true, inboxes)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    delivery::Entity::insert(delivery::ActiveModel {
        id: NotSet,
        activity_id: Set(row.id),
        inbox: Set(DbUrl(
            format!("{}/users/x/inbox", fake.base("evil"))
                .parse()
                .unwrap(),
        )),
        after_activity_id: Set(None),
        domain: Set(format!("evil.localhost:{}", fake.port)),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(1),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(Some("answered 503".into())),
        created_at: Set(now),
    })
    .exec(a.db())
    .await
    .unwrap();
}

/// Runs the delivery worker by hand until nothing is due.
async fn deliver_all(a: &TestInstance) {
    let ctx: &FederationContext = &a.instance().config;
    for _ in 0..10 {
        if queue::delivery::work_once(ctx).await.unwrap() == 0 {
            return;
        }
    }
    panic!("deliveries kept coming");
}

/// `evil`'s deliveries: none pending, every one given up as blocked.
async fn assert_evil_given_up(a: &TestInstance, fake: &FakeServer, how_many: u64) {
    let evil = delivery::Entity::find()
        .filter(delivery::Column::Domain.eq(format!("evil.localhost:{}", fake.port)))
        .all(a.db())
        .await
        .unwrap();
    assert_eq!(evil.len() as u64, how_many, "{evil:?}");
    for d in &evil {
        assert_eq!(d.status, DeliveryStatus::Failed, "{d:?}");
        assert_eq!(
            d.last_error.as_deref(),
            Some(queue::delivery::BLOCKED),
            "{d:?}"
        );
    }
    assert!(fake.posted("evil").is_empty(), "a blocked host was sent to");
    assert_eq!(fake.posted("good").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_applies_at_once_to_inbox_fetches_and_queued_work() {
    let (a, fake, net) = set_up().await;
    let evil = fake.actor("evil", "mallory");
    let inbox = a.url("/inbox");
    // Before the block, evil's Create is accepted and stored; no inbox worker applies it yet.
    let (_, create) = evil.status(&fake, 1, &net.ap_id.0, "<p>first</p>", None);
    assert_eq!(evil.deliver(&a.client, &inbox, &create).await, 202);
    queue_deliveries(&a, &fake).await;

    let domain = format!("evil.localhost:{}", fake.port);
    let report = copse_server::admin::block_domain(a.db(), &domain)
        .await
        .unwrap();
    assert!(report.newly_blocked);
    assert_eq!(report.deliveries_given_up, 1, "the stored retry");
    assert_eq!(report.activities_dropped, 1, "the stored Create");

    // Inbox: refused, before any fetch.
    let fetched = fake.requests_to("evil").len();
    let (_, again) = evil.status(&fake, 2, &net.ap_id.0, "<p>second</p>", None);
    assert_eq!(evil.deliver(&a.client, &inbox, &again).await, 403);
    // Fetches: refused without a request.
    let other = Url::parse(&format!("{}/users/other", fake.base("evil"))).unwrap();
    let got = copse_federation::fetch::resolve_actor(&a.data(), &other).await;
    assert!(matches!(got, Err(Error::Forbidden(_))), "{got:?}");
    assert_eq!(fake.requests_to("evil").len(), fetched);

    // Deliveries: the batch's target on evil is given up when the batch is sent.
    deliver_all(&a).await;
    assert_evil_given_up(&a, &fake, 2).await;
    // The stored Create is not applied.
    assert_eq!(
        copse_federation::activities::worker::work_once(&a.data())
            .await
            .unwrap(),
        0
    );
    let row = received_activity::Entity::find()
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, InboxStatus::Done);
    assert_eq!(
        row.last_error.as_deref(),
        Some("ignored: domain is blocked")
    );
    assert_eq!(
        copse_entities::post::Entity::find()
            .count(a.db())
            .await
            .unwrap(),
        0
    );

    // Unblocking lets new work through; what was given up stays given up.
    assert!(copse_server::admin::unblock_domain(a.db(), &domain)
        .await
        .unwrap());
    assert_eq!(evil.deliver(&a.client, &inbox, &again).await, 202);
    deliver_all(&a).await;
    assert_evil_given_up(&a, &fake, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_read_the_blocks_before_each_send_and_each_activity() {
    // A block written straight into the table, as another process holding no lock on this
    // one's queue would see it: the workers alone must honour it.
    let (a, fake, net) = set_up().await;
    let evil = fake.actor("evil", "mallory");
    let (_, create) = evil.status(&fake, 1, &net.ap_id.0, "<p>first</p>", None);
    assert_eq!(
        evil.deliver(&a.client, &a.url("/inbox"), &create).await,
        202
    );
    queue_deliveries(&a, &fake).await;
    instance::Entity::insert(instance::ActiveModel {
        id: NotSet,
        domain: Set(format!("evil.localhost:{}", fake.port)),
        blocked: Set(true),
        failure_count: Set(0),
        failing_since: Set(None),
        paused_until: Set(None),
        last_success_at: Set(None),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(instance::Column::Domain)
            .update_column(instance::Column::Blocked)
            .to_owned(),
    )
    .exec(a.db())
    .await
    .unwrap();

    assert_eq!(
        copse_federation::activities::worker::work_once(&a.data())
            .await
            .unwrap(),
        1
    );
    let row = received_activity::Entity::find()
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.last_error.as_deref(),
        Some("ignored: domain is blocked")
    );
    deliver_all(&a).await;
    assert_evil_given_up(&a, &fake, 2).await;
    let blocked = a
        .instance()
        .config
        .metrics
        .deliveries()
        .into_iter()
        .find(|(l, _)| *l == "blocked")
        .unwrap()
        .1;
    assert_eq!(blocked, 2, "the batch's target and the stored retry");
}
