//! What serving a document costs the database: the statements a post, an actor and an outbox
//! page take, counted through the real router on a second connection to the instance's
//! database. Their number must not grow with the thread or the page, and on SQLite none may
//! scan a whole table (each is checked with `EXPLAIN QUERY PLAN`).

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{post, DbUrl};
use copse_server::AppState;
use copse_tests::TestInstance;
use reqwest::Method;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ConnectionTrait, EntityTrait, Set, Statement,
};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// The instance's router on its own connection, which logs every statement it runs.
struct Counted {
    app: axum::Router,
    state: AppState,
    log: Arc<Mutex<Vec<Statement>>>,
}

impl Counted {
    async fn on(a: &TestInstance) -> Self {
        let mut db = copse_server::db::connect(&a.settings).await.unwrap();
        let log: Arc<Mutex<Vec<Statement>>> = Arc::default();
        let sink = log.clone();
        db.set_metric_callback(move |info| sink.lock().unwrap().push(info.statement.clone()));
        let state = copse_server::context(db, &a.settings).await.unwrap();
        let app = copse_server::router::router(state.clone(), &a.settings.http);
        Self { app, state, log }
    }

    /// GETs `path` as a server asking for ActivityPub JSON; returns status, body and the
    /// statements it took.
    async fn get(&self, path: &str) -> (u16, Value, Vec<Statement>) {
        self.log.lock().unwrap().clear();
        let req = axum::http::Request::get(path)
            .header("accept", "application/activity+json")
            .body(axum::body::Body::empty())
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let statements = std::mem::take(&mut *self.log.lock().unwrap());
        (status, body, statements)
    }

    /// On SQLite, the statements whose plan scans a whole table (`SCAN post`, not `SCAN post
    /// USING INDEX`), with that plan. A subquery's own rows (`MATERIALIZE r` then `SCAN r`) are
    /// not a table.
    async fn scans(&self, statements: &[Statement]) -> Vec<String> {
        let db = &self.state.db;
        if db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
            return Vec::new();
        }
        let mut out = Vec::new();
        for s in statements {
            let plan = Statement {
                sql: format!("EXPLAIN QUERY PLAN {}", s.sql),
                ..s.clone()
            };
            let details: Vec<String> = db
                .query_all_raw(plan)
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get("", "detail").unwrap())
                .collect();
            let subqueries: Vec<String> = details
                .iter()
                .filter_map(|d| {
                    d.strip_prefix("MATERIALIZE ")
                        .or_else(|| d.strip_prefix("CO-ROUTINE "))
                })
                .map(|name| format!("SCAN {name}"))
                .collect();
            for detail in details {
                let scan = detail.starts_with("SCAN ")
                    && !subqueries
                        .iter()
                        .any(|q| detail == *q || detail.starts_with(&format!("{q} ")))
                    && !detail.contains("USING INDEX")
                    && !detail.contains("USING COVERING INDEX")
                    && !detail.contains("CONSTANT ROW");
                if scan {
                    out.push(format!("{detail}: {}", s.sql));
                }
            }
        }
        out
    }
}

fn sql(statements: &[Statement]) -> String {
    statements
        .iter()
        .map(|s| s.sql.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn topic(a: &TestInstance, token: &str, title: &str) -> i64 {
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/reads/posts",
            Some(token),
            Some(json!({ "title": title, "content": "Some **markdown** text." })),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    body["local_id"].as_i64().unwrap()
}

/// Stores `n` replies to the topic `to` as rows (the API's own replies are tested elsewhere;
/// here only their number matters). Returns the last one's id.
async fn replies(a: &TestInstance, to: i64, n: usize) -> i64 {
    let topic = post::Entity::find_by_id(to)
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    let mut last = to;
    for i in 0..n {
        let mut r: post::ActiveModel = topic.clone().into();
        r.id = NotSet;
        r.ap_id = Set(DbUrl(a.url(&format!("/post/{to}/r{i}"))));
        r.parent_id = Set(Some(to));
        r.topic_id = Set(Some(to));
        last = r.insert(a.db()).await.unwrap().id;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_document_takes_few_statements_whatever_the_size_of_its_thread() {
    let a = TestInstance::spawn("alpha").await;
    a.create_community("reads", "Reads").await;
    let ana = a.create_user("ana").await;
    let lone = topic(&a, &ana, "Alone").await;
    let busy = topic(&a, &ana, "Busy").await;
    let last = replies(&a, busy, 60).await;
    let counted = Counted::on(&a).await;
    let mut counts = Vec::new();
    for id in [lone, busy, last] {
        let (status, body, statements) = counted.get(&format!("/post/{id}")).await;
        assert_eq!(status, 200, "{body}");
        println!(
            "/post/{id}: {} statements\n{}",
            statements.len(),
            sql(&statements)
        );
        let scans = counted.scans(&statements).await;
        assert!(scans.is_empty(), "/post/{id} scans a table: {scans:#?}");
        counts.push(statements.len());
    }
    assert_eq!(
        counts[0], counts[1],
        "a topic of 60 replies takes as many statements as one of none"
    );
    // The post, its community and author, whether it is an event, the first page of replies
    // and, for a reply, its parent: all in one.
    assert_eq!(counts, [1, 1, 1], "statements per post");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_page_takes_as_many_statements_for_twenty_posts_as_for_one() {
    let a = TestInstance::spawn("alpha").await;
    a.create_community("reads", "Reads").await;
    let ana = a.create_user("ana").await;
    topic(&a, &ana, "First").await;
    let counted = Counted::on(&a).await;
    let (status, body, one) = counted.get("/c/reads/outbox?page=true").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["orderedItems"].as_array().map(Vec::len), Some(1));
    for i in 0..25 {
        topic(&a, &ana, &format!("Topic {i}")).await;
    }
    let (status, body, full) = counted.get("/c/reads/outbox?page=true").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["orderedItems"].as_array().map(Vec::len), Some(20));
    println!("one item: {}\n\n20 items: {}", sql(&one), sql(&full));
    assert_eq!(
        one.len(),
        full.len(),
        "statements for one item and for 20:\n{}\n\n{}",
        sql(&one),
        sql(&full)
    );
    let scans = counted.scans(&full).await;
    assert!(
        scans.is_empty(),
        "the outbox page scans a table: {scans:#?}"
    );
    let (status, body, head) = counted.get("/c/reads/outbox").await;
    assert_eq!(status, 200, "{body}");
    let scans = counted.scans(&head).await;
    assert!(scans.is_empty(), "the outbox scans a table: {scans:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_actor_takes_one_statement() {
    let a = TestInstance::spawn("alpha").await;
    a.create_user("ana").await;
    let counted = Counted::on(&a).await;
    let (status, body, statements) = counted.get("/u/ana").await;
    assert_eq!(status, 200, "{body}");
    println!("{}", sql(&statements));
    let scans = counted.scans(&statements).await;
    assert!(scans.is_empty(), "the actor scans a table: {scans:#?}");
    assert!(statements.len() <= 1, "{}", sql(&statements));
}
