//! Atom feeds as a feed reader reads them: a community's topics and events, a topic's replies,
//! linked from the pages, escaped, and showing only what the pages show.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use atom_syndication::Feed;
use copse_tests::{
    builders::{communities::open_community, events, posts::local_topic},
    TestInstance,
};
use reqwest::Method;
use serde_json::json;

const NASTY: &str = "<script>alert(1)</script> Tea & biscuits";

/// GETs a feed: its raw XML, parsed by the crate that wrote it but through its reader.
async fn feed(a: &TestInstance, path: &str) -> (String, Feed) {
    let res = a.client.get(a.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("application/atom+xml"), "{kind}");
    let xml = res.text().await.unwrap();
    let parsed = Feed::read_from(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}: {xml}"));
    (xml, parsed)
}

async fn status(a: &TestInstance, path: &str) -> u16 {
    a.client
        .get(a.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

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

async fn remove(a: &TestInstance, token: &str, id: i64) {
    let (s, body) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{id}/remove"),
            Some(token),
            Some(json!({ "reason": "off topic" })),
        )
        .await;
    assert_eq!(s, 204, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_community_feed_lists_its_topics_with_titles_escaped() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    open_community(&a, &ana, "net").await;
    let topic = local_topic(&a, &ana, NASTY).await;
    let id = topic["local_id"].as_i64().unwrap();
    local_topic(&a, &ana, "Second topic").await;

    let (xml, f) = feed(&a, "/c/net/feed.atom").await;
    assert!(!xml.contains("<script"), "{xml}");
    assert!(
        xml.contains("&lt;script&gt;alert(1)&lt;/script&gt; Tea &amp; biscuits"),
        "{xml}"
    );
    assert_eq!(f.title().as_str(), "The net");
    assert_eq!(f.entries().len(), 2);
    let entry = f
        .entries()
        .iter()
        .find(|e| e.title().as_str() == NASTY)
        .unwrap();
    assert_eq!(entry.id(), topic["id"].as_str().unwrap());
    assert_eq!(
        entry.links()[0].href(),
        a.url(&format!("/post/{id}")).as_str()
    );
    assert_eq!(entry.authors()[0].name(), "ana");
    assert_eq!(
        entry.content().unwrap().value().unwrap().trim(),
        "<p>Text.</p>"
    );
    let self_link = f.links().iter().find(|l| l.rel() == "self").unwrap();
    assert_eq!(self_link.href(), a.url("/c/net/feed.atom").as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_feed_lists_its_replies_and_leaves_out_removed_and_deleted_ones() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    open_community(&a, &ana, "net").await;
    let topic = local_topic(&a, &ana, "Sharing budgets").await;
    let id = topic["local_id"].as_i64().unwrap();
    reply(&a, &ana, id, "Every quarter & in public.").await;
    let removed = reply(&a, &ana, id, "Buy my course").await;
    let deleted = reply(&a, &ana, id, "Oops, wrong thread").await;
    remove(&a, &ana, removed).await;
    let (s, _) = a
        .api(
            Method::DELETE,
            &format!("/api/v1/posts/{deleted}"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 204);

    let (xml, f) = feed(&a, &format!("/post/{id}/feed.atom")).await;
    let titles: Vec<&str> = f.entries().iter().map(|e| e.title().as_str()).collect();
    assert_eq!(titles, ["ana replied to Sharing budgets"], "{xml}");
    assert!(xml.contains("Every quarter &amp;amp; in public."), "{xml}");
    assert!(!xml.contains("Buy my course") && !xml.contains("wrong thread"));
    // The feed of a reply is its topic's.
    let (_, again) = feed(&a, &format!("/post/{removed}/feed.atom")).await;
    assert_eq!(again.id(), a.url(&format!("/post/{id}/feed.atom")).as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_topic_leaves_the_community_feed_and_its_own_feed_is_gone() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    open_community(&a, &ana, "net").await;
    let topic = local_topic(&a, &ana, "Spam").await;
    let id = topic["local_id"].as_i64().unwrap();
    remove(&a, &ana, id).await;
    let (_, f) = feed(&a, "/c/net/feed.atom").await;
    assert!(f.entries().is_empty());
    assert_eq!(status(&a, &format!("/post/{id}/feed.atom")).await, 410);
    assert_eq!(status(&a, "/post/999999/feed.atom").await, 404);
    assert_eq!(status(&a, "/c/nobody/feed.atom").await, 404);
    assert_eq!(status(&a, "/c/nobody/events.atom").await, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_events_feed_lists_the_coming_events_with_when_and_where() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    open_community(&a, &ana, "net").await;
    events::schedule(
        &a,
        &ana,
        events::workshop_with(json!({ "title": "Launch <b>workshop</b> & tea" })),
    )
    .await;
    let (xml, f) = feed(&a, "/c/net/events.atom").await;
    assert_eq!(f.title().as_str(), "The net — events");
    assert_eq!(f.entries().len(), 1, "{xml}");
    let e = &f.entries()[0];
    assert_eq!(e.title().as_str(), "Launch <b>workshop</b> & tea");
    let html = e.content().unwrap().value().unwrap();
    assert!(html.contains("The Kenn Centre"), "{html}");
    assert!(html.contains("2027"), "{html}");
    assert!(!xml.contains("<b>"), "{xml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_link_their_feeds() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    open_community(&a, &ana, "net").await;
    let topic = local_topic(&a, &ana, "Sharing budgets").await;
    let id = topic["local_id"].as_i64().unwrap();
    let page = |path: String| {
        let a = &a;
        async move {
            a.client
                .get(a.url(&path))
                .header("Accept", "text/html")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let html = page("/c/net".into()).await;
    for href in ["/c/net/feed.atom", "/c/net/events.atom"] {
        assert!(
            html.contains(&format!(
                "type=\"application/atom+xml\" title=\"The net — {}\" href=\"{href}\"",
                if href.ends_with("feed.atom") {
                    "topics"
                } else {
                    "events"
                }
            )),
            "{html}"
        );
    }
    assert!(html.contains("<a href=\"/c/net/feed.atom\">Topics feed (Atom)</a>"));
    assert!(html.contains("<a href=\"/c/net/events.atom\">Events feed (Atom)</a>"));
    let html = page(format!("/post/{id}")).await;
    let feed = format!("/post/{id}/feed.atom");
    assert!(
        html.contains(&format!("<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Sharing budgets — replies\" href=\"{feed}\">")),
        "{html}"
    );
    assert!(html.contains(&format!("<a href=\"{feed}\">Replies feed (Atom)</a>")));
}
