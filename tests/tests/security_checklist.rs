//! Rows of SECURITY.md's checklist that other files do not cover: each test names its row, and
//! asserts the status, the rows stored and the requests made.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{post, received_activity, received_activity::InboxStatus};
use copse_federation::{fetch::fetch_json, http::deliver::DeliveryClient, FederationSettings};
use copse_tests::{fake::FakeServer, wait_for, TestInstance};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use serde_json::{json, Value};
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};
use url::Url;

const T: Duration = Duration::from_secs(20);

/// A loopback listener that counts the connections it accepts.
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, accepted)
}

async fn posts(a: &TestInstance) -> u64 {
    post::Entity::find().count(a.db()).await.unwrap()
}

/// Waits until every received activity has been processed, and returns them.
async fn settled(a: &TestInstance) -> Vec<received_activity::Model> {
    wait_for("the inbox to settle", T, || async {
        received_activity::Entity::find()
            .filter(received_activity::Column::Status.eq(InboxStatus::Pending))
            .count(a.db())
            .await
            .unwrap()
            == 0
    })
    .await;
    received_activity::Entity::find().all(a.db()).await.unwrap()
}

async fn community(a: &TestInstance) -> (String, Url) {
    let ana = a.create_user("ana").await;
    a.community_with(
        &ana,
        "net",
        json!({ "topic_policy": "anyone", "reply_policy": "anyone" }),
    )
    .await;
    (ana, a.url("/c/net"))
}

fn mention(group: &Url, text: &str) -> String {
    format!(
        "<p><span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>net</span></a></span> {text}</p>"
    )
}

// T30: a DNS name that resolves to loopback is refused by the production resolver, before any
// connection, and the refusal is permanent (a 422 naming the field, a delivery given up).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_a_name_resolving_to_loopback_is_refused_before_connecting() {
    let (port, accepted) = counting_listener().await;
    let production = FederationSettings::new("copse.example", false);

    let fetcher = copse_federation::http::client(&production).unwrap();
    let err = fetcher
        .get(format!("http://localhost:{port}/users/x"))
        .send()
        .await
        .unwrap_err();
    let err = copse_federation::Error::from(err);
    assert!(matches!(err, copse_federation::Error::Url(_)), "{err}");
    assert_eq!(err.status(), 400);

    let deliveries = DeliveryClient::new(&production).unwrap();
    let inbox = Url::parse(&format!("http://localhost:{port}/inbox")).unwrap();
    let refused = deliveries.post(&inbox, &[], b"{}").await.unwrap_err();
    assert!(refused.is_permanent(), "{refused}");

    // Through the API of an instance in production mode: a handle whose domain resolves to
    // loopback is a 422 naming the field, not a 503 to retry.
    let mut a = TestInstance::spawn_with("alpha", |s| s.federation.debug = false).await;
    let our_port: u16 = a.domain.rsplit(':').next().unwrap().parse().unwrap();
    let host = a.domain.split(':').next().unwrap().to_string();
    a.client = reqwest::Client::builder()
        .resolve(
            &host,
            std::net::SocketAddr::from(([127, 0, 0, 1], our_port)),
        )
        .build()
        .unwrap();
    let token = a.create_user("ana").await;
    for handle in ["net@localhost", "net@127.0.0.1"] {
        let (status, body) = a
            .api(
                reqwest::Method::POST,
                "/api/v1/follows",
                Some(&token),
                Some(json!({ "community": handle })),
            )
            .await;
        assert_eq!(status, 422, "{handle}: {body}");
        assert_eq!(body["field"], "community", "{body}");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "something connected");
}

// Task: a handle's domain is checked before any WebFinger request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handles_with_a_malformed_domain_are_refused_before_webfinger() {
    let a = TestInstance::spawn("alpha").await;
    let token = a.create_user("ana").await;
    let fake = FakeServer::start().await;
    let good = fake.base("masto");
    let good = good.trim_start_matches("http://");
    for handle in [
        format!("net@{good}/x"),
        format!("net@{good}?q"),
        format!("net@{good}#f"),
        format!("net@us er@{good}"),
        format!("net@{good} x"),
        "net@:80".to_string(),
        format!("net@{good}:"),
    ] {
        let (status, body) = a
            .api(
                reqwest::Method::POST,
                "/api/v1/follows",
                Some(&token),
                Some(json!({ "community": handle })),
            )
            .await;
        assert_eq!(status, 422, "{handle}: {body}");
        assert_eq!(body["field"], "community", "{handle}: {body}");
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

// T7: a Create whose object is attributed to someone other than the signer stores no post.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t7_a_create_attributed_to_another_actor_stores_no_post() {
    let a = TestInstance::spawn("alpha").await;
    let (_, group) = community(&a).await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let bob = fake.actor("victim", "bob");
    let before = posts(&a).await;
    for (n, author) in [
        (1, &bob.id),
        (
            2,
            &Url::parse(&format!("{}/users/mia", fake.base("other"))).unwrap(),
        ),
    ] {
        let (_, mut create) = mia.status(&fake, n, &group, &mention(&group, "forged"), None);
        create["object"]["attributedTo"] = json!(author);
        let status = mia
            .deliver(&a.client, &a.url("/c/net/inbox"), &create)
            .await;
        assert_eq!(status, 400, "refused before it is stored");
    }
    let rows = settled(&a).await;
    assert!(rows.is_empty(), "{rows:?}");
    assert_eq!(posts(&a).await, before);
}

// T9: a fetched document whose id is on another origin is refused; a redirect is not followed;
// a host written with capitals or a trailing dot is the same origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t9_fetched_ids_must_match_their_origin_and_redirects_are_not_followed() {
    let a = TestInstance::spawn("alpha").await;
    let data = a.data();
    let fake = FakeServer::start().await;
    let here = Url::parse(&format!("{}/notes/1", fake.base("masto"))).unwrap();
    let victim = format!("{}/notes/1", fake.base("victim"));
    fake.serve(
        &here,
        json!({ "id": victim, "type": "Note", "content": "forged" }),
    );
    assert!(fetch_json(&data, &here).await.is_err());
    assert!(
        fake.requests_to("victim").is_empty(),
        "the other origin was fetched"
    );

    // Same origin written differently: accepted after one refetch by id.
    let real = Url::parse(&format!("{}/notes/2", fake.base("masto"))).unwrap();
    fake.serve(
        &real,
        json!({ "id": real, "type": "Note", "content": "real" }),
    );
    let dotted = Url::parse(&format!("http://MASTO.localhost.:{}/notes/2", fake.port)).unwrap();
    let doc = fetch_json(&data, &dotted).await.unwrap();
    assert_eq!(doc["content"], "real");

    // A redirect to another host is an error, and the other host sees nothing.
    let (port, accepted) = counting_listener().await;
    let redirector = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rport = redirector.local_addr().unwrap().port();
    let target = format!("http://evil.localhost:{port}/notes/1");
    let app = axum::Router::new().fallback(move || {
        let target = target.clone();
        async move { (axum::http::StatusCode::FOUND, [("location", target)]) }
    });
    tokio::spawn(async move {
        let _ = axum::serve(redirector, app).await;
    });
    let moved = Url::parse(&format!("http://masto.localhost:{rport}/notes/3")).unwrap();
    assert!(fetch_json(&data, &moved).await.is_err());
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
}

// T19: a reply whose parents form a 1 000-deep chain costs a bounded number of fetches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t19_a_deep_reply_chain_is_fetched_a_bounded_number_of_times() {
    let a = TestInstance::spawn("alpha").await;
    let (_, group) = community(&a).await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let evil = fake.actor("evil", "eve");
    let chain = |n: u32| format!("{}/chain/{n}", fake.base("evil"));
    for n in 1..=1000u32 {
        let id = Url::parse(&chain(n)).unwrap();
        fake.serve(
            &id,
            json!({
                "id": id, "type": "Note", "attributedTo": evil.id,
                "inReplyTo": (n > 1).then(|| chain(n - 1)),
                "content": format!("<p>{n}</p>"),
                "to": ["https://www.w3.org/ns/activitystreams#Public"]
            }),
        );
    }
    let (_, create) = mia.status(
        &fake,
        1,
        &group,
        &mention(&group, "deep"),
        Some(&chain(1000)),
    );
    assert_eq!(
        mia.deliver(&a.client, &a.url("/c/net/inbox"), &create)
            .await,
        202
    );
    settled(&a).await;
    let fetched = fake
        .requests_to("evil")
        .iter()
        .filter(|r| r.path.starts_with("/chain/"))
        .count();
    assert!(fetched <= 20, "{fetched} fetches");
    assert!(fetched > 0);
    // Still serving.
    let (status, _) = a
        .api(reqwest::Method::GET, "/api/v1/communities/net", None, None)
        .await;
    assert_eq!(status, 200);
}

// T35: while another connection holds `BEGIN IMMEDIATE` past the busy timeout, the inbox answers
// 503 (the sender retries) and stores nothing; once released the same request is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t35_a_busy_sqlite_database_answers_503_and_stores_once_after() {
    let a = TestInstance::spawn("alpha").await;
    if a.is_postgres() {
        return;
    }
    let (_, group) = community(&a).await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let (_, create) = mia.status(&fake, 1, &group, &mention(&group, "busy"), None);

    let mut opts = ConnectOptions::new(a.settings.database.url.clone());
    opts.max_connections(1).min_connections(1);
    let other = Database::connect(opts).await.unwrap();
    let mode = other
        .query_one_raw(sea_orm::Statement::from_string(
            other.get_database_backend(),
            "PRAGMA journal_mode",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mode.try_get_by_index::<String>(0).unwrap(), "wal");
    // The sender waits longer than the busy timeout.
    let mut patient = a.settings.federation_settings();
    patient.request_timeout = Duration::from_secs(60);
    let patient = copse_federation::http::client(&patient).unwrap();
    other.execute_unprepared("BEGIN IMMEDIATE").await.unwrap();
    let status = mia.deliver(&patient, &a.url("/c/net/inbox"), &create).await;
    assert_eq!(status, 503);
    other.execute_unprepared("COMMIT").await.unwrap();
    assert_eq!(
        received_activity::Entity::find()
            .count(a.db())
            .await
            .unwrap(),
        0
    );

    let status = mia
        .deliver(&a.client, &a.url("/c/net/inbox"), &create)
        .await;
    assert_eq!(status, 202);
    let status = mia
        .deliver(&a.client, &a.url("/c/net/inbox"), &create)
        .await;
    assert_eq!(status, 202);
    let rows = settled(&a).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].status,
        InboxStatus::Done,
        "{:?}",
        rows[0].last_error
    );
    let _: Value = serde_json::from_str(&rows[0].data).unwrap();
}

// T8: an Announce embedding a post whose id is on another server: the post is fetched from its
// origin and stored as that server serves it, never with the embedded text; gone there, nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t8_an_announced_post_from_another_origin_is_fetched_not_trusted() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let fake = FakeServer::start().await;
    let g = fake.group("evil", "cooking");
    a.follow_fake_group(&ana, &fake, &g).await;
    let bob = fake.actor("victim", "bob");
    let note = |n: u32, text: &str| {
        json!({
            "id": format!("{}/posts/{n}", bob.id), "type": "Page", "attributedTo": bob.id,
            "to": [g.id, "https://www.w3.org/ns/activitystreams#Public"], "audience": g.id,
            "name": "Stock", "content": text, "published": "2026-11-22T10:00:00Z"
        })
    };
    let real = note(1, "<p>Bones first.</p>");
    fake.serve(
        &Url::parse(real["id"].as_str().unwrap()).unwrap(),
        real.clone(),
    );
    for (n, id) in [(1, 1), (2, 2)] {
        let announce = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/announces/{n}", g.id), "type": "Announce", "actor": g.id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": note(id, "<p>Forged: send your password.</p>")
        });
        assert_eq!(g.deliver(&a.client, &a.url("/inbox"), &announce).await, 202);
    }
    settled(&a).await;
    let stored = post::Entity::find().all(a.db()).await.unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(
        stored[0].content.contains("Bones first"),
        "{}",
        stored[0].content
    );
    assert!(!stored.iter().any(|p| p.content.contains("Forged")));
    let fetched = fake
        .requests_to("victim")
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/users/bob/posts/"))
        .count();
    assert_eq!(fetched, 2, "both posts were asked of their origin");
}

// T17: a member who does not moderate sends Add (to moderators), Block and Update{Group}: the
// community, its roles and its bans stay as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t17_moderation_by_a_non_moderator_changes_nothing() {
    use copse_entities::{community, community_ban, community_follower};
    let a = TestInstance::spawn("alpha").await;
    let (_, group) = community(&a).await;
    let fake = FakeServer::start().await;
    let eve = fake.actor("evil", "eve");
    let bob = fake.actor("evil", "bob");
    a.follow_as(&fake, &eve, "evil", &group).await;
    a.follow_as(&fake, &bob, "evil", &group).await;
    let before = community::Entity::find()
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    let base = fake.base("evil");
    let public = "https://www.w3.org/ns/activitystreams#Public";
    for activity in [
        json!({ "id": format!("{base}/a/1"), "type": "Add", "actor": eve.id, "object": eve.id,
                "target": format!("{group}/moderators"), "to": [public], "cc": [group] }),
        json!({ "id": format!("{base}/a/2"), "type": "Block", "actor": eve.id, "object": bob.id,
                "target": group, "to": [public], "cc": [group] }),
        json!({ "id": format!("{base}/a/3"), "type": "Update", "actor": eve.id, "to": [public],
                "object": { "id": group, "type": "Group", "preferredUsername": "net",
                            "name": "Taken over", "inbox": format!("{group}/inbox"),
                            "publicKey": { "id": format!("{group}#main-key"), "owner": group,
                                           "publicKeyPem": eve.public_pem } } }),
    ] {
        let mut activity = activity;
        activity["@context"] = json!("https://www.w3.org/ns/activitystreams");
        let status = eve
            .deliver(&a.client, &a.url("/c/net/inbox"), &activity)
            .await;
        assert!(status == 202 || (400..500).contains(&status), "{status}");
    }
    settled(&a).await;
    let after = community::Entity::find()
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, before);
    let roles: Vec<_> = community_follower::Entity::find()
        .all(a.db())
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.role)
        .collect();
    assert!(
        roles.iter().all(|r| *r == community_follower::Role::Member
            || *r == community_follower::Role::Coordinator),
        "{roles:?}"
    );
    assert_eq!(
        community_ban::Entity::find().count(a.db()).await.unwrap(),
        0
    );
}
