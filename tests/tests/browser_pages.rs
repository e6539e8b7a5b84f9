//! The pages as a person sees them, in a real headless Chromium: from the home page to a
//! community, a topic and its replies, and an event. Skipped, with a notice, where Chromium is
//! not installed (unless `COPSE_REQUIRE_BROWSER=1`).

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_tests::{
    browser::Browser,
    builders::{communities::open_community, events, posts::local_topic},
    TestInstance,
};
use reqwest::Method;
use serde_json::json;

/// Posts a reply to the post `id` as the account with `token`.
async fn reply(a: &TestInstance, token: &str, id: i64, text: &str) -> i64 {
    let (s, r) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{id}/replies"),
            Some(token),
            Some(json!({ "content": text })),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    r["local_id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_finds_the_replies_from_the_home_page() {
    let Some(browser) = Browser::start("a_person_finds_the_replies_from_the_home_page").await
    else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    open_community(&a, &ana, "net").await;
    let topic = local_topic(&a, &ana, "Sharing budgets").await;
    let id = topic["local_id"].as_i64().unwrap();
    let first = reply(&a, &ana, id, "We share ours every quarter.").await;
    reply(&a, &ana, first, "Quarterly works for us too.").await;

    browser.goto(&a.url("/")).await;
    browser.wait_for_text("The net").await;
    browser.click("The net").await;
    browser.wait_for_text("Sharing budgets").await;
    assert_eq!(browser.url().await.path(), "/c/net");
    browser.click("Sharing budgets").await;
    browser.wait_for_text("Replies").await;
    let text = browser.text().await;
    assert!(text.contains("We share ours every quarter."), "{text}");
    assert!(text.contains("Quarterly works for us too."), "{text}");
    assert_eq!(browser.url().await.path(), format!("/post/{id}"));
    assert!(browser.title().await.starts_with("Sharing budgets"));

    // The same page on a phone still shows the thread, and the way back to the community.
    browser.set_width(390).await;
    browser.click("The net").await;
    browser.wait_for_text("Upcoming events").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_reads_an_event_from_its_community() {
    let Some(browser) = Browser::start("a_person_reads_an_event_from_its_community").await else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    open_community(&a, &ana, "net").await;
    events::schedule(&a, &ana, events::workshop()).await;

    browser.goto(&a.url("/c/net")).await;
    browser.click("Launch workshop").await;
    browser.wait_for_text("The Kenn Centre").await;
    let text = browser.text().await;
    assert!(text.contains("2 places left"), "{text}");
    assert!(text.contains("Download calendar (.ics)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_address_shows_a_page_that_leads_home() {
    let Some(browser) = Browser::start("a_wrong_address_shows_a_page_that_leads_home").await else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    open_community(&a, &ana, "net").await;
    browser.goto(&a.url("/c/nett")).await;
    browser.wait_for_text("Page not found").await;
    assert!(browser.text().await.contains("community not found"));
    browser.click("Go to the home page").await;
    browser.wait_for_text("The net").await;
    assert_eq!(browser.url().await.path(), "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_is_filled_by_its_label() {
    let Some(browser) = Browser::start("a_field_is_filled_by_its_label").await else {
        return;
    };
    let page = "data:text/html,<label for=n>Your name</label><input id=n>\
                <label>Bio <textarea></textarea></label><button>Save</button>";
    browser.goto(&url::Url::parse(page).unwrap()).await;
    browser.fill("Your name", "Ana \"the\" coordinator").await;
    browser.fill("Bio", "Hello").await;
    assert_eq!(browser.value("Your name").await, "Ana \"the\" coordinator");
    assert_eq!(browser.value("Bio").await, "Hello");
    browser.click("Save").await;
}
