//! A community's member directory for browsers: only those who chose to be listed (local people
//! by their choice, people from elsewhere by their `discoverable`), their roles, and the count of
//! everyone; paged; linked from the community's page. Servers still get the collection. A member
//! from another Copse is listed as their `Person`'s `discoverable` says, and follows it when it
//! changes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_tests::{
    builders::communities::{fake_follower, network},
    fake::FakeServer,
    visitor::{account_with_password, Visitor},
    wait_for, TestInstance,
};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const PASSWORD: &str = "a long enough password";

async fn join(inst: &TestInstance, name: &str, listed: bool) {
    account_with_password(inst, name, PASSWORD).await;
    let mut v = Visitor::new(inst);
    v.sign_in(name, PASSWORD).await;
    let fields: &[(&str, &str)] = if listed { &[("listed", "yes")] } else { &[] };
    let res = v.submit("/c/net", "/c/net/join", fields).await;
    assert_eq!(res.status, 303, "{}", res.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_lists_only_listed_members_and_counts_all() {
    let a = TestInstance::spawn("alpha").await;
    let owner = a.create_user("owner").await;
    let group = network(&a, &owner, "en").await;
    join(&a, "lena", true).await;
    join(&a, "hidden", false).await;
    let fake = FakeServer::start().await;
    fake_follower(&a, &fake, "masto", "shy", &group).await;

    let page = Visitor::new(&a).get("/c/net/members").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("4 members"), "{}", page.body);
    assert!(page.body.contains("href=\"/u/lena\""), "{}", page.body);
    assert!(page.body.contains("@lena@"));
    assert!(
        !page.body.contains("hidden"),
        "an unlisted member is not named"
    );
    assert!(
        !page.body.contains("shy"),
        "a remote member who is not discoverable is not named"
    );
    assert!(page.body.contains("member</span>"));

    let community = Visitor::new(&a).get("/c/net").await;
    assert!(community.body.contains("href=\"/c/net/members\""));

    // Servers get the collection at the same address.
    let (s, doc) = a.get_ap(&a.url("/c/net/members")).await;
    assert_eq!(s, 200);
    assert_eq!(doc["totalItems"], 4);
}

#[tokio::test]
async fn choosing_not_to_be_listed_in_settings_unlists_everywhere() {
    let a = TestInstance::spawn("alpha").await;
    let owner = a.create_user("owner").await;
    network(&a, &owner, "en").await;
    join(&a, "lena", true).await;
    assert!(Visitor::new(&a)
        .get("/c/net/members")
        .await
        .body
        .contains("/u/lena"));

    let mut v = Visitor::new(&a);
    v.sign_in("lena", PASSWORD).await;
    // Her own setting (what her Person publishes) is off; the community she joined listed
    // still lists her, and the form says so.
    let form = v.get("/settings").await;
    assert!(
        !form
            .body
            .contains("name=\"discoverable\" value=\"yes\" checked"),
        "{}",
        form.body
    );
    assert!(
        form.body
            .contains("joining 1 community, which still lists you"),
        "{}",
        form.body
    );
    let csrf = form.csrf();
    // Saving a new name alone keeps the choice made when joining.
    let res = v
        .post_multipart(
            "/settings",
            &[
                ("csrf", &csrf),
                ("discoverable_was", "no"),
                ("display_name", "Lena"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(Visitor::new(&a)
        .get("/c/net/members")
        .await
        .body
        .contains("/u/lena"));
    let res = v
        .post_multipart(
            "/settings",
            &[
                ("csrf", &csrf),
                ("discoverable_was", "no"),
                ("unlist_everywhere", "yes"),
                ("display_name", "Lena"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = Visitor::new(&a).get("/c/net/members").await;
    assert!(!page.body.contains("/u/lena"), "{}", page.body);
    assert!(page.body.contains("2 members"));
    let person = Visitor::new(&a).get("/u/lena").await;
    assert!(!person.body.contains("The net"), "nor on her page");
}

#[tokio::test]
async fn the_directory_is_paged() {
    let a = TestInstance::spawn("alpha").await;
    let owner = a.create_user("owner").await;
    network(&a, &owner, "en").await;
    let c = copse_server::accounts::local_community(a.db(), "net")
        .await
        .unwrap()
        .unwrap();
    for i in 0..55 {
        let name = format!("m{i:02}");
        use sea_orm::{ActiveValue::NotSet, EntityTrait, Set};
        // Rows only: making 55 accounts with their keys would take a minute.
        let id = a.url(&format!("/u/{name}"));
        let p = copse_entities::person::Entity::insert(copse_entities::person::ActiveModel {
            ap_id: Set(id.clone().into()),
            name: Set(name.clone()),
            inbox: Set(a.url(&format!("/u/{name}/inbox")).into()),
            key_id: Set(a.url(&format!("/u/{name}#main-key")).into()),
            public_key_pem: Set(String::new()),
            local: Set(true),
            published: Set(chrono::Utc::now()),
            fetched_at: Set(chrono::Utc::now()),
            ..Default::default()
        })
        .exec_with_returning(a.db())
        .await
        .unwrap();
        copse_entities::community_follower::Entity::insert(
            copse_entities::community_follower::ActiveModel {
                id: NotSet,
                community_id: Set(c.id),
                person_id: Set(p.id),
                follow_id: Set(a.url(&format!("/follows/{name}")).into()),
                pending: Set(false),
                role: Set(copse_entities::community_follower::Role::Member),
                reason: Set(None),
                listed: Set(true),
                published: Set(chrono::Utc::now()),
                rules_agreed_at: Set(None),
                rules_version: Set(None),
            },
        )
        .exec(a.db())
        .await
        .unwrap();
    }
    let first = Visitor::new(&a).get("/c/net/members").await;
    assert!(first.body.contains("/u/m00") && !first.body.contains("/u/m54"));
    assert!(
        first.body.contains("href=\"/c/net/members?page=2\""),
        "{}",
        first.body
    );
    let second = Visitor::new(&a).get("/c/net/members?page=2").await;
    assert!(second.body.contains("/u/m54") && !second.body.contains("/u/m00\""));
}

/// True when `a`'s directory of "net" names the actor `id`.
async fn listed_in_net(a: &TestInstance, id: &str) -> bool {
    let (s, dir) = a
        .api(Method::GET, "/api/v1/communities/net/members", None, None)
        .await;
    assert_eq!(s, 200, "{dir}");
    dir["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["person"]["id"] == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_from_another_copse_is_listed_as_their_person_is_discoverable() {
    let a = TestInstance::spawn("alpha").await;
    let owner = a.create_user("owner").await;
    network(&a, &owner, "en").await;
    let b = TestInstance::spawn("beta").await;
    let bea = b.create_user("bea").await;
    let (s, body) = b.follow(&bea, format!("net@{}", a.domain)).await;
    assert_eq!(s, 202, "{body}");
    wait_for("bea's membership", Duration::from_secs(20), || async {
        b.received("Accept").await.len() == 1
    })
    .await;
    let bea_id = b.url("/u/bea");
    let (_, actor) = b.get_ap(&bea_id).await;
    assert_eq!(actor["discoverable"], false, "{actor}");
    assert!(!listed_in_net(&a, bea_id.as_str()).await);

    // Each change of her choice is an Update{Person}, which alpha's directory follows.
    for discoverable in [true, false] {
        let (s, me) = b
            .api(
                Method::PUT,
                "/api/v1/me",
                Some(&bea),
                Some(json!({ "discoverable": discoverable })),
            )
            .await;
        assert_eq!(s, 200, "{me}");
        let (_, actor) = b.get_ap(&bea_id).await;
        assert_eq!(actor["discoverable"], discoverable, "{actor}");
        wait_for("alpha's directory", Duration::from_secs(20), || async {
            listed_in_net(&a, bea_id.as_str()).await == discoverable
        })
        .await;
    }
    let updates = a.received("Update").await;
    let mut sent: Vec<Option<bool>> = updates
        .iter()
        .filter(|u| u["object"]["type"] == "Person")
        .map(|u| u["object"]["discoverable"].as_bool())
        .collect();
    sent.sort();
    assert_eq!(sent, [Some(false), Some(true)]);
}

#[tokio::test]
async fn the_join_form_is_ticked_as_the_person_chose_in_settings() {
    let a = TestInstance::spawn("alpha").await;
    let owner = a.create_user("owner").await;
    network(&a, &owner, "en").await;
    let lena = account_with_password(&a, "lena", PASSWORD).await;
    account_with_password(&a, "quiet", PASSWORD).await;
    let (s, body) = a
        .api(
            reqwest::Method::PUT,
            "/api/v1/me",
            Some(&lena),
            Some(serde_json::json!({ "discoverable": true })),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let ticked = "name=\"listed\" value=\"yes\" checked";

    let mut v = Visitor::new(&a);
    v.sign_in("lena", PASSWORD).await;
    let page = v.get("/c/net").await;
    assert!(page.body.contains(ticked), "{}", page.body);
    let mut q = Visitor::new(&a);
    q.sign_in("quiet", PASSWORD).await;
    let page = q.get("/c/net").await;
    assert!(page.body.contains("name=\"listed\" value=\"yes\""));
    assert!(!page.body.contains(ticked), "{}", page.body);

    // Sent back with an error, the form keeps the choice as it was sent, not as settings say.
    let (s, body) = a
        .api(
            reqwest::Method::PUT,
            "/api/v1/communities/net/settings",
            Some(&owner),
            Some(serde_json::json!({ "membership_policy": "approval" })),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let res = v.submit("/c/net", "/c/net/join", &[("reason", "")]).await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(!res.body.contains(ticked), "{}", res.body);
}
