//! Taking part across servers from the browser: a person signed in on one Copse finds a
//! community on another, through the home page's box or through that community's "follow from
//! your own server" box (which reaches their server by its WebFinger subscribe template), joins
//! it and posts into it from their own server's pages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{community, community_follower, post};
use copse_tests::{
    visitor::{account_with_password, Visitor},
    wait_for, TestInstance,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::time::Duration;

const PASSWORD: &str = "a long enough password";
const T: Duration = Duration::from_secs(20);

async fn communities(inst: &TestInstance) -> u64 {
    community::Entity::find().count(inst.db()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_on_another_copse_follows_from_their_server_joins_and_posts() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    a.create_community("net", "London Networks").await;
    account_with_password(&b, "bob", PASSWORD).await;

    // On alpha, a visitor types their beta handle into the community's box and is sent to
    // beta's page for it.
    let mut on_a = Visitor::new(&a);
    let res = on_a
        .get(&format!("/c/net/remote-follow?handle=@bob@{}", b.domain))
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let there = res.location.unwrap();
    let expected = format!("{}authorize_interaction?uri=net%40", b.url("/"));
    assert!(there.starts_with(&expected), "{there}");

    // On beta, signing in first brings them back to the same page.
    let path = there.trim_start_matches(b.url("/").as_str());
    let path = format!("/{path}");
    let mut on_b = Visitor::new(&b);
    let res = on_b.get(&path).await;
    assert_eq!(res.status, 303);
    assert!(
        res.location
            .as_deref()
            .unwrap()
            .starts_with("/signin?next="),
        "{:?}",
        res.location
    );
    on_b.sign_in("bob", PASSWORD).await;
    let res = on_b.get(&path).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page_path = res.location.unwrap();
    assert_eq!(page_path, format!("/c/net@{}", a.domain));

    // The community's page on beta, with beta's header and a Join button.
    let page = on_b.get(&page_path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("London Networks"), "{}", page.body);
    assert!(page.body.contains(&format!("@net@{}", a.domain)));
    assert!(page.body.contains(">Join</button>"), "{}", page.body);
    let res = on_b
        .submit(
            &page_path,
            &format!("{page_path}/join"),
            &[("listed", "yes")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location.as_deref(), Some(page_path.as_str()));
    wait_for("alpha counts bob as a member", T, || async {
        community_follower::Entity::find()
            .filter(community_follower::Column::Pending.eq(false))
            .count(a.db())
            .await
            .unwrap()
            == 1
    })
    .await;
    wait_for("beta hears the follow was accepted", T, || async {
        community_follower::Entity::find()
            .filter(community_follower::Column::Pending.eq(false))
            .count(b.db())
            .await
            .unwrap()
            == 1
    })
    .await;
    let page = on_b.get(&page_path).await;
    assert!(page.body.contains("You are a member"), "{}", page.body);
    assert!(
        page.body.contains(&format!("href=\"{page_path}\"")),
        "the header links to the community's page here"
    );

    // A topic written on beta arrives in the community on alpha.
    let res = on_b
        .submit(
            &format!("{page_path}/new"),
            &format!("{page_path}/new"),
            &[
                ("title", "Mapping the boroughs"),
                ("url", ""),
                ("content", "Who keeps a list?"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    wait_for("the topic reaches alpha", T, || async {
        post::Entity::find()
            .filter(post::Column::Title.eq("Mapping the boroughs"))
            .count(a.db())
            .await
            .unwrap()
            == 1
    })
    .await;
}

#[tokio::test]
async fn the_home_page_box_finds_a_community_for_people_signed_in_only() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    a.create_community("net", "London Networks").await;
    account_with_password(&b, "bob", PASSWORD).await;
    let handle = format!("@net@{}", a.domain);

    let mut stranger = Visitor::new(&b);
    let home = stranger.get("/").await;
    assert!(
        !home.body.contains("authorize_interaction"),
        "{}",
        home.body
    );
    let res = stranger
        .get(&format!("/authorize_interaction?uri={handle}"))
        .await;
    assert_eq!(res.status, 303);
    assert!(res.location.unwrap().starts_with("/signin"));
    // Nobody signed in, so nothing was fetched: beta still knows no community.
    assert_eq!(communities(&b).await, 0);
    let res = stranger.get(&format!("/c/net@{}", a.domain)).await;
    assert_eq!(
        res.status, 404,
        "an unknown remote community is not looked up"
    );
    assert_eq!(communities(&b).await, 0);

    let mut bob = Visitor::new(&b);
    bob.sign_in("bob", PASSWORD).await;
    let home = bob.get("/").await;
    assert!(home.body.contains("action=\"/authorize_interaction\""));
    assert!(home.body.contains("<label for=\"uri\">"));
    let res = bob
        .get(&format!("/authorize_interaction?uri={handle}"))
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location.unwrap(), format!("/c/net@{}", a.domain));
    assert_eq!(communities(&b).await, 1);

    let res = bob.get("/authorize_interaction?uri=not-a-handle").await;
    assert_eq!(res.status, 404, "{}", res.body);
    let res = bob.get("/authorize_interaction?uri=").await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("community&#39;s handle") || res.body.contains("community's handle"));
}

#[tokio::test]
async fn a_persons_webfinger_names_where_to_follow_from() {
    let b = TestInstance::spawn("beta").await;
    account_with_password(&b, "bob", PASSWORD).await;
    let url = b.url(&format!(
        "/.well-known/webfinger?resource=acct:bob@{}",
        b.domain
    ));
    let jrd: serde_json::Value = b
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let template = jrd["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "http://ostatus.org/schema/1.0/subscribe")
        .and_then(|l| l["template"].as_str())
        .expect("a subscribe template");
    assert_eq!(
        template,
        format!("{}authorize_interaction?uri={{uri}}", b.url("/"))
    );
}
