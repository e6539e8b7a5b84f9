//! The desk's partner and network forms without a browser: only coordinators open or post
//! them, a form without its CSRF token changes nothing, refusals are shown beside the field at
//! fault (an empty or unknown handle; a parent the coordinator does not coordinate) and nothing
//! is half-written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{community, partnership};
use copse_tests::{
    visitor::{account_with_password, Visitor},
    TestInstance,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

const PASSWORD: &str = "a long enough password";

async fn partnerships(i: &TestInstance) -> u64 {
    partnership::Entity::find().count(i.db()).await.unwrap()
}

#[tokio::test]
async fn only_coordinators_use_the_partner_desk_and_refusals_name_their_field() {
    let a = TestInstance::spawn("alpha").await;
    let alice = account_with_password(&a, "alice", PASSWORD).await;
    let tom = account_with_password(&a, "tom", PASSWORD).await;
    a.community_with(&alice, "leeds", json!({ "membership_policy": "open" }))
        .await;
    a.community_with(&tom, "york", json!({ "membership_policy": "open" }))
        .await;
    let (s, _) = a.follow(&tom, format!("leeds@{}", a.domain)).await;
    assert_eq!(s, 202);

    // Tom is a member of leeds, not a coordinator.
    let mut member = Visitor::new(&a);
    member.sign_in("tom", PASSWORD).await;
    assert_eq!(member.get("/c/leeds/desk/partners").await.status, 403);
    let csrf = member.get("/c/leeds").await.csrf();
    let res = member
        .post(
            "/c/leeds/desk/partners",
            &[("csrf", &csrf), ("action", "ask"), ("community", "york")],
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(partnerships(&a).await, 0);

    let mut coord = Visitor::new(&a);
    coord.sign_in("alice", PASSWORD).await;
    // Without the token: refused, nothing asked.
    let res = coord
        .post(
            "/c/leeds/desk/partners",
            &[("action", "ask"), ("community", "york")],
        )
        .await;
    assert!(res.status == 403 || res.status == 400, "{}", res.status);
    assert_eq!(partnerships(&a).await, 0);
    // An empty handle, then one nobody knows: said beside the field.
    let res = coord
        .submit(
            "/c/leeds/desk/partners",
            "/c/leeds/desk/partners",
            &[("action", "ask"), ("community", "")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("id=\"community-error\""), "{}", res.body);
    let res = coord
        .submit(
            "/c/leeds/desk/partners",
            "/c/leeds/desk/partners",
            &[("action", "ask"), ("community", "leeds")],
        )
        .await;
    assert!(res.body.contains("id=\"community-error\""), "{}", res.body);
    assert!(res.body.contains("itself"), "{}", res.body);
    assert_eq!(partnerships(&a).await, 0);
    // York is open: partners at once, listed on the desk.
    let res = coord
        .submit(
            "/c/leeds/desk/partners",
            "/c/leeds/desk/partners",
            &[("action", "ask"), ("community", "york")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let desk = coord.get("/c/leeds/desk/partners").await;
    assert!(desk.body.contains("The york") && desk.body.contains("we follow it"));
    assert_eq!(partnerships(&a).await, 1);
}

#[tokio::test]
async fn a_parent_the_coordinator_does_not_coordinate_is_refused_beside_its_field() {
    let a = TestInstance::spawn("alpha").await;
    let alice = account_with_password(&a, "alice", PASSWORD).await;
    let bob = account_with_password(&a, "bob", PASSWORD).await;
    a.community_with(&alice, "national", json!({ "membership_policy": "open" }))
        .await;
    a.community_with(&bob, "camden", json!({ "membership_policy": "open" }))
        .await;
    let mut coord = Visitor::new(&a);
    coord.sign_in("bob", PASSWORD).await;
    let page = coord.get("/c/camden/desk/settings").await;
    // Only the communities bob may place it under are offered: none but "no community".
    assert!(
        !page.body.contains("<option value=\"national\""),
        "{}",
        page.body
    );
    // A hand-made form naming national anyway.
    let csrf = page.csrf();
    let res = coord
        .post(
            "/c/camden/desk/settings",
            &[
                ("csrf", &csrf),
                ("title", "The camden"),
                ("membership_policy", "open"),
                ("welcome_mode", "public"),
                ("topic_policy", "members"),
                ("reply_policy", "members"),
                ("require_rules_agreement", "false"),
                ("parent", "national"),
                ("parent_members_only", "false"),
            ],
        )
        .await;
    assert!(res.body.contains("id=\"parent-error\""), "{}", res.body);
    assert!(
        res.body.contains("only coordinators of The national"),
        "{}",
        res.body
    );
    let camden = community::Entity::find()
        .filter(community::Column::Name.eq("camden"))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert!(camden.parent_ap_id.is_none());

    // Alice coordinates national, and london below it: london is offered national, and
    // national is offered neither london (below it) nor itself.
    a.community_with(
        &alice,
        "london",
        json!({ "membership_policy": "open", "parent": "national" }),
    )
    .await;
    let mut alice_in = Visitor::new(&a);
    alice_in.sign_in("alice", PASSWORD).await;
    let london = alice_in.get("/c/london/desk/settings").await;
    assert!(
        london.body.contains("<option value=\"national\" selected"),
        "{}",
        london.body
    );
    let national = alice_in.get("/c/national/desk/settings").await;
    assert!(
        !national.body.contains("<option value=\"london\""),
        "{}",
        national.body
    );
    assert!(
        !national.body.contains("<option value=\"national\""),
        "{}",
        national.body
    );
}
