//! The OpenAPI document at `/api/v1/openapi.json`: every route the router serves is in it with
//! its methods (the routes read from the server's sources, so that a new one cannot be left
//! out), it is valid OpenAPI 3.1 whose every `$ref` resolves, and real answers of a running
//! instance validate against the schemas it gives for them.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_tests::TestInstance;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The document as built in process (the same function serves it).
fn document() -> Value {
    copse_server::api::openapi::document()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text of a `.route(...)` call starting at `from` (just past its opening parenthesis), up
/// to its closing one.
fn call_body(src: &str, from: usize) -> &str {
    let bytes = src.as_bytes();
    let (mut depth, mut in_str, mut i) = (1, false, from);
    while i < bytes.len() && depth > 0 {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'(' if !in_str => depth += 1,
            b')' if !in_str => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    &src[from..i.saturating_sub(1)]
}

/// Every `(path, method)` the router serves under `/api/v1`, read from the `.route(` calls of
/// `server/src/router.rs` and `server/src/api/`.
fn served_routes() -> BTreeSet<(String, String)> {
    let server = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src");
    let mut files = vec![server.join("router.rs")];
    rust_files(&server.join("api"), &mut files);
    let mut routes = BTreeSet::new();
    for file in files {
        let src = std::fs::read_to_string(&file).unwrap();
        for (at, _) in src.match_indices(".route(") {
            let body = call_body(&src, at + ".route(".len());
            let Some(path) = body.split('"').nth(1) else {
                continue;
            };
            if !path.starts_with("/api/v1") {
                continue;
            }
            let mut found = 0;
            for method in METHODS {
                for (i, _) in body.match_indices(&format!("{method}(")) {
                    let before = body[..i].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    routes.insert((path.to_string(), method.to_string()));
                    found += 1;
                }
            }
            assert!(found > 0, "no method read in {}: {body}", file.display());
        }
    }
    routes
}

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                routes.insert((path.clone(), method.to_string()));
            }
        }
    }
    routes
}

#[test]
fn every_api_route_is_in_the_document_with_its_methods() {
    let served = served_routes();
    // The walk must find the routes it is meant to, or this test would pass on nothing.
    assert!(served.len() >= 45, "only {} routes read", served.len());
    assert!(served.contains(&("/api/v1/communities/{name}/posts".into(), "get".into())));
    assert!(served.contains(&(
        "/api/v1/communities/{name}/bans/{person}".into(),
        "delete".into()
    )));
    let documented = documented_routes(&document());
    let missing: Vec<_> = served.difference(&documented).collect();
    assert!(missing.is_empty(), "served, not documented: {missing:?}");
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(extra.is_empty(), "documented, not served: {extra:?}");
}

/// Every `$ref` in `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_served_document_is_openapi_3_1_and_every_ref_resolves() {
    let a = TestInstance::spawn("alpha").await;
    let res = a
        .client
        .get(a.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("application/json"), "{kind}");
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc, document());
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 100, "only {} $refs", all.len());
    for r in all {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("not local: {r}"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_string()), "operationId {id} twice");
            // Every `{param}` of the path is declared, and every error names the error shape.
            for name in path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
                let declared = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["in"] == "path" && p["name"] == name && p["required"] == true);
                assert!(declared, "{method} {path}: {{{name}}} undeclared");
            }
            for (status, answer) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        answer["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}

/// Validates real answers against the document's schemas, made strict: an object schema that
/// lists its properties allows no others, so that a field sent but not documented fails too.
struct Checker {
    doc: Value,
    /// Components with strict objects, the root every `$ref` resolves against.
    components: Value,
}

fn strict(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let lists = map.contains_key("properties") && !map.contains_key("allOf");
            if lists && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(strict);
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

impl Checker {
    fn new() -> Self {
        let doc = document();
        let mut components = doc["components"].clone();
        strict(&mut components);
        Self { doc, components }
    }

    /// The schema documented for `status` of `method path`, or `None` for an answer without a
    /// body; panics when the status is not documented.
    fn schema(&self, method: &str, path: &str, status: u16) -> Option<Value> {
        let op = &self.doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        let answer = &op["responses"][status.to_string()];
        assert!(
            answer.is_object(),
            "{method} {path}: {status} not documented"
        );
        answer["content"]
            .get("application/json")
            .map(|c| c["schema"].clone())
    }

    /// The errors of `body` against the schema of `status` of `method path`.
    fn errors(&self, method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
        let Some(mut schema) = self.schema(method, path, status) else {
            assert!(
                body.is_null() || body == "",
                "{method} {path} {status} documents no body but sent {body}"
            );
            return Vec::new();
        };
        strict(&mut schema);
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [schema],
            "components": self.components,
        });
        let validator = jsonschema::draft202012::new(&root)
            .unwrap_or_else(|e| panic!("{method} {path} {status}: bad schema: {e}"));
        validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    /// Asserts that a real answer matches its documented schema.
    fn check(&self, method: &str, path: &str, answer: (u16, Value)) -> Value {
        let (status, body) = answer;
        let errors = self.errors(method, path, status, &body);
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: {errors:#?}\n{body:#}"
        );
        body
    }
}

/// Alpha with ana coordinating "garden", max a listed member of it, and a topic by ana with
/// a reply by max.
struct Garden {
    a: TestInstance,
    ana: String,
    max: String,
    topic: i64,
    reply: i64,
    check: Checker,
}

impl Garden {
    async fn new() -> Self {
        let a = TestInstance::spawn("alpha").await;
        let check = Checker::new();
        let ana = a.create_user("ana").await;
        let max = a.create_user("max").await;
        let created = a
            .api(
                Method::POST,
                "/api/v1/communities",
                Some(&ana),
                Some(json!({ "name": "garden", "title": "The garden", "summary": "Growing *things*" })),
            )
            .await;
        check.check("post", "/api/v1/communities", created);
        let joined = a
            .api(
                Method::POST,
                "/api/v1/follows",
                Some(&max),
                Some(json!({ "community": "garden", "listed": true })),
            )
            .await;
        check.check("post", "/api/v1/follows", joined);
        let topic = check.check(
            "post",
            "/api/v1/communities/{name}/posts",
            a.api(
                Method::POST,
                "/api/v1/communities/garden/posts",
                Some(&ana),
                Some(json!({ "title": "Seeds", "content": "Which #seeds, @max?" })),
            )
            .await,
        );
        let topic = topic["local_id"].as_i64().unwrap();
        let reply = check.check(
            "post",
            "/api/v1/posts/{id}/replies",
            a.api(
                Method::POST,
                &format!("/api/v1/posts/{topic}/replies"),
                Some(&max),
                Some(json!({ "content": "Beans." })),
            )
            .await,
        );
        let reply = reply["local_id"].as_i64().unwrap();
        Self {
            a,
            ana,
            max,
            topic,
            reply,
            check,
        }
    }

    /// Calls `method path` (a template) at `real` and checks the answer against its schema.
    async fn call(
        &self,
        method: Method,
        template: &str,
        real: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let answer = self.a.api(method.clone(), real, token, body).await;
        let lower = method.as_str().to_lowercase();
        let template = template.split('?').next().unwrap_or(template);
        self.check.check(&lower, template, answer)
    }
}

#[tokio::test]
async fn account_community_and_discussion_answers_match_their_schemas() {
    let g = Garden::new().await;
    let (ana, max) = (Some(g.ana.as_str()), Some(g.max.as_str()));
    g.call(Method::GET, "/api/v1/me", "/api/v1/me", ana, None)
        .await;
    let body = json!({ "display_name": "Ana", "summary": "I *grow* things" });
    g.call(Method::PUT, "/api/v1/me", "/api/v1/me", ana, Some(body))
        .await;
    let tokens = "/api/v1/me/tokens";
    let phone = json!({ "name": "phone" });
    let made = g.call(Method::POST, tokens, tokens, ana, Some(phone)).await;
    assert_eq!(made["name"], "phone");
    assert!(made["token"].is_string() && made["id"].is_i64());
    let list = g.call(Method::GET, tokens, tokens, ana, None).await;
    assert_eq!(list["items"][0]["id"], made["id"]);
    // The token just made signs requests in.
    let phone = made["token"].as_str();
    g.call(Method::GET, tokens, tokens, phone, None).await;
    let c = "/api/v1/communities/{name}";
    g.call(Method::GET, c, "/api/v1/communities/garden", None, None)
        .await;
    let topics = "/api/v1/communities/{name}/topics";
    let list = g
        .call(
            Method::GET,
            topics,
            "/api/v1/communities/garden/topics?sort=new",
            None,
            None,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let posts = "/api/v1/communities/{name}/posts";
    g.call(
        Method::GET,
        posts,
        "/api/v1/communities/garden/posts",
        None,
        None,
    )
    .await;
    let thread = format!("/api/v1/posts/{}", g.reply);
    let t = g
        .call(Method::GET, "/api/v1/posts/{id}", &thread, None, None)
        .await;
    assert_eq!(t["replies"][0]["local_id"], g.reply);
    let edit = json!({ "content": "Beans and peas." });
    g.call(
        Method::PATCH,
        "/api/v1/posts/{id}",
        &thread,
        max,
        Some(edit),
    )
    .await;
    let person = "/api/v1/people/{handle}/posts";
    g.call(Method::GET, person, "/api/v1/people/max/posts", None, None)
        .await;
    let react = format!("/api/v1/posts/{}/reactions", g.topic);
    let emoji = json!({ "emoji": "🌱" });
    g.call(
        Method::POST,
        "/api/v1/posts/{id}/reactions",
        &react,
        max,
        Some(emoji),
    )
    .await;
    let report = format!("/api/v1/posts/{}/reports", g.reply);
    let why = json!({ "reason": "off topic" });
    g.call(
        Method::POST,
        "/api/v1/posts/{id}/reports",
        &report,
        ana,
        Some(why),
    )
    .await;
    let reports = "/api/v1/communities/{name}/reports";
    let r = g
        .call(
            Method::GET,
            reports,
            "/api/v1/communities/garden/reports",
            ana,
            None,
        )
        .await;
    assert_eq!(r["items"][0]["post"]["local_id"], g.reply);
    let lock = format!("/api/v1/posts/{}/lock", g.topic);
    let locked = json!({ "locked": true });
    g.call(
        Method::PUT,
        "/api/v1/posts/{id}/lock",
        &lock,
        ana,
        Some(locked),
    )
    .await;
}

#[tokio::test]
async fn event_answers_match_their_schemas() {
    let g = Garden::new().await;
    let (ana, max) = (Some(g.ana.as_str()), Some(g.max.as_str()));
    let form = json!({
        "title": "Seed swap", "description": "Bring *seeds*",
        "start": "2030-05-01T10:00", "end": "2030-05-01T12:00", "timezone": "Europe/London",
        "place": { "name": "The shed", "locality": "Leeds", "latitude": 53.8, "longitude": -1.55 },
        "capacity": 1,
    });
    let events = "/api/v1/communities/{name}/events";
    let real = "/api/v1/communities/garden/events";
    let e = g.call(Method::POST, events, real, ana, Some(form)).await;
    let id = e["id"].as_i64().unwrap();
    g.call(Method::GET, events, real, None, None).await;
    g.call(Method::GET, events, &format!("{real}?past=true"), max, None)
        .await;
    let one = format!("/api/v1/events/{id}");
    g.call(Method::GET, "/api/v1/events/{id}", &one, None, None)
        .await;
    let rsvp = format!("/api/v1/events/{id}/rsvp");
    let going = json!({ "going": true });
    let o = g
        .call(
            Method::POST,
            "/api/v1/events/{id}/rsvp",
            &rsvp,
            max,
            Some(going.clone()),
        )
        .await;
    assert_eq!(o["status"], "going");
    // The only place is taken: ana waits, and the answer carries her position.
    let o = g
        .call(
            Method::POST,
            "/api/v1/events/{id}/rsvp",
            &rsvp,
            ana,
            Some(going),
        )
        .await;
    assert_eq!(
        (o["status"].as_str(), o["position"].as_u64()),
        (Some("waiting"), Some(1))
    );
    let who = format!("/api/v1/events/{id}/participants");
    let p = g
        .call(
            Method::GET,
            "/api/v1/events/{id}/participants",
            &who,
            ana,
            None,
        )
        .await;
    assert_eq!(p["items"].as_array().unwrap().len(), 2);
    let cancel = format!("/api/v1/events/{id}/cancel");
    g.call(
        Method::POST,
        "/api/v1/events/{id}/cancel",
        &cancel,
        ana,
        None,
    )
    .await;
}

#[tokio::test]
async fn membership_answers_match_their_schemas() {
    let g = Garden::new().await;
    let ana = Some(g.ana.as_str());
    let settings = "/api/v1/communities/{name}/settings";
    let policy = json!({ "membership_policy": "approval", "purpose": "To grow" });
    let real = "/api/v1/communities/garden/settings";
    g.call(Method::PUT, settings, real, ana, Some(policy)).await;
    let cy = g.a.create_user("cy").await;
    let ask = json!({ "community": "garden", "reason": "I have a plot" });
    g.call(
        Method::POST,
        "/api/v1/follows",
        "/api/v1/follows",
        Some(&cy),
        Some(ask),
    )
    .await;
    let requests = "/api/v1/communities/{name}/requests";
    let r = g
        .call(
            Method::GET,
            requests,
            "/api/v1/communities/garden/requests",
            ana,
            None,
        )
        .await;
    assert_eq!(r["items"][0]["reason"], "I have a plot");
    let members = "/api/v1/communities/{name}/members";
    let m = g
        .call(
            Method::GET,
            members,
            "/api/v1/communities/garden/members",
            None,
            None,
        )
        .await;
    assert_eq!(m["listed"], 1);
    g.a.create_user("dee").await;
    let invites = "/api/v1/communities/{name}/invites";
    let real = "/api/v1/communities/garden/invites";
    let dee = json!({ "handle": "dee" });
    let invited = g.call(Method::POST, invites, real, ana, Some(dee)).await;
    let i = g.call(Method::GET, invites, real, ana, None).await;
    assert_eq!(i["items"][0]["invitee"], invited["invitee"]);
    let mine = "/api/v1/communities/{name}/membership";
    let listed = json!({ "listed": false });
    let max = Some(g.max.as_str());
    g.call(
        Method::PATCH,
        mine,
        "/api/v1/communities/garden/membership",
        max,
        Some(listed),
    )
    .await;
    let bans = "/api/v1/communities/{name}/bans";
    let ban = json!({ "handle": "max", "reason": "spam" });
    g.call(
        Method::POST,
        bans,
        "/api/v1/communities/garden/bans",
        ana,
        Some(ban),
    )
    .await;
    let b = g
        .call(
            Method::GET,
            bans,
            "/api/v1/communities/garden/bans",
            ana,
            None,
        )
        .await;
    assert_eq!(b["items"][0]["reason"], "spam");
    let log = "/api/v1/communities/{name}/log";
    let l = g
        .call(
            Method::GET,
            log,
            "/api/v1/communities/garden/log",
            ana,
            None,
        )
        .await;
    assert!(!l["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn notification_answers_match_their_schemas() {
    let g = Garden::new().await;
    let ana = Some(g.ana.as_str());
    // Max's reply to ana's topic is a notification for her.
    let list = "/api/v1/notifications";
    let n = g.call(Method::GET, list, list, ana, None).await;
    assert_eq!(n["items"][0]["post_id"], g.reply);
    assert_eq!(n["items"][0]["actor"]["name"], "max");
    let unread = format!("{list}?unread=true&limit=5");
    g.call(Method::GET, list, &unread, ana, None).await;
    let read = "/api/v1/notifications/read";
    let up_to = json!({ "up_to": n["items"][0]["id"] });
    let m = g.call(Method::POST, read, read, ana, Some(up_to)).await;
    assert_eq!(m["unread_count"], 0);
    let n = g.call(Method::GET, list, list, ana, None).await;
    assert!(n["items"][0]["read_at"].is_string());
    let settings = "/api/v1/me/notification-settings";
    g.call(Method::GET, settings, settings, ana, None).await;
    let digest = json!({ "email": "ana@x.test", "email_notifications": "digest" });
    let s = g
        .call(Method::PUT, settings, settings, ana, Some(digest))
        .await;
    assert_eq!(s["email_notifications"], "digest");
    let weekly = json!({ "email_notifications": "weekly" });
    let e = g
        .call(Method::PUT, settings, settings, ana, Some(weekly))
        .await;
    assert_eq!(e["field"], "email_notifications");
    let e = g.call(Method::GET, list, list, None, None).await;
    assert!(e["field"].is_null());
}

#[tokio::test]
async fn error_answers_match_the_error_shape() {
    let g = Garden::new().await;
    let c = "/api/v1/communities/{name}";
    let e = g
        .call(Method::GET, c, "/api/v1/communities/nowhere", None, None)
        .await;
    assert_eq!(e["error"], "community not found");
    let topics = "/api/v1/communities/{name}/topics";
    let e = g
        .call(
            Method::GET,
            topics,
            "/api/v1/communities/garden/topics?limit=1000",
            None,
            None,
        )
        .await;
    assert_eq!(e["field"], "limit");
    let e = g
        .call(Method::GET, "/api/v1/me", "/api/v1/me", None, None)
        .await;
    assert!(e["field"].is_null());
    let e = g
        .call(
            Method::GET,
            "/api/v1/posts/{id}",
            "/api/v1/posts/abc",
            None,
            None,
        )
        .await;
    assert_eq!(e["field"], "id");
    let long = json!({ "title": "", "content": "x" });
    let posts = "/api/v1/communities/{name}/posts";
    let e = g
        .call(
            Method::POST,
            posts,
            "/api/v1/communities/garden/posts",
            Some(&g.ana),
            Some(long),
        )
        .await;
    assert_eq!(e["field"], "title");
}

#[tokio::test]
async fn an_answer_that_breaks_its_schema_is_refused() {
    let g = Garden::new().await;
    let (status, good) =
        g.a.api(Method::GET, "/api/v1/communities/garden", None, None)
            .await;
    let c = "/api/v1/communities/{name}";
    assert!(g.check.errors("get", c, status, &good).is_empty());
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("handle");
    assert!(!g.check.errors("get", c, status, &missing).is_empty());
    let mut extra = good.clone();
    extra["undocumented"] = json!(1);
    assert!(!g.check.errors("get", c, status, &extra).is_empty());
    let mut wrong = good;
    wrong["membership_policy"] = json!("anyone at all");
    assert!(!g.check.errors("get", c, status, &wrong).is_empty());
    let thread = format!("/api/v1/posts/{}", g.topic);
    let (status, mut t) = g.a.api(Method::GET, &thread, None, None).await;
    t["replies"][0]["reaction_count"] = json!("many");
    assert!(!g
        .check
        .errors("get", "/api/v1/posts/{id}", status, &t)
        .is_empty());
}
