//! A delivery whose receiver is down is kept, retried, and arrives once the receiver is back.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{community_follower, delivery, delivery::DeliveryStatus, post};
use copse_tests::{wait_for, TestInstance};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_to_a_down_instance_is_retried_until_it_is_back() {
    let a = TestInstance::spawn("alpha").await;
    let mut b = TestInstance::spawn("beta").await;
    a.create_community("net", "London Networks").await;
    let ana = a.create_user("ana").await;
    let bob = b.create_user("bob").await;
    let (s, _) = b.follow(&bob, &format!("net@{}", a.domain)).await;
    assert_eq!(s, 202);
    wait_for("follow accepted", T, || async {
        community_follower::Entity::find()
            .filter(community_follower::Column::Pending.eq(false))
            .count(b.db())
            .await
            .unwrap()
            == 1
    })
    .await;

    b.stop().await;
    let (s, _) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&ana),
            Some(json!({ "title": "While you were out", "content": "x" })),
        )
        .await;
    assert_eq!(s, 201);
    // Attempts fail while beta is down; both forms stay pending, the first with a growing
    // attempt count (the bare form behind it is counted too, as "not tried").
    wait_for("failed attempts", T, || async {
        let pending =
            delivery::Entity::find().filter(delivery::Column::Status.eq(DeliveryStatus::Pending));
        pending.clone().count(a.db()).await.unwrap() >= 2
            && pending
                .filter(delivery::Column::Attempts.gte(2))
                .count(a.db())
                .await
                .unwrap()
                >= 1
    })
    .await;
    let failing = delivery::Entity::find()
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert!(failing.last_error.is_some());

    b.restart().await;
    wait_for("the post to arrive after the restart", T, || async {
        post::Entity::find().count(b.db()).await.unwrap() == 1
    })
    .await;
    wait_for("every delivery done, and its row deleted", T, || async {
        a.queued_deliveries().await == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_refusals_are_not_retried() {
    let a = TestInstance::spawn("alpha").await;
    a.create_community("net", "London Networks").await;
    let ana = a.create_user("ana").await;
    let fake = copse_tests::fake::FakeServer::start().await;
    // A follower on a server that answers every delivery with 403.
    let vic = fake.actor("gone", "vic");
    let vic_person = copse_federation::fetch::resolve_actor(&a.data(), &vic.id)
        .await
        .unwrap();
    let copse_federation::fetch::ActorRef::Person(p) = vic_person else {
        panic!("not a person")
    };
    let net = copse_server::accounts::local_community(a.db(), "net")
        .await
        .unwrap()
        .unwrap();
    let data = a.data();
    let txn = copse_federation::context::begin(&data.db).await.unwrap();
    use sea_orm::{ActiveValue::NotSet, Set};
    community_follower::Entity::insert(community_follower::ActiveModel {
        id: NotSet,
        community_id: Set(net.id),
        person_id: Set(p.id),
        follow_id: Set(vic.id.clone().into()),
        pending: Set(false),
        published: Set(chrono::Utc::now()),
        ..Default::default()
    })
    .exec(&txn)
    .await
    .unwrap();
    txn.commit().await.unwrap();
    fake.set_status(Some(axum::http::StatusCode::FORBIDDEN));
    let (s, _) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&ana),
            Some(json!({ "title": "t", "content": "x" })),
        )
        .await;
    assert_eq!(s, 201);
    wait_for("both deliveries failed", T, || async {
        delivery::Entity::find()
            .filter(delivery::Column::Status.eq(DeliveryStatus::Failed))
            .count(a.db())
            .await
            .unwrap()
            == 2
    })
    .await;
    for d in delivery::Entity::find().all(a.db()).await.unwrap() {
        assert_eq!(d.attempts, 1, "a 403 is not retried");
    }
}
