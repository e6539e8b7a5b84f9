//! One person's way into a community, in a real headless Chromium, as the issue tells it: sign up,
//! sign in, ask to join an approval community with a reason, the coordinator approves on the
//! desk, the member starts a topic and replies, likes a post, takes the last place at an event,
//! reports a post, the coordinator removes it and resolves the report, the member reads the
//! notifications, and signs out. Screenshots at 1280 and 390 px are written when it fails.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{post, site};
use copse_tests::{
    browser::Browser,
    builders::{communities::open_community, events, posts::local_topic},
    visitor::account_with_password,
    TestInstance,
};
use reqwest::Method;
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

const PASSWORD: &str = "a long enough password";
const POST_LABEL: &str =
    "Text (Markdown: **bold**, _italic_, [links](https://…), @name@server mentions, #hashtags)";

async fn sign_in(b: &Browser, a: &TestInstance, name: &str) {
    b.sign_in(a, name, PASSWORD).await;
}

async fn sign_out(b: &Browser) {
    b.click("Sign out").await;
    b.wait_for_text("Sign up").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_joins_takes_part_and_is_told_what_happened() {
    let Some(b) = Browser::start("a_newcomer_joins_takes_part_and_is_told_what_happened").await
    else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    site::Entity::update_many()
        .col_expr(site::Column::Registration, Expr::value("open"))
        .exec(a.db())
        .await
        .unwrap();
    let coco = account_with_password(&a, "coco", PASSWORD).await;
    let bob = account_with_password(&a, "bob", PASSWORD).await;
    open_community(&a, &coco, "net").await;
    let (s, body) = a.follow(&bob, "net").await;
    assert!(s < 300, "{body}");
    let (s, body) = a
        .api(
            Method::PUT,
            "/api/v1/communities/net/settings",
            Some(&coco),
            Some(json!({ "membership_policy": "approval" })),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let bobs = local_topic(&a, &bob, "Cheap venues").await;
    let bobs = bobs["local_id"].as_i64().unwrap();
    let event = events::schedule(&a, &coco, events::workshop_with(json!({ "capacity": 1 }))).await;
    let event = post::Entity::find()
        .filter(post::Column::ApId.eq(event["ap_id"].as_str().unwrap()))
        .one(a.db())
        .await
        .unwrap()
        .unwrap()
        .id;

    // Sign up, then sign out and in again.
    b.goto(&a.url("/signup")).await;
    b.fill(
        "Name (your handle: lower-case letters, digits and _)",
        "ana",
    )
    .await;
    b.fill(
        "Password (at least 10 characters)",
        &format!("{PASSWORD}\u{e007}"),
    )
    .await;
    b.wait_for_text("Sign out").await;
    sign_out(&b).await;
    sign_in(&b, &a, "ana").await;

    // Ask to join, with a reason.
    b.goto(&a.url("/c/net")).await;
    b.fill(
        "Why do you want to join? The coordinators read this.",
        "I run a borough network in Hackney.",
    )
    .await;
    b.click("Ask to join").await;
    b.wait_for_text("Your request to join is waiting").await;
    sign_out(&b).await;

    // The coordinator approves on the desk.
    sign_in(&b, &a, "coco").await;
    b.goto(&a.url("/c/net/desk")).await;
    b.wait_for_text("I run a borough network in Hackney.").await;
    b.click("Approve ana").await;
    b.wait_for_text("No one is waiting.").await;
    sign_out(&b).await;

    // The member starts a topic, replies in it, and likes another.
    sign_in(&b, &a, "ana").await;
    b.goto(&a.url("/c/net")).await;
    b.wait_for_text("You are a member").await;
    b.click("New topic").await;
    b.fill("Title", "Mapping the boroughs").await;
    b.fill(POST_LABEL, "Who keeps a **list**?").await;
    b.click("Publish").await;
    b.wait_for_text("Who keeps a list?").await;
    b.click("Reply").await;
    b.fill("Your reply (Markdown)", "I will start one.").await;
    b.click("Send reply").await;
    b.wait_for_text("I will start one.").await;
    b.goto(&a.url(&format!("/post/{bobs}"))).await;
    b.click("♡ Like (0)").await;
    b.wait_for_text("♥ Liked (1)").await;

    // The last place at the event.
    b.goto(&a.url(&format!("/post/{event}"))).await;
    b.wait_for_text("1 of 1 places left").await;
    b.click("Going").await;
    b.wait_for_text("Not going").await;
    b.wait_for_text("full").await;

    // A report about bob's topic.
    b.goto(&a.url(&format!("/post/{bobs}"))).await;
    b.click("Report").await;
    b.fill("What is wrong with it?", "An advert, not a question.")
        .await;
    b.click("Send the report").await;
    b.wait_for_text("Thank you.").await;
    sign_out(&b).await;

    // The coordinator removes the post and resolves the report.
    sign_in(&b, &a, "coco").await;
    b.goto(&a.url(&format!("/post/{bobs}"))).await;
    b.click("Remove").await;
    b.fill("Why (for the log)", "Adverts go elsewhere.").await;
    b.click("Remove this post").await;
    b.goto(&a.url("/c/net/desk")).await;
    b.wait_for_text("An advert, not a question.").await;
    b.click("Resolve").await;
    b.wait_for_text("No open reports.").await;
    let removed = post::Entity::find_by_id(bobs)
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert!(removed.removed, "the reported post is removed");
    sign_out(&b).await;

    // The member is told, and signs out.
    sign_in(&b, &a, "ana").await;
    let header = b.text().await;
    assert!(
        header.contains("Notifications 3") || header.contains("Notifications 4"),
        "{header}"
    );
    b.goto(&a.url("/notifications")).await;
    b.wait_for_text("Your request to join The net was approved")
        .await;
    let text = b.text().await;
    assert!(text.contains("Welcome to The net"), "{text}");
    assert!(text.contains("Your report in The net was"), "{text}");
    b.set_width(390).await;
    b.wait_for_text("Mark all read").await;
    sign_out(&b).await;
}
