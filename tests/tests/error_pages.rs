//! Errors as each client reads them: a short HTML page for a browser asking for a page, JSON
//! for the API and for ActivityPub servers, whatever they accept.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_tests::{builders::communities::open_community, TestInstance};
use sea_orm::ConnectionTrait;
use serde_json::Value;

/// What Chromium sends when a person opens an address.
const BROWSER: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// GETs `path` with `accept`: status, content type and body.
async fn get(a: &TestInstance, path: &str, accept: Option<&str>) -> (u16, String, String) {
    let mut req = a.client.get(a.url(path));
    if let Some(accept) = accept {
        req = req.header("Accept", accept);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, kind, res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_asking_for_an_unknown_page_gets_a_page_that_leads_home() {
    let a = TestInstance::spawn("alpha").await;
    for path in ["/no/such/page", "/c/nobody", "/post/999999", "/u/nobody"] {
        let (status, kind, body) = get(&a, path, Some(BROWSER)).await;
        assert_eq!(status, 404, "{path}");
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
        assert!(
            body.contains("<title>Page not found · Copse</title>"),
            "{path}: {body}"
        );
        assert!(
            body.contains("<a href=\"/\">Go to the home page</a>"),
            "{body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_and_activitypub_keep_their_json_errors() {
    let a = TestInstance::spawn("alpha").await;
    let cases = [
        // The API answers JSON even to a browser.
        ("/api/v1/communities/nobody", Some(BROWSER)),
        ("/api/v1/nothing", Some(BROWSER)),
        ("/c/nobody", Some("application/activity+json")),
        (
            "/c/nobody",
            Some("application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""),
        ),
        ("/c/nobody", Some("application/json")),
        // A client that says nothing (curl) gets JSON too.
        ("/c/nobody", None),
        (
            "/.well-known/webfinger?resource=acct:nobody@alpha",
            Some(BROWSER),
        ),
    ];
    for (path, accept) in cases {
        let (status, kind, body) = get(&a, path, accept).await;
        assert!(
            (400..500).contains(&status),
            "{path} {accept:?}: {status} {body}"
        );
        assert!(
            kind.starts_with("application/json"),
            "{path} {accept:?}: {kind}"
        );
        let json: Value = serde_json::from_str(&body).unwrap();
        assert!(json["error"].as_str().is_some(), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_value_in_a_page_address_is_named_on_the_page() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    open_community(&a, &ana, "net").await;
    let (status, kind, body) = get(&a, "/c/net?tag=%3Cscript%3E", Some(BROWSER)).await;
    assert_eq!(status, 422);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(
        body.contains("tag is 1 to 64 letters, digits or _"),
        "{body}"
    );
    assert!(body.contains("<code>tag</code>"), "{body}");
    assert!(!body.contains("<script>"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_gets_a_page_when_the_database_fails() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    open_community(&a, &ana, "net").await;
    // The topics of the community page can no longer be read.
    a.db()
        .execute_unprepared("ALTER TABLE post RENAME TO post_away")
        .await
        .unwrap();
    let (status, kind, body) = get(&a, "/c/net", Some(BROWSER)).await;
    assert_eq!(status, 503, "{body}");
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(body.contains("Try again shortly"), "{body}");
    assert!(
        !body.contains("post_away") && !body.contains("no such table"),
        "{body}"
    );
    let (status, kind, _) = get(&a, "/c/net", Some("application/activity+json")).await;
    assert_eq!((status, kind.starts_with("text/html")), (200, false));
    let (status, kind, _) = get(&a, "/api/v1/communities/net/posts", Some(BROWSER)).await;
    assert_eq!(status, 503);
    assert!(kind.starts_with("application/json"), "{kind}");
}
