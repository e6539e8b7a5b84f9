//! Communities and their members: set-up through the API, joins from another Copse instance
//! and from fake remote actors, and membership rows.

use super::T;
use crate::{
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use copse_entities::community_follower;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use url::Url;

/// A community `name` on `a` coordinated by the account with `token`, with `settings`.
pub async fn community(a: &TestInstance, token: &str, name: &str, settings: Value) -> Url {
    a.community_with(token, name, settings).await;
    a.url(&format!("/c/{name}"))
}

/// A community "net" on `a`, coordinated by the account with `token`, open to anyone, in
/// `languages` (e.g. `"en, cy"`).
pub async fn network(a: &TestInstance, token: &str, languages: &str) -> Url {
    community(
        a,
        token,
        "net",
        json!({ "membership_policy": "open", "languages": languages }),
    )
    .await
}

/// "net" on `a`, open to anyone, coordinated by a new account "ana", with new accounts "bob"
/// and "cat" as members: their tokens, in that order.
pub async fn network_with_members(a: &TestInstance) -> (String, String, String) {
    let ana = a.create_user("ana").await;
    network(a, &ana, "en").await;
    let bob = a.create_user("bob").await;
    let cat = a.create_user("cat").await;
    for t in [&bob, &cat] {
        let (s, body) = a.follow(t, format!("net@{}", a.domain)).await;
        assert!(s == 200 || s == 202, "{s} {body}");
    }
    (ana, bob, cat)
}

/// An open community `name` on `a` coordinated by the account with `token`, where members post.
pub async fn open_community(a: &TestInstance, token: &str, name: &str) -> Url {
    community(
        a,
        token,
        name,
        json!({ "membership_policy": "open", "topic_policy": "members", "reply_policy": "members" }),
    )
    .await
}

/// A fake actor `name` served under `label` who follows `group` on `a` (its `Accept` waited for).
pub async fn fake_follower(
    a: &TestInstance,
    fake: &FakeServer,
    label: &str,
    name: &str,
    group: &Url,
) -> FakeActor {
    let who = fake.actor(label, name);
    a.follow_as(fake, &who, label, group).await;
    who
}

/// A new account `name` on `b` who joins the community `community` of `a` and whose join
/// `Accept` has arrived on `b`; returns the account's token.
pub async fn copse_member(
    a: &TestInstance,
    b: &TestInstance,
    name: &str,
    community: &str,
) -> String {
    let token = b.create_user(name).await;
    let accepted = b.received("Accept").await.len();
    let (s, body) = b.follow(&token, format!("{community}@{}", a.domain)).await;
    assert_eq!(s, 202, "{body}");
    wait_for("the join's Accept", T, || async {
        b.received("Accept").await.len() > accepted
    })
    .await;
    token
}

/// How many accepted (not pending) memberships `i` holds.
pub async fn accepted_follows(i: &TestInstance) -> u64 {
    community_follower::Entity::find()
        .filter(community_follower::Column::Pending.eq(false))
        .count(i.db())
        .await
        .unwrap()
}

/// The local id of a member (listed in the directory or not).
pub async fn member_id(a: &TestInstance, community: &str, actor: &str) -> i64 {
    use copse_entities::{community, person};
    let c = community::Entity::find()
        .filter(community::Column::Name.eq(community))
        .filter(community::Column::Local.eq(true))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    let p = person::Entity::find()
        .filter(person::Column::ApId.eq(actor))
        .one(a.db())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{actor} is unknown"));
    let m = community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(c.id))
        .filter(community_follower::Column::PersonId.eq(p.id))
        .filter(community_follower::Column::Pending.eq(false))
        .one(a.db())
        .await
        .unwrap();
    assert!(m.is_some(), "{actor} is not a member of {community}");
    p.id
}
