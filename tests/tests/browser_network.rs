//! Sub-communities in a real headless Chromium: a coordinator places their community under
//! another they coordinate from the desk's settings, both pages show it, and someone who is not
//! a member of the parent is told to join it first. Skipped, with a notice, where Chromium is not
//! installed (unless `COPSE_REQUIRE_BROWSER=1`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::community;
use copse_tests::{browser::Browser, visitor::account_with_password, TestInstance};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

const PASSWORD: &str = "a long enough password";

async fn sign_in(b: &Browser, a: &TestInstance, name: &str) {
    b.sign_in(a, name, PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_places_a_community_under_another_from_the_desk() {
    let Some(b) = Browser::start("a_coordinator_places_a_community_under_another").await else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let alice = account_with_password(&a, "alice", PASSWORD).await;
    account_with_password(&a, "dave", PASSWORD).await;
    a.community_with(&alice, "national", json!({ "membership_policy": "open" }))
        .await;
    a.community_with(&alice, "london", json!({ "membership_policy": "open" }))
        .await;

    sign_in(&b, &a, "alice").await;
    b.goto(&a.url("/c/london/desk/settings")).await;
    b.choose(
        "Sits under (a community of this server you coordinate)",
        "The national",
    )
    .await;
    b.choose(
        "Only members of the community it sits under may join",
        "yes",
    )
    .await;
    b.click("Save the settings").await;
    b.wait_for_text("Saved, and sent to the community's followers.")
        .await;
    let london = community::Entity::find()
        .filter(community::Column::Name.eq("london"))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(london.parent_ap_id.map(|p| p.0), Some(a.url("/c/national")));
    assert!(london.parent_members_only);

    b.goto(&a.url("/c/london")).await;
    b.wait_for_text("Part of The national").await;
    b.goto(&a.url("/c/national")).await;
    b.wait_for_text("Sub-communities").await;
    b.click("The london").await;
    b.wait_for_text("Part of The national").await;

    // The network map draws it, and says it in words.
    b.click("Network map").await;
    b.wait_for_text("The london sits under The national").await;
    let script = "const i = document.querySelector('figure.map img'); \
                  return i.complete && i.naturalWidth > 0;";
    let mut drawn = serde_json::json!(false);
    for _ in 0..50 {
        drawn = b.run_script(script).await;
        if drawn == serde_json::json!(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(drawn, serde_json::json!(true), "the map's picture loads");

    b.click("Sign out").await;
    // The signed-out page, before the next sign-in starts.
    b.wait_for_text("Sign up").await;
    sign_in(&b, &a, "dave").await;
    b.goto(&a.url("/c/london")).await;
    b.wait_for_text("Only members of The national may join The london: join it first.")
        .await;
    b.click("The national").await;
    b.click("Join").await;
    b.wait_for_text("You are a member of this community.").await;
    b.goto(&a.url("/c/london")).await;
    b.click("Join").await;
    b.wait_for_text("You are a member of this community.").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinators_partner_two_communities_and_share_from_the_desk() {
    let Some(b) = Browser::start("coordinators_partner_two_communities").await else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let alice = account_with_password(&a, "alice", PASSWORD).await;
    let bea = account_with_password(&a, "bea", PASSWORD).await;
    a.community_with(&alice, "leeds", json!({ "membership_policy": "open" }))
        .await;
    a.community_with(
        &bea,
        "york",
        json!({ "membership_policy": "approval", "topic_policy": "members" }),
    )
    .await;
    let (s, _) = a
        .api(
            reqwest::Method::POST,
            "/api/v1/communities/york/posts",
            Some(&bea),
            Some(json!({ "title": "Winter food banks", "content": "Who has space?" })),
        )
        .await;
    assert_eq!(s, 201);

    sign_in(&b, &a, "alice").await;
    b.goto(&a.url("/c/leeds/desk/partners")).await;
    b.fill(
        "Ask a community to partner: its handle (here, or on any server: Copse, Lemmy, Mobilizon…)",
        "york",
    )
    .await;
    b.click("Ask to partner").await;
    b.wait_for_text("we follow it · waiting").await;
    b.click("Sign out").await;
    // The signed-out page, before the next sign-in starts.
    b.wait_for_text("Sign up").await;

    sign_in(&b, &a, "bea").await;
    b.goto(&a.url("/c/york/desk/partners")).await;
    b.wait_for_text("it follows us · waiting").await;
    b.click_in("The leeds", "Accept").await;
    b.wait_for_text("it follows us").await;
    b.wait_for_gone("waiting").await;
    b.click("Sign out").await;
    // The signed-out page, before the next sign-in starts.
    b.wait_for_text("Sign up").await;

    sign_in(&b, &a, "alice").await;
    b.goto(&a.url("/c/leeds/desk/partners")).await;
    b.click_in("Winter food banks", "Share with our followers")
        .await;
    b.wait_for_text("shared here").await;
    b.goto(&a.url("/c/leeds/partners")).await;
    b.wait_for_text("The york").await;
    b.wait_for_text("Winter food banks").await;
    let shares = copse_entities::partner_share::Entity::find()
        .all(a.db())
        .await
        .unwrap();
    assert_eq!(shares.len(), 1);
    assert_eq!(
        shares[0].status,
        copse_entities::partner_share::ShareStatus::Shared
    );
}
