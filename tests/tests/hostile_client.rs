//! The REST API and the public documents against hostile readers: extreme paging values on
//! every list, malformed paths, queries and bodies (all answered in the JSON error shape that
//! names the parameter), anonymous reads that must not make Copse fetch from other servers,
//! and hashtag filters. Each refusal checks the status, the error shape, that nothing was
//! stored, and that no request left this server.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{community, person, post};
use copse_tests::{fake::FakeServer, wait_for, TestInstance};
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

/// Stored rows a hostile request could have added.
async fn rows(a: &TestInstance) -> (u64, u64, u64) {
    (
        community::Entity::find().count(a.db()).await.unwrap(),
        person::Entity::find().count(a.db()).await.unwrap(),
        post::Entity::find().count(a.db()).await.unwrap(),
    )
}

/// Asserts an error answer: its status, and `{"error": "...", "field": FIELD}`.
#[track_caller]
fn refused(got: (u16, Value), status: u16, field: Option<&str>, what: &str) {
    let (s, body) = got;
    assert_eq!(s, status, "{what}: {body}");
    assert!(
        body["error"].is_string(),
        "{what}: not the error shape: {body}"
    );
    assert!(body.get("field").is_some(), "{what}: no field key: {body}");
    assert_eq!(body["field"].as_str(), field, "{what}: {body}");
}

/// GETs a path, as the account with `token` or anonymously.
async fn get(a: &TestInstance, path: &str, token: Option<&str>) -> (u16, Value) {
    a.api(Method::GET, path, token, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_bounds_its_paging_parameters() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(&ana, "net", json!({ "membership_policy": "open" }))
        .await;
    let fake = FakeServer::start().await;
    let before = rows(&a).await;
    let paged = [
        "/api/v1/communities/net/topics",
        "/api/v1/communities/net/posts",
        "/api/v1/communities/net/events",
        "/api/v1/people/ana/posts",
    ];
    for list in paged {
        for param in ["page", "limit"] {
            for value in ["0", "-1", "9223372036854775807", "99999999999999999999999"] {
                let path = format!("{list}?{param}={value}");
                refused(get(&a, &path, None).await, 422, Some(param), &path);
            }
            for value in ["abc", "1.5", "", "%00"] {
                let path = format!("{list}?{param}={value}");
                refused(get(&a, &path, None).await, 400, Some(param), &path);
            }
        }
        // The extremes that are allowed answer normally.
        for ok in ["page=10000", "limit=100", "page=1&limit=1", "junk=1"] {
            let (s, body) = get(&a, &format!("{list}?{ok}"), None).await;
            assert_eq!(s, 200, "{list}?{ok}: {body}");
            assert!(body["items"].is_array());
        }
    }
    refused(
        get(&a, "/api/v1/communities/net/events?past=maybe", None).await,
        400,
        Some("past"),
        "past",
    );
    refused(
        get(
            &a,
            "/api/v1/communities/net/topics?sort=9223372036854775807",
            None,
        )
        .await,
        422,
        Some("sort"),
        "sort",
    );
    // Lists without paging ignore paging parameters; their own are checked.
    let extreme = "?page=9223372036854775807&limit=-1&before=x";
    for list in ["members", "requests", "bans", "log", "reports"] {
        let path = format!("/api/v1/communities/net/{list}{extreme}");
        let (s, body) = get(&a, &path, Some(&ana)).await;
        assert_eq!(s, 200, "{path}: {body}");
    }
    refused(
        get(&a, "/api/v1/communities/net/reports?status=-1", Some(&ana)).await,
        422,
        Some("status"),
        "report status",
    );
    // The ActivityPub outbox: `before` is a row id, `page` says whether to page.
    let outbox = "/c/net/outbox";
    for value in ["0", "-1", "99999999999999999999999"] {
        let path = format!("{outbox}?before={value}");
        refused(get(&a, &path, None).await, 422, Some("before"), &path);
    }
    refused(
        get(&a, &format!("{outbox}?before=abc"), None).await,
        400,
        Some("before"),
        "before",
    );
    for value in ["9223372036854775807", "-1", "abc"] {
        let path = format!("{outbox}?page={value}");
        refused(get(&a, &path, None).await, 400, Some("page"), &path);
    }
    for ok in [
        "page=true",
        "page=true&before=9223372036854775807",
        "page=false",
    ] {
        let (s, body) = get(&a, &format!("{outbox}?{ok}"), None).await;
        assert_eq!(s, 200, "{ok}: {body}");
        assert!(body["orderedItems"].is_array(), "{body}");
    }
    assert_eq!(rows(&a).await, before);
    assert!(fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_answer_the_json_error_shape() {
    let a = TestInstance::spawn("alpha").await;
    a.create_community("net", "London Networks").await;
    let ana = a.create_user("ana").await;
    let before = rows(&a).await;
    // Path parameters.
    for path in [
        "/api/v1/posts/abc",
        "/api/v1/posts/99999999999999999999",
        "/api/v1/posts/1.5",
        "/api/v1/events/abc",
        "/api/v1/events/x/participants",
        "/post/abc",
        "/post/abc/context",
    ] {
        refused(get(&a, path, Some(&ana)).await, 400, Some("id"), path);
    }
    for path in [
        "/api/v1/communities/net/requests/abc/approve",
        "/api/v1/communities/net/members/-x/role",
    ] {
        let method = if path.ends_with("role") {
            Method::PUT
        } else {
            Method::POST
        };
        let got = a
            .api(method, path, Some(&ana), Some(json!({ "role": "member" })))
            .await;
        refused(got, 400, Some("person"), path);
    }
    refused(
        a.api(
            Method::POST,
            "/api/v1/events/abc/participants/bob",
            Some(&ana),
            Some(json!({ "decision": "accept" })),
        )
        .await,
        400,
        Some("id"),
        "event id beside a handle",
    );
    // Query strings.
    refused(
        a.api(Method::DELETE, "/api/v1/follows", Some(&ana), None)
            .await,
        400,
        Some("community"),
        "missing community",
    );
    refused(
        a.api(
            Method::DELETE,
            "/api/v1/posts/1/reactions?emoji=x&bogus=1",
            Some(&ana),
            None,
        )
        .await,
        400,
        Some("bogus"),
        "unknown query key",
    );
    refused(
        get(&a, "/.well-known/webfinger", None).await,
        400,
        Some("resource"),
        "webfinger without resource",
    );
    // Bodies.
    let send = |ct: Option<&'static str>, body: &'static [u8]| {
        let a = &a;
        let ana = &ana;
        async move {
            let mut req = a
                .client
                .post(a.url("/api/v1/communities"))
                .bearer_auth(ana)
                .body(body);
            if let Some(ct) = ct {
                req = req.header("Content-Type", ct);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let json_ct = Some("application/json");
    refused(send(json_ct, b"{not json").await, 400, None, "bad JSON");
    refused(send(json_ct, b"").await, 400, None, "missing body");
    refused(send(json_ct, b"[1, 2]").await, 400, None, "an array");
    refused(
        send(Some("text/plain"), b"{}").await,
        415,
        None,
        "text/plain",
    );
    refused(send(None, b"").await, 415, None, "no content type");
    refused(
        send(json_ct, br#"{"name": 5, "title": "t"}"#).await,
        400,
        Some("name"),
        "wrong type",
    );
    refused(
        send(json_ct, br#"{"name": "x", "title": "t", "evil": 1}"#).await,
        400,
        Some("evil"),
        "unknown field",
    );
    // NUL, which PostgreSQL cannot store or compare (it answered 503 there).
    refused(
        get(&a, "/api/v1/people/a%00b/posts", None).await,
        400,
        Some("handle"),
        "NUL in a path",
    );
    refused(
        get(&a, "/api/v1/communities/net/topics?sort=a%00", None).await,
        400,
        Some("sort"),
        "NUL in a query",
    );
    refused(
        send(json_ct, b"{\"name\": \"nul\", \"title\": \"a\\u0000b\"}").await,
        400,
        Some("title"),
        "NUL in a body",
    );
    // Unknown paths and methods.
    refused(
        get(&a, "/api/v1/nope", Some(&ana)).await,
        404,
        None,
        "unknown path",
    );
    refused(get(&a, "/nowhere", None).await, 404, None, "unknown page");
    refused(
        a.api(Method::PATCH, "/api/v1/me", Some(&ana), None).await,
        405,
        None,
        "wrong method",
    );
    refused(
        a.api(Method::DELETE, "/inbox", None, None).await,
        405,
        None,
        "wrong method on the inbox",
    );
    assert_eq!(rows(&a).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_json_bodies_are_refused_without_harm() {
    // T14 for the API: deep nesting, and a huge value inside the body limit.
    let a = TestInstance::spawn("alpha").await;
    a.create_community("net", "London Networks").await;
    let ana = a.create_user("ana").await;
    let fake = FakeServer::start().await;
    let before = rows(&a).await;
    let raw = |path: &'static str, body: Vec<u8>| {
        let a = &a;
        let ana = &ana;
        async move {
            let res = a
                .client
                .post(a.url(path))
                .bearer_auth(ana)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    refused(
        raw("/api/v1/communities/net/posts", nested.into_bytes()).await,
        400,
        None,
        "deep nesting",
    );
    let nested = format!(
        "{{\"title\":{}1{}}}",
        "{\"a\":".repeat(5_000),
        "}".repeat(5_000)
    );
    refused(
        raw("/api/v1/communities/net/posts", nested.into_bytes()).await,
        400,
        Some("title"),
        "deep nesting in a field",
    );
    let huge = json!({ "title": "x".repeat(900 * 1024), "content": "y" });
    refused(
        raw(
            "/api/v1/communities/net/posts",
            serde_json::to_vec(&huge).unwrap(),
        )
        .await,
        422,
        Some("title"),
        "a 900 KB title",
    );
    let huge = json!({ "name": "big", "title": "Big", "summary": "s".repeat(900 * 1024) });
    refused(
        raw("/api/v1/communities", serde_json::to_vec(&huge).unwrap()).await,
        422,
        Some("summary"),
        "a 900 KB summary",
    );
    // The server is still there and unchanged.
    assert_eq!(get(&a, "/api/v1/me", Some(&ana)).await.0, 200);
    assert_eq!(rows(&a).await, before);
    assert!(fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_reads_never_make_copse_fetch() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let fake = FakeServer::start().await;
    // Bob's server answers WebFinger, so a lookup would succeed.
    let bob = fake.actor("bob", "bob");
    let wf = Url::parse(&format!("{}/.well-known/webfinger", fake.base("bob"))).unwrap();
    fake.serve(
        &wf,
        json!({ "subject": format!("acct:bob@bob.localhost:{}", fake.port), "links": [
            { "rel": "self", "type": "application/activity+json", "href": bob.id }
        ]}),
    );
    let before = rows(&a).await;
    let bob_posts = format!("/api/v1/people/bob@bob.localhost:{}/posts", fake.port);
    let group_events = format!("/api/v1/communities/grp@grp.localhost:{}/events", fake.port);
    refused(
        get(&a, &bob_posts, None).await,
        404,
        Some("handle"),
        "unknown person",
    );
    refused(
        get(
            &a,
            &format!(
                "/api/v1/people/@bob@bob.localhost:{}/posts?page=2",
                fake.port
            ),
            None,
        )
        .await,
        404,
        Some("handle"),
        "with a leading @",
    );
    refused(
        get(&a, &group_events, None).await,
        404,
        Some("community"),
        "unknown community",
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    assert_eq!(rows(&a).await, before, "nothing was stored");
    // A bad token is not taken for an anonymous reader.
    refused(
        get(&a, &bob_posts, Some("not-a-token")).await,
        401,
        None,
        "bad token",
    );
    assert!(fake.requests().is_empty());
    // Signed in, the person is looked up, and from then on known to anonymous readers too.
    let (s, body) = get(&a, &bob_posts, Some(&ana)).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["person"]["id"], bob.id.as_str());
    let fetched = fake.requests().len();
    assert!(fetched > 0);
    let (s, body) = get(&a, &bob_posts, None).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(fake.requests().len(), fetched, "no new fetch");
    // A signed-in reader may look a community up (this one does not exist there).
    refused(
        get(&a, &group_events, Some(&ana)).await,
        404,
        Some("community"),
        "signed in",
    );
    assert!(fake
        .requests_to("grp")
        .iter()
        .any(|r| r.path == "/.well-known/webfinger"));
}

/// Posts a topic as `token`; returns its local id.
async fn topic(a: &TestInstance, token: &str, title: &str, content: &str) -> i64 {
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(token),
            Some(json!({ "title": title, "content": content })),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    body["local_id"].as_i64().unwrap()
}

/// Titles in a topic list answer.
fn titles(body: &Value) -> Vec<String> {
    let mut t: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashtag_links_show_only_their_topics() {
    let a = TestInstance::spawn("alpha").await;
    let net = a.create_community("net", "London Networks").await;
    let ana = a.create_user("ana").await;
    topic(&a, &ana, "Rust meet-up", "Bring a laptop. #Rust #meetup").await;
    topic(&a, &ana, "Gardening", "Seeds to swap. #garden").await;
    topic(
        &a,
        &ana,
        "Not tagged",
        "We talk about rust and #rusty things.",
    )
    .await;
    topic(&a, &ana, "Underscores", "#my_tag here").await;
    topic(&a, &ana, "Look-alike", "#myXtag here").await;
    // A Mastodon user's post, tagged the way Mastodon tags (its own href, its own case).
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let html = format!(
        "<p><a href=\"{}\" class=\"u-url mention\">@net</a> Über rust<br>Meeting notes #RUST #Über</p>",
        net.ap_id
    );
    let (note, mut create) = mia.status(&fake, 1, &net.ap_id, &html, None);
    let tags = create["object"]["tag"].as_array_mut().unwrap();
    for name in ["#RUST", "#Über"] {
        tags.push(json!({
            "type": "Hashtag",
            "href": format!("{}/tags/{}", fake.base("masto"), name.trim_start_matches('#')),
            "name": name,
        }));
    }
    fake.serve(
        &Url::parse(note["id"].as_str().unwrap()).unwrap(),
        create["object"].clone(),
    );
    assert_eq!(
        mia.deliver(&a.client, &a.url("/c/net/inbox"), &create)
            .await,
        202
    );
    wait_for("the Mastodon topic", Duration::from_secs(20), || async {
        post::Entity::find().count(a.db()).await.unwrap() == 6
    })
    .await;
    let list = "/api/v1/communities/net/topics";
    let (s, body) = get(&a, &format!("{list}?tag=rust"), None).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["tag"], "rust");
    assert_eq!(titles(&body), ["Rust meet-up", "Über rust"], "{body}");
    let (_, body) = get(&a, &format!("{list}?tag=%23Rust&sort=new"), None).await;
    assert_eq!(titles(&body), ["Rust meet-up", "Über rust"]);
    let (_, body) = get(&a, &format!("{list}?tag=über"), None).await;
    assert_eq!(titles(&body), ["Über rust"]);
    let (_, body) = get(&a, &format!("{list}?tag=ÜBER"), None).await;
    assert_eq!(titles(&body), ["Über rust"], "any case, also outside ASCII");
    let (_, body) = get(&a, &format!("{list}?tag=my_tag"), None).await;
    assert_eq!(titles(&body), ["Underscores"], "_ is not a wildcard");
    let (_, body) = get(&a, &format!("{list}?tag=nothing"), None).await;
    assert_eq!(titles(&body), Vec::<String>::new());
    let (_, body) = get(&a, list, None).await;
    assert_eq!(
        body["items"].as_array().unwrap().len(),
        6,
        "no tag: every topic"
    );
    refused(
        get(&a, &format!("{list}?tag=a%25b"), None).await,
        422,
        Some("tag"),
        "tag",
    );
    // The hashtag links in posts lead to the community page, which filters the same way.
    let (_, body) = get(&a, "/api/v1/communities/net/topics?tag=meetup", None).await;
    let href = body["items"][0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "#meetup")
        .map(|t| t["href"].as_str().unwrap().to_string())
        .unwrap();
    let page = a.client.get(&href).send().await.unwrap();
    assert_eq!(page.status(), 200, "{href}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Rust meet-up") && html.contains("#meetup"),
        "{html}"
    );
    for other in ["Gardening", "Not tagged", "Underscores", "Über rust"] {
        assert!(!html.contains(other), "{other} is not tagged #meetup");
    }
    let html = a.client.get(a.url("/c/net?tag=RUST")).send().await.unwrap();
    let html = html.text().await.unwrap();
    assert!(html.contains("Rust meet-up") && html.contains("Über rust"));
    assert!(!html.contains("Gardening"));
    let all = a
        .client
        .get(a.url("/c/net"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(all.contains("Gardening") && all.contains("Rust meet-up"));
    let res = a
        .client
        .get(a.url("/c/net?tag=a%20b"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
}
