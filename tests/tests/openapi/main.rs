//! The OpenAPI document at `/api/v1/openapi.json`: every route the router serves is in it with
//! its methods (the routes read from the server's sources, so that a new one cannot be left
//! out), it is valid OpenAPI 3.1 whose every `$ref` resolves, and real answers of a running
//! instance validate against the schemas it gives for them (`answers`, through the strict
//! `checker`).

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod answers;
mod checker;

use copse_tests::TestInstance;
use serde_json::Value;
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
