//! Reads under 64 concurrent connections: WebFinger, the Group actor, an outbox page and the
//! community's HTML page, each the same document again and again (so mostly the response cache);
//! then documents that are never the same twice in a row: random posts among many, random actors,
//! the outbox pages of random communities; and the pages people see signed in (`pages.rs`).

use super::{
    load::{self, Request},
    measure::{Row, Stopwatch},
};
use crate::TestInstance;
use copse_entities::{community, person};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

/// Runs `per_endpoint` requests against each endpoint, on a database first filled with `rows`
/// posts (`rows / 10` people, `rows / 100` communities) for the uncached reads.
pub async fn run(
    a: &TestInstance,
    db_name: &str,
    per_endpoint: usize,
    rows: usize,
    axum_ceiling: f64,
) -> Vec<Row> {
    let seeded = seed(a, rows).await;
    a.create_community("reads", "Reads").await;
    let token = a.create_user("reader").await;
    for i in 0..30 {
        let (s, _) = a
            .api(
                reqwest::Method::POST,
                "/api/v1/communities/reads/posts",
                Some(&token),
                Some(json!({ "title": format!("Post {i}"), "content": "Some **markdown** text.\n\nA second paragraph." })),
            )
            .await;
        assert_eq!(s, 201);
    }
    let endpoints = [
        (
            "WebFinger",
            a.url(&format!(
                "/.well-known/webfinger?resource=acct:reads@{}",
                a.domain
            )),
            "application/jrd+json",
        ),
        (
            "Group actor",
            a.url("/c/reads"),
            "application/activity+json",
        ),
        (
            "outbox page",
            a.url("/c/reads/outbox"),
            "application/activity+json",
        ),
        ("community HTML", a.url("/c/reads"), "text/html"),
    ];
    let (people, communities) = seeded;
    // Each request a different document where the tables allow (a stride through each table):
    // no two share a cache entry, so every one reads the database.
    let pick = |k: usize, n: usize| (k * 7919 + 17) % n.max(1);
    let activities = (rows / 10).max(1);
    let random = |what: &str| -> Vec<String> {
        (0..per_endpoint)
            .map(|k| match what {
                "post" => a.url(&format!("/post/{}", pick(k, rows) + 1)).to_string(),
                "actor" => a.url(&format!("/u/p{}", pick(k, people))).to_string(),
                _ => a
                    .url(&format!(
                        "/c/c{}/outbox?page=true&before={}",
                        pick(k, communities),
                        pick(k, activities) + 2
                    ))
                    .to_string(),
            })
            .collect()
    };
    let uncached = [
        (format!("random post of {rows}, uncached"), random("post")),
        (
            format!("random Person actor of {people}, uncached"),
            random("actor"),
        ),
        (
            format!("outbox page of a random community of {communities}, uncached"),
            random("outbox"),
        ),
    ];
    // Remote servers and browsers keep their connections open: open the 64 connections first
    // (on a document none of the measured endpoints share a cache entry with), so that p99 is
    // the answer time and not 64 TCP handshakes at once.
    let client = load::client_for(a);
    let warm = load::get_many(
        &client,
        vec![a.url("/.well-known/nodeinfo").to_string(); 256],
        64,
    )
    .await;
    assert_eq!(warm.ok, 256, "{:?}", warm.errors);
    let mut rows = Vec::new();
    let repeated = endpoints.into_iter().map(|(name, url, accept)| {
        (
            name.to_string(),
            vec![url.to_string(); per_endpoint],
            accept,
        )
    });
    let uncached = uncached
        .into_iter()
        .map(|(name, urls)| (name, urls, "application/activity+json"));
    for (name, urls, accept) in repeated.chain(uncached) {
        let reqs: Vec<Request> = urls
            .into_iter()
            .map(|url| Request {
                url,
                headers: vec![("Accept".into(), accept.into())],
                body: None,
            })
            .collect();
        let sw = Stopwatch::start();
        let mut res = load::run(&client, reqs, 64).await;
        assert_eq!(res.ok as usize, per_endpoint, "{name}: {:?}", res.errors);
        rows.push(
            Row::new(
                db_name,
                &format!("read {name}, 64 connections"),
                res.ok,
                &sw,
            )
            .against("raw axum", axum_ceiling)
            .latencies(&mut res.latencies),
        );
    }
    rows.extend(
        super::pages::run(a, db_name, per_endpoint, communities, &token, axum_ceiling).await,
    );
    rows
}

/// Fills the instance's database with `rows` posts, `rows / 10` people (made local, so their
/// actors are served here) and `rows / 100` communities, and returns (people, communities).
async fn seed(a: &TestInstance, rows: usize) -> (usize, usize) {
    let db = a.db();
    assert_eq!(
        person::Entity::find().count(db).await.expect("count")
            + community::Entity::find().count(db).await.expect("count"),
        0,
        "the reads database is filled before anything else is in it"
    );
    super::growth::build(db, rows).await;
    let (public, _) = copse_federation::signatures::generate_keypair().expect("keys");
    person::Entity::update_many()
        .col_expr(person::Column::Local, sea_orm::sea_query::Expr::value(true))
        .col_expr(
            person::Column::PublicKeyPem,
            sea_orm::sea_query::Expr::value(public),
        )
        .exec(db)
        .await
        .expect("local people");
    ((rows / 10).max(1), (rows / 100).max(1))
}
