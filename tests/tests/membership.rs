//! Membership of an open community across instances, one behaviour per test: its profile,
//! welcomes, roles, the directory, bans and unbans, all federated and recorded, and that only
//! members post. Approval and invitations are in `membership_admission.rs`.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::community_follower;
use copse_tests::{
    builders::{
        activities::wait_received,
        communities::{accepted_follows, member_id},
        T,
    },
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

/// Alpha's open "net" (with rules, a purpose and a welcome) coordinated by ana, which max
/// (local), cyd (on gamma) and then bob (on beta) have joined, each accepted.
struct Open {
    a: TestInstance,
    b: TestInstance,
    c: TestInstance,
    ana: String,
    max: String,
    bob: String,
    /// `net@alpha...`, to join by.
    handle: String,
    /// Bob's actor id.
    bob_id: String,
}

impl Open {
    async fn new() -> Self {
        let (a, ana) = open_net().await;
        let b = TestInstance::spawn("beta").await;
        let c = TestInstance::spawn("gamma").await;
        let max = a.create_user("max").await;
        let bob = b.create_user("bob").await;
        let cyd = c.create_user("cyd").await;
        let handle = format!("net@{}", a.domain);
        let (s, j) = c.follow(&cyd, &handle).await;
        assert_eq!((s, j["status"].as_str()), (202, Some("pending")));
        wait_for("cyd accepted", T, || async {
            accepted_follows(&c).await == 1
        })
        .await;
        let (s, _) = a.follow(&max, &"net").await;
        assert_eq!(s, 202);
        let (s, _) = b.follow(&bob, &handle).await;
        assert_eq!(s, 202);
        wait_for("bob accepted", T, || async {
            accepted_follows(&b).await == 1
        })
        .await;
        let bob_id = b.url("/u/bob").to_string();
        Self {
            a,
            b,
            c,
            ana,
            max,
            bob,
            handle,
            bob_id,
        }
    }

    /// Ana bans bob for spam; waits until beta has the Block.
    async fn ban_bob(&self) -> Value {
        let ban = json!({ "handle": format!("bob@{}", self.b.domain), "reason": "spam" });
        let (s, _) = self
            .a
            .api(
                Method::POST,
                "/api/v1/communities/net/bans",
                Some(&self.ana),
                Some(ban),
            )
            .await;
        assert_eq!(s, 201);
        wait_received(&self.b, "the Block", |v| {
            v["type"] == "Announce" && v["object"]["type"] == "Block"
        })
        .await
    }

    /// Ana lifts bob's ban; waits until beta has the Undo{Block}.
    async fn unban_bob(&self) {
        let bob_local = member_or_banned_id(&self.a, &self.bob_id).await;
        let (s, _) = self
            .a
            .api(
                Method::DELETE,
                &format!("/api/v1/communities/net/bans/{bob_local}"),
                Some(&self.ana),
                None,
            )
            .await;
        assert_eq!(s, 204);
        wait_received(&self.b, "the Undo{Block}", |v| {
            v["type"] == "Announce" && v["object"]["type"] == "Undo"
        })
        .await;
    }
}

/// Alpha with an open "net" (rules, purpose, welcome) coordinated by ana; ana's token.
async fn open_net() -> (TestInstance, String) {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(&ana, "net", json!({ "rules": "Be kind.", "purpose": "Share practice.", "welcome_template": "Hello {name}, welcome to {title}! Rules: {rules}" })).await;
    (a, ana)
}

/// The local person id of `actor` (a member, or banned and so no longer one).
async fn member_or_banned_id(a: &TestInstance, actor: &str) -> i64 {
    use copse_entities::person;
    use sea_orm::{ColumnTrait, QueryFilter};
    person::Entity::find()
        .filter(person::Column::ApId.eq(actor))
        .one(a.db())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{actor} is unknown"))
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_community_shows_its_key_facts_and_no_lock() {
    let (a, _) = open_net().await;
    // Mastodon shows the key facts as profile fields, and no lock for an open community.
    let (_, group) = a.get_ap(&a.url("/c/net")).await;
    assert_eq!(group["manuallyApprovesFollowers"], false);
    let fields = group["attachment"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f["name"] == "Membership" && f["value"] == "open to all"),
        "{group}"
    );
    assert!(fields
        .iter()
        .any(|f| f["name"] == "Code of conduct"
            && f["value"].as_str().unwrap().contains("/c/net/rules")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_is_welcomed_in_public_and_added_to_the_members() {
    let o = Open::new().await;
    let (a, c, bob_id) = (&o.a, &o.c, o.bob_id.as_str());
    // The welcome reaches cyd's instance, mentioning bob.
    let welcome = wait_received(c, "the welcome note", |v| {
        v["type"] == "Create"
            && v["object"]["tag"]
                .as_array()
                .is_some_and(|t| t.iter().any(|m| m["href"] == bob_id))
    })
    .await;
    let content = welcome["object"]["content"].as_str().unwrap();
    // The public welcome dereferences at its id.
    let (s, note) = c
        .get_ap(&welcome["object"]["id"].as_str().unwrap().parse().unwrap())
        .await;
    assert_eq!((s, note["type"].as_str()), (200, Some("Note")), "{note}");
    assert!(
        content.contains("welcome to The net") && content.contains("/c/net/rules"),
        "{content}"
    );
    assert!(welcome["object"]["cc"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x == bob_id));
    wait_received(c, "Add{bob} to members", |v| {
        v["type"] == "Add" && v["object"] == bob_id
    })
    .await;
    let (_, members) = a.get_ap(&a.url("/c/net/members")).await;
    assert_eq!(members["totalItems"], 4, "ana, cyd, max, bob: {members}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_coordinators_change_roles_and_a_role_federates_as_add_to_moderators() {
    let o = Open::new().await;
    let (a, bob_id) = (&o.a, o.bob_id.as_str());
    let bob_local = member_id(a, "net", bob_id).await;
    let role_path = format!("/api/v1/communities/net/members/{bob_local}/role");
    let role = |r: &str| Some(json!({ "role": r }));
    let (s, e) = a
        .api(Method::PUT, &role_path, Some(&o.max), role("facilitator"))
        .await;
    assert_eq!(s, 403, "{e}");
    let (s, e) = a
        .api(Method::PUT, &role_path, Some(&o.ana), role("overlord"))
        .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("role")), "{e}");
    let (s, _) = a
        .api(Method::PUT, &role_path, Some(&o.ana), role("facilitator"))
        .await;
    assert_eq!(s, 204);
    let add = wait_received(&o.c, "Announce{Add{bob, moderators}}", |v| {
        v["type"] == "Announce" && v["object"]["type"] == "Add"
    })
    .await;
    assert_eq!(add["object"]["object"], bob_id);
    assert!(add["object"]["target"]
        .as_str()
        .unwrap()
        .ends_with("/c/net/moderators"));
    let (_, mods) = a.get_ap(&a.url("/c/net/moderators")).await;
    assert!(
        mods["orderedItems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == bob_id),
        "{mods}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_counts_but_does_not_name_members_who_are_not_discoverable() {
    let o = Open::new().await;
    // Bob's server publishes no `discoverable`.
    let (_, dir) =
        o.a.api(Method::GET, "/api/v1/communities/net/members", None, None)
            .await;
    assert_eq!(dir["total"], 4, "{dir}");
    assert!(
        !dir["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["person"]["id"] == o.bob_id.as_str()),
        "{dir}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_federates_as_block_and_the_banned_cannot_rejoin() {
    let o = Open::new().await;
    let (a, b) = (&o.a, &o.b);
    let (s, e) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/bans",
            Some(&o.max),
            Some(json!({ "handle": format!("bob@{}", b.domain) })),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    let block = o.ban_bob().await;
    assert_eq!(block["object"]["object"], o.bob_id.as_str());
    assert_eq!(block["object"]["target"], a.url("/c/net").as_str());
    assert_eq!(block["object"]["summary"], "spam");
    let (_, members) = a.get_ap(&a.url("/c/net/members")).await;
    assert_eq!(members["totalItems"], 3);
    let (s, _) = b.follow(&o.bob, &o.handle).await;
    assert_eq!(s, 202);
    wait_for("bob's refused follow to be dropped", T, || async {
        community_follower::Entity::find()
            .count(b.db())
            .await
            .unwrap()
            == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unban_federates_as_undo_block_and_the_member_may_join_again() {
    let o = Open::new().await;
    o.ban_bob().await;
    o.unban_bob().await;
    let (s, _) = o.b.follow(&o.bob, &o.handle).await;
    assert_eq!(s, 202);
    wait_for("bob accepted again", T, || async {
        accepted_follows(&o.b).await == 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_decision_is_recorded_and_only_coordinators_read_the_record() {
    let o = Open::new().await;
    let a = &o.a;
    let bob_local = member_id(a, "net", &o.bob_id).await;
    let (s, _) = a
        .api(
            Method::PUT,
            &format!("/api/v1/communities/net/members/{bob_local}/role"),
            Some(&o.ana),
            Some(json!({ "role": "facilitator" })),
        )
        .await;
    assert_eq!(s, 204);
    o.ban_bob().await;
    // The refused follow of a banned member is recorded too.
    assert_eq!(o.b.follow(&o.bob, &o.handle).await.0, 202);
    wait_for("bob's refused follow to be dropped", T, || async {
        community_follower::Entity::find()
            .count(o.b.db())
            .await
            .unwrap()
            == 0
    })
    .await;
    o.unban_bob().await;
    let log_path = "/api/v1/communities/net/log";
    assert_eq!(
        a.api(Method::GET, log_path, Some(&o.max), None).await.0,
        403
    );
    let (_, log) = a.api(Method::GET, log_path, Some(&o.ana), None).await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    for action in ["join", "role", "ban", "refuse", "unban"] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    let ban = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["action"] == "ban")
        .unwrap();
    assert_eq!(ban["reason"], "spam");
    assert_eq!(ban["who"], a.url("/u/ana").as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_non_member_cannot_post() {
    let (a, _ana) = open_net().await;
    let zed = a.create_user("zed").await;
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&zed),
            Some(json!({ "title": "Hi", "content": "hello" })),
        )
        .await;
    assert_eq!(s, 403, "{body}");
}
