//! Generated requests against every API route (and the public documents), through the router in
//! process: whatever the path parameters, query string, body, content type and token, no handler
//! panics, nothing answers 5xx, and every refusal is a 4xx in the `{"error", "field"}` shape.
//!
//! 64 cases by default; `PROPTEST_CASES=5000 cargo test -p copse-tests --test api_properties`
//! runs a long search.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use copse_tests::{fake::FakeServer, TestInstance};
use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use serde_json::{json, Value};
use tower::ServiceExt;

/// Every route, as method, path template and the fields its body or query takes.
const ROUTES: &[(&str, &str, &[&str])] = &[
    ("GET", "/api/v1/me", &[]),
    ("POST", "/api/v1/communities", &["name", "title", "summary"]),
    ("GET", "/api/v1/communities/{name}", &[]),
    ("POST", "/api/v1/follows", &["community", "reason"]),
    ("DELETE", "/api/v1/follows", &["community", "reason"]),
    (
        "PUT",
        "/api/v1/communities/{name}/settings",
        &[
            "title",
            "summary",
            "rules",
            "membership_policy",
            "topic_policy",
            "reply_policy",
            "welcome_mode",
            "languages",
        ],
    ),
    ("GET", "/api/v1/communities/{name}/requests", &[]),
    (
        "POST",
        "/api/v1/communities/{name}/requests/{person}/approve",
        &[],
    ),
    (
        "POST",
        "/api/v1/communities/{name}/requests/{person}/decline",
        &["message"],
    ),
    ("POST", "/api/v1/communities/{name}/invites", &["handle"]),
    ("GET", "/api/v1/communities/{name}/members", &[]),
    ("DELETE", "/api/v1/communities/{name}/members/{person}", &[]),
    (
        "PUT",
        "/api/v1/communities/{name}/members/{person}/role",
        &["role"],
    ),
    (
        "POST",
        "/api/v1/communities/{name}/bans",
        &["handle", "reason", "expires_at", "remove_content"],
    ),
    (
        "GET",
        "/api/v1/communities/{name}/bans",
        &["handle", "reason", "expires_at", "remove_content"],
    ),
    ("DELETE", "/api/v1/communities/{name}/bans/{person}", &[]),
    ("GET", "/api/v1/communities/{name}/log", &[]),
    (
        "POST",
        "/api/v1/communities/{name}/posts",
        &["title", "content", "page", "limit", "sort", "tag"],
    ),
    (
        "GET",
        "/api/v1/communities/{name}/posts",
        &["title", "content", "page", "limit", "sort", "tag"],
    ),
    (
        "GET",
        "/api/v1/communities/{name}/topics",
        &["page", "limit", "sort", "tag"],
    ),
    (
        "GET",
        "/api/v1/communities/{name}/reports",
        &["reason", "status"],
    ),
    ("GET", "/api/v1/posts/{id}", &["title", "content"]),
    ("PATCH", "/api/v1/posts/{id}", &["title", "content"]),
    ("DELETE", "/api/v1/posts/{id}", &["title", "content"]),
    ("POST", "/api/v1/posts/{id}/replies", &["content"]),
    ("POST", "/api/v1/posts/{id}/remove", &["reason"]),
    ("PUT", "/api/v1/posts/{id}/lock", &["locked"]),
    ("PUT", "/api/v1/posts/{id}/pin", &["pinned"]),
    ("POST", "/api/v1/posts/{id}/reactions", &["emoji"]),
    ("DELETE", "/api/v1/posts/{id}/reactions", &["emoji"]),
    ("POST", "/api/v1/posts/{id}/reports", &["reason", "status"]),
    ("POST", "/api/v1/reports/{id}/resolve", &["status", "note"]),
    ("GET", "/api/v1/people/{handle}/posts", &["page", "limit"]),
    (
        "POST",
        "/api/v1/communities/{name}/events",
        &[
            "title",
            "description",
            "start",
            "end",
            "timezone",
            "place",
            "online_url",
            "capacity",
            "join_mode",
            "status",
            "page",
            "limit",
            "past",
        ],
    ),
    (
        "GET",
        "/api/v1/communities/{name}/events",
        &[
            "title",
            "description",
            "start",
            "end",
            "timezone",
            "place",
            "online_url",
            "capacity",
            "join_mode",
            "status",
            "page",
            "limit",
            "past",
        ],
    ),
    (
        "GET",
        "/api/v1/events/{id}",
        &[
            "title",
            "description",
            "start",
            "end",
            "timezone",
            "place",
            "capacity",
            "join_mode",
            "external_url",
            "category",
            "language",
        ],
    ),
    (
        "PATCH",
        "/api/v1/events/{id}",
        &[
            "title",
            "description",
            "start",
            "end",
            "timezone",
            "place",
            "capacity",
            "join_mode",
            "external_url",
            "category",
            "language",
        ],
    ),
    (
        "DELETE",
        "/api/v1/events/{id}",
        &[
            "title",
            "description",
            "start",
            "end",
            "timezone",
            "place",
            "capacity",
            "join_mode",
            "external_url",
            "category",
            "language",
        ],
    ),
    ("POST", "/api/v1/events/{id}/cancel", &[]),
    ("POST", "/api/v1/events/{id}/rsvp", &["going", "message"]),
    ("GET", "/api/v1/events/{id}/participants", &[]),
    (
        "POST",
        "/api/v1/events/{id}/participants/{handle}",
        &["decision"],
    ),
    ("POST", "/api/v1/events/{id}/invites", &["handle"]),
    ("GET", "/c/{name}", &["tag"]),
    ("GET", "/c/{name}/outbox", &["page", "before"]),
    ("GET", "/post/{id}", &[]),
    ("GET", "/.well-known/webfinger", &["resource"]),
    ("PATCH", "/api/v1/{name}", &[]),
];

/// Field names the API's bodies and queries use, so generated objects hit real fields.
const FIELDS: &[&str] = &[
    "name",
    "title",
    "summary",
    "content",
    "community",
    "reason",
    "emoji",
    "locked",
    "pinned",
    "status",
    "note",
    "going",
    "message",
    "handle",
    "role",
    "decision",
    "start",
    "end",
    "timezone",
    "capacity",
    "place",
    "latitude",
    "longitude",
    "online_url",
    "join_mode",
    "external_url",
    "category",
    "language",
    "expires_at",
    "remove_content",
    "membership_policy",
    "topic_policy",
    "reply_policy",
    "welcome_mode",
    "rules",
    "page",
    "limit",
    "sort",
    "tag",
    "past",
    "before",
    "resource",
];

/// Values that mean something somewhere.
const WORDS: &[&str] = &[
    "net",
    "ana",
    "bob",
    "1",
    "2",
    "0",
    "-1",
    "9223372036854775807",
    "99999999999999999999",
    "true",
    "false",
    "active",
    "new",
    "all",
    "open",
    "resolved",
    "dismissed",
    "free",
    "invite",
    "member",
    "coordinator",
    "accept",
    "reject",
    "Europe/London",
    "2027-06-15T18:00",
    "2027-06-15T20:00:00+01:00",
    "https://example.org/x",
    "#rust",
    "",
    " ",
    "%00",
    "\u{0}",
];

/// Text that never names another server: no `@`, so no handle points anywhere but here or at
/// the fake below, and the test makes no request off this machine.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(WORDS).prop_map(str::to_string),
        3 => "[^@]{0,16}",
        1 => (1usize..4000).prop_map(|n| "é".repeat(n)),
    ]
}

/// Text short enough for a request line (hyper refuses longer ones before any handler).
fn short_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(WORDS).prop_map(str::to_string),
        2 => "[^@]{0,16}",
    ]
}

fn json_value(handles: Vec<String>) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        text().prop_map(Value::String),
        prop::sample::select(handles).prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        3 => prop::sample::select(FIELDS).prop_map(str::to_string),
                        1 => text(),
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// An object of the API's own fields, with values of the types they take and some they do not.
fn form(handles: Vec<String>, fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let fields = if fields.is_empty() { FIELDS } else { fields };
    let value = prop_oneof![
        4 => text().prop_map(Value::String),
        2 => prop::sample::select(WORDS).prop_map(|w| Value::String(w.to_string())),
        1 => prop::sample::select(handles).prop_map(Value::String),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => (-200.0f64..200.0).prop_map(|f| json!(f)),
        1 => Just(Value::Null),
        1 => (text(), -100.0f64..100.0).prop_map(|(n, l)| json!({ "name": n, "latitude": l, "longitude": l })),
    ];
    let most = fields.len().min(5);
    prop::collection::btree_map(prop::sample::select(fields), value, 1..=most)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

#[derive(Debug, Clone)]
enum Payload {
    None,
    Json(Value),
    Raw(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Case {
    route: (&'static str, &'static str, &'static [&'static str]),
    params: Vec<String>,
    /// For `{id}` and `{person}`: mostly small numbers.
    ids: Vec<String>,
    query: Vec<(String, String)>,
    raw_query: Option<String>,
    payload: Payload,
    content_type: Option<&'static str>,
    /// 0: anonymous, 1: the coordinator of `net`, 2: another account, 3: a bad token.
    auth: u8,
}

fn case(handles: Vec<String>) -> impl Strategy<Value = Case> {
    prop::sample::select(ROUTES).prop_flat_map(move |route| {
        let fields = if route.2.is_empty() { FIELDS } else { route.2 };
        let param = prop_oneof![
            3 => prop::sample::select(WORDS).prop_map(str::to_string),
            2 => short_text(),
            1 => prop::sample::select(handles.clone()),
        ];
        let key = prop_oneof![
            3 => prop::sample::select(fields).prop_map(str::to_string),
            1 => short_text(),
        ];
        (
            Just(route),
            prop::collection::vec(param, 3),
            prop::collection::vec(
                prop_oneof![
                    6 => (1i64..8).prop_map(|n| n.to_string()),
                    1 => any::<i64>().prop_map(|n| n.to_string()),
                    1 => short_text(),
                ],
                2,
            ),
            prop::collection::vec((key, short_text()), 0..5),
            prop::option::weighted(0.1, "[%&=;+?#a-z0-9]{0,12}"),
            prop_oneof![
                1 => Just(Payload::None),
                6 => form(handles.clone(), route.2).prop_map(Payload::Json),
                2 => json_value(handles.clone()).prop_map(Payload::Json),
                1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Payload::Raw),
            ],
            prop_oneof![
                6 => Just(Some("application/json")),
                1 => Just(Some("application/json; charset=utf-8")),
                1 => Just(Some("text/plain")),
                1 => Just(None),
            ],
            prop_oneof![2 => Just(0u8), 5 => Just(1u8), 2 => Just(2u8), 1 => Just(3u8)],
        )
            .prop_map(
                |(route, params, ids, query, raw_query, payload, content_type, auth)| Case {
                    route,
                    params,
                    ids,
                    query,
                    raw_query,
                    payload,
                    content_type,
                    auth,
                },
            )
    })
}

/// The request line's target: placeholders filled (percent-encoded), then the query.
fn target(case: &Case) -> String {
    let mut url = url::Url::parse("http://x/").unwrap();
    {
        let mut segments = url.path_segments_mut().unwrap();
        segments.clear();
        let mut params = case.params.iter();
        let mut ids = case.ids.iter();
        for part in case.route.1.trim_start_matches('/').split('/') {
            if part == "{id}" || part == "{person}" {
                segments.push(ids.next().map_or("1", String::as_str));
            } else if part.starts_with('{') {
                segments.push(params.next().map_or("x", String::as_str));
            } else {
                segments.push(part);
            }
        }
    }
    let query = match &case.raw_query {
        Some(raw) => raw.clone(),
        None => url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&case.query)
            .finish(),
    };
    if query.is_empty() {
        url.path().to_string()
    } else {
        format!("{}?{query}", url.path())
    }
}

async fn check(app: &axum::Router, tokens: &[String; 2], case: &Case) -> Result<(), TestCaseError> {
    let uri = target(case);
    let mut req = http::Request::builder().method(case.route.0).uri(&uri);
    match case.auth {
        1 => req = req.header("Authorization", format!("Bearer {}", tokens[0])),
        2 => req = req.header("Authorization", format!("Bearer {}", tokens[1])),
        3 => req = req.header("Authorization", "Bearer nonsense"),
        _ => {}
    }
    if let Some(ct) = case.content_type {
        req = req.header("Content-Type", ct);
    }
    let body = match &case.payload {
        Payload::None => Body::empty(),
        Payload::Json(v) => Body::from(serde_json::to_vec(v).unwrap()),
        Payload::Raw(b) => Body::from(b.clone()),
    };
    let res = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let what = format!(
        "{} {uri} -> {status}: {}",
        case.route.0,
        String::from_utf8_lossy(&bytes)
    );
    prop_assert!(status < 500, "{}", what);
    if status >= 400 {
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|_| TestCaseError::fail(format!("not JSON: {what}")))?;
        prop_assert!(v["error"].is_string(), "{}", what);
        prop_assert!(v["field"].is_null() || v["field"].is_string(), "{}", what);
        prop_assert!(v.get("field").is_some(), "{}", what);
    }
    Ok(())
}

#[test]
fn generated_requests_never_panic_and_every_refusal_is_a_json_4xx() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (a, fake, tokens) = rt.block_on(async {
        let a = TestInstance::spawn("alpha").await;
        let fake = FakeServer::start().await;
        let ana = a.create_user("ana").await;
        let bob = a.create_user("bob").await;
        a.community_with(&ana, "net", json!({ "topic_policy": "anyone" }))
            .await;
        let (s, _) = a
            .api(
                reqwest::Method::POST,
                "/api/v1/communities/net/posts",
                Some(&ana),
                Some(json!({ "title": "A topic", "content": "With #tags" })),
            )
            .await;
        assert_eq!(s, 201);
        (a, fake, [ana, bob])
    });
    // Handles that name another server point at the fake, which answers 404.
    let handles = vec![
        format!("ghost@nobody.localhost:{}", fake.port),
        format!("@ghost@nobody.localhost:{}", fake.port),
        format!("ana@{}", a.domain),
    ];
    let app = copse_server::router::router(a.instance().config.clone(), &a.settings.http);
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&case(handles), |c| rt.block_on(check(&app, &tokens, &c)))
        .unwrap();
    // Nothing went anywhere but the fake.
    assert!(fake
        .requests()
        .iter()
        .all(|r| r.host.starts_with("nobody.localhost")));
}
