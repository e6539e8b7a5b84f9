//! Every kind of page passes the basic accessibility checks in a real Chromium, at 1280 and at
//! 390 px wide: labels on every field, one `h1` and headings in order, names on links, buttons
//! and images, WCAG AA contrast for all text, nothing wider than the window
//! (`copse_tests::a11y`). And a person signs in with the keyboard alone, seeing where the focus is.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::post;
use copse_tests::{
    a11y,
    browser::{Browser, WIDTHS},
    builders::{communities::open_community, events, posts::local_topic},
    visitor::admin_with_password,
    TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

const PASSWORD: &str = "a long enough password";

/// Opens each page at each width and collects what the audit finds, naming the page.
async fn audit(b: &Browser, a: &TestInstance, pages: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for width in WIDTHS {
        b.set_width(width).await;
        for page in pages {
            b.goto(&a.url(page)).await;
            for p in a11y::problems(b).await {
                found.push(format!("{page} at {width} px: {p}"));
            }
        }
    }
    b.set_width(WIDTHS[0]).await;
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_page_passes_the_basic_accessibility_checks() {
    let Some(b) = Browser::start("every_kind_of_page_passes_the_basic_accessibility_checks").await
    else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let ada = admin_with_password(&a, "ada", PASSWORD).await;
    open_community(&a, &ada, "net").await;
    let topic = local_topic(&a, &ada, "Mapping the boroughs").await;
    let topic = topic["local_id"].as_i64().unwrap();
    let (s, body) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{topic}/replies"),
            Some(&ada),
            Some(json!({ "content": "A first answer with a [link](https://example.org/)." })),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let event = events::schedule(&a, &ada, events::workshop_with(json!({ "capacity": 3 }))).await;
    let event = post::Entity::find()
        .filter(post::Column::ApId.eq(event["ap_id"].as_str().unwrap()))
        .one(a.db())
        .await
        .unwrap()
        .unwrap()
        .id;

    let public: Vec<String> = [
        "/",
        "/c/net",
        "/c/net/rules",
        "/c/net/members",
        &format!("/post/{topic}"),
        &format!("/post/{event}"),
        "/u/ada",
        "/signin",
        "/signup",
        "/no/such/page",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    let mut found = audit(&b, &a, &public).await;

    // Signed in with the keyboard alone: Tab reaches the name, the password and the button,
    // each showing the focus, and Enter signs in.
    b.goto(&a.url("/signin")).await;
    let mut reached = Vec::new();
    for _ in 0..30 {
        let now = b.tab().await;
        if now.starts_with("input") || now.starts_with("button") {
            assert!(b.focus_is_visible().await, "no visible focus on {now}");
        }
        reached.push(now.clone());
        if now == "input Name" {
            b.type_here("ada").await;
        }
        if now == "input Password" {
            b.type_here(PASSWORD).await;
        }
        if now == "button Sign in" {
            break;
        }
    }
    let at = |what: &str| reached.iter().position(|r| r == what);
    assert!(
        at("input Name") < at("input Password")
            && at("input Password") < at("button Sign in")
            && at("input Name").is_some(),
        "Tab went through {reached:?}"
    );
    b.type_here("\u{e007}").await;
    b.wait_for_text("Sign out").await;

    let signed_in: Vec<String> = [
        "/",
        "/c/net",
        "/c/net/new",
        &format!("/post/{topic}"),
        &format!("/post/{topic}/edit"),
        &format!("/post/{topic}/report"),
        &format!("/post/{event}"),
        &format!("/post/{event}/event/edit"),
        &format!("/post/{event}/event/cancel"),
        "/c/net/events/new",
        "/c/net/desk",
        "/c/net/desk/members",
        "/c/net/desk/bans",
        "/c/net/desk/topics",
        "/c/net/desk/log",
        "/c/net/desk/settings",
        "/settings",
        "/settings/tokens",
        "/settings/notifications",
        "/notifications",
        "/admin",
        "/admin/accounts",
        "/admin/registration",
        "/admin/invites",
        "/admin/communities",
        "/admin/domains",
        "/admin/queue",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    found.extend(audit(&b, &a, &signed_in).await);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_finds_each_kind_of_problem() {
    let Some(b) = Browser::start("the_audit_finds_each_kind_of_problem").await else {
        return;
    };
    let bad = "<html><head><title>Bad</title></head><body>\
        <h1>One</h1><h1>Two</h1><h4>Skipped</h4>\
        <input id=nolabel><img src=x.png>\
        <button></button>\
        <p style='color:#aaa'>Pale text</p>\
        <div style='width:2000px'>Wide</div></body></html>";
    let url = url::Url::parse(&format!("data:text/html,{}", bad.replace('#', "%23"))).unwrap();
    b.goto(&url).await;
    let found = a11y::problems(&b).await.join("\n");
    for expected in [
        "the page has no lang",
        "2 h1 headings",
        "H4 \"Skipped\" follows h1",
        "field without a label",
        "image without alt",
        "link or button without a name",
        "contrast 2.32 < 4.5 for \"Pale text\"",
        "px wide in a",
    ] {
        assert!(found.contains(expected), "{expected:?} not in:\n{found}");
    }
}
