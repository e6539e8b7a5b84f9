//! The test harness: real Copse instances in one process, each on its own loopback port and
//! hostname (`alpha.localhost:PORT`), on a temporary SQLite file or, when
//! `COPSE_TEST_DATABASE_URL` is set, a fresh PostgreSQL schema.

// A test harness: panicking with a message is how it reports a broken set-up.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::field_reassign_with_default
)]

pub mod a11y;
pub mod bench;
pub mod browser;
pub mod builders;
pub mod fake;
pub mod golden;
pub mod raw;
pub mod smtp;
pub mod visitor;

use copse_server::{settings::Settings, Instance};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::Value;
use std::{future::Future, sync::Once, time::Duration};
use url::Url;

static NOTICE: Once = Once::new();

/// The PostgreSQL URL tests run against, if any.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("COPSE_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    NOTICE.call_once(|| {
        if url.is_none() {
            println!("notice: COPSE_TEST_DATABASE_URL is not set: PostgreSQL runs are skipped, tests use SQLite");
        }
    });
    url
}

/// A database for one instance: a temporary SQLite file, or a fresh PostgreSQL schema.
pub struct TestDb {
    /// The URL to put in `[database] url`.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Creates an empty database.
    pub async fn new() -> Self {
        match postgres_url() {
            Some(base) => {
                let schema = format!("t_{}", uuid_like());
                let admin = Database::connect(&base)
                    .await
                    .expect("connect to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
                    .await
                    .expect("create schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                Self {
                    url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                    _dir: None,
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("copse.db").display()
                );
                Self {
                    url,
                    _dir: Some(dir),
                }
            }
        }
    }

    /// True on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }
}

fn uuid_like() -> String {
    let mut b = [0u8; 8];
    openssl::rand::rand_bytes(&mut b).expect("random bytes");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Settings for a test instance: debug federation, fast retries and polling.
pub fn test_settings(domain: &str, db_url: &str) -> Settings {
    let mut s = Settings::default();
    s.domain = domain.to_string();
    s.log = "warn".into();
    s.database.url = db_url.to_string();
    s.database.max_connections = 4;
    s.federation.debug = true;
    // Tests read what they just changed.
    s.http.cache_ms = 0;
    s.federation.retry_initial_ms = 200;
    s.federation.retry_max_seconds = 2;
    s.federation.poll_interval_ms = 100;
    s.federation.lease_seconds = 5;
    s.federation.request_timeout_seconds = 3;
    s.federation.delivery_workers = 1;
    s.federation.inbox_workers = 1;
    s
}

/// One running Copse instance.
pub struct TestInstance {
    /// Short name, also the first label of its hostname.
    pub name: String,
    /// `name.localhost:PORT`.
    pub domain: String,
    /// Its settings.
    pub settings: Settings,
    port: u16,
    db: TestDb,
    instance: Option<Instance>,
    /// An HTTP client that resolves `*.localhost` to loopback.
    pub client: reqwest::Client,
}

impl TestInstance {
    /// Starts an instance named `name` on a free loopback port.
    pub async fn spawn(name: &str) -> Self {
        Self::spawn_with(name, |_| {}).await
    }

    /// Starts an instance after adjusting its settings.
    pub async fn spawn_with(name: &str, adjust: impl FnOnce(&mut Settings)) -> Self {
        let listener =
            copse_server::listen(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let domain = format!("{name}.localhost:{port}");
        let db = TestDb::new().await;
        let mut settings = test_settings(&domain, &db.url);
        adjust(&mut settings);
        let instance = copse_server::start(settings.clone(), listener)
            .await
            .expect("start instance");
        let mut client_settings = settings.federation_settings();
        // The instance's own requests keep their short timeout; the test's requests to it wait
        // as long as a test waits for anything, so that a loaded machine slows a test down
        // instead of failing it.
        client_settings.request_timeout = Duration::from_secs(20);
        let client = copse_federation::http::client(&client_settings).expect("client");
        Self {
            name: name.to_string(),
            domain,
            settings,
            port,
            db,
            instance: Some(instance),
            client,
        }
    }

    /// The running instance.
    pub fn instance(&self) -> &Instance {
        self.instance.as_ref().expect("instance is running")
    }

    /// Its database.
    pub fn db(&self) -> &DatabaseConnection {
        self.instance().db()
    }

    /// Deliveries still queued: stored retries and failures, and those of batches not yet
    /// attempted (each target gets every form of its batch).
    pub async fn queued_deliveries(&self) -> usize {
        use copse_entities::{delivery, delivery_batch};
        use sea_orm::{EntityTrait, PaginatorTrait};
        let rows = delivery::Entity::find()
            .count(self.db())
            .await
            .expect("count");
        let batches = delivery_batch::Entity::find()
            .all(self.db())
            .await
            .expect("batches");
        let targets: usize = batches
            .iter()
            .map(|b| {
                let forms = 1 + b.then_activities.as_deref().map_or(0, |t| {
                    serde_json::from_str::<Vec<i64>>(t)
                        .expect("then_activities")
                        .len()
                });
                serde_json::from_str::<Vec<Value>>(&b.targets)
                    .expect("targets")
                    .len()
                    * forms
            })
            .sum();
        rows as usize + targets
    }

    /// The federation context.
    pub fn data(&self) -> copse_federation::Data {
        self.instance().data()
    }

    /// True on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.db.is_postgres()
    }

    /// Stops it as a crash would: nothing is flushed, queued work stays in the database.
    pub async fn stop(&mut self) {
        if let Some(i) = self.instance.take() {
            i.stop().await;
        }
    }

    /// Starts it again on the same port and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener =
            copse_server::listen(std::net::SocketAddr::from(([127, 0, 0, 1], self.port)))
                .expect("rebind");
        self.instance = Some(
            copse_server::start(self.settings.clone(), listener)
                .await
                .expect("restart"),
        );
    }

    /// An absolute URL on this instance.
    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.domain)).expect("url")
    }

    /// Creates a local account and returns its bearer token.
    pub async fn create_user(&self, name: &str) -> String {
        let (_, token) = copse_server::accounts::create_user(&self.data(), name, false)
            .await
            .expect("create user");
        token
    }

    /// The row id of the local person `name`.
    pub async fn local_person_id(&self, name: &str) -> i64 {
        copse_server::accounts::local_person(self.db(), name)
            .await
            .expect("person lookup")
            .unwrap_or_else(|| panic!("no local person {name}"))
            .id
    }

    /// Creates a community without a coordinator where anyone may post, so that a test can
    /// post without joining first.
    pub async fn create_community(
        &self,
        name: &str,
        title: &str,
    ) -> copse_entities::community::Model {
        let c = copse_server::accounts::create_community(
            &self.data(),
            copse_server::accounts::NewCommunity {
                name: name.into(),
                title: title.into(),
                summary: Some("A community of practice.".into()),
                owner: None,
            },
        )
        .await
        .expect("create community");
        let open = copse_server::accounts::CommunitySettings {
            topic_policy: Some(copse_entities::community::PostingPolicy::Anyone),
            reply_policy: Some(copse_entities::community::PostingPolicy::Anyone),
            ..Default::default()
        };
        copse_server::accounts::update_community(&self.data(), &c, open, None)
            .await
            .expect("open the community to posts")
    }

    /// Creates a community titled "The NAME" through the API, coordinated by the account with
    /// `token`, and applies `settings` (`PUT .../settings`). Returns the community's JSON.
    pub async fn community_with(&self, token: &str, name: &str, settings: Value) -> Value {
        use reqwest::Method;
        let (s, c) = self
            .api(
                Method::POST,
                "/api/v1/communities",
                Some(token),
                Some(serde_json::json!({ "name": name, "title": format!("The {name}") })),
            )
            .await;
        assert_eq!(s, 201, "{c}");
        let (s, body) = self
            .api(
                Method::PUT,
                &format!("/api/v1/communities/{name}/settings"),
                Some(token),
                Some(settings),
            )
            .await;
        assert_eq!(s, 200, "{body}");
        c
    }

    /// Has a fake actor (served under `label`) follow a community here, and waits for the
    /// community's `Accept`.
    pub async fn follow_as(
        &self,
        fake: &fake::FakeServer,
        who: &fake::FakeActor,
        label: &str,
        group: &Url,
    ) {
        let name = who
            .id
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        // One follow id per actor and group, so one actor can follow several groups.
        let group_name = group.path().rsplit('/').next().unwrap_or_default();
        let follow = serde_json::json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/follows/{name}/{group_name}", fake.base(label)),
            "type": "Follow", "actor": who.id, "object": group
        });
        let inbox = Url::parse(&format!("{group}/inbox")).expect("inbox url");
        assert_eq!(who.deliver(&self.client, &inbox, &follow).await, 202);
        wait_for("the Accept", Duration::from_secs(20), || async {
            fake.posted(label)
                .iter()
                .any(|v| v["type"] == "Accept" && v["object"]["actor"] == who.id.as_str())
        })
        .await;
    }

    /// Calls the REST API and returns status and JSON body.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("api request");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Follows (asks to join) a community as the account with `token`: `POST /api/v1/follows`.
    pub async fn follow(&self, token: &str, community: impl std::fmt::Display) -> (u16, Value) {
        let body = serde_json::json!({ "community": community.to_string() });
        self.api(
            reqwest::Method::POST,
            "/api/v1/follows",
            Some(token),
            Some(body),
        )
        .await
    }

    /// Activities of one type this instance received, as JSON.
    pub async fn received(&self, kind: &str) -> Vec<Value> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        copse_entities::received_activity::Entity::find()
            .filter(copse_entities::received_activity::Column::Kind.eq(kind))
            .all(self.db())
            .await
            .expect("received activities")
            .into_iter()
            .filter_map(|r| serde_json::from_str(&r.data).ok())
            .collect()
    }

    /// Waits until the inbox worker has handled everything received.
    pub async fn settled(&self) {
        use copse_entities::received_activity::{Column, Entity, InboxStatus};
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        wait_for("the inbox to settle", Duration::from_secs(20), || async {
            Entity::find()
                .filter(Column::Status.eq(InboxStatus::Pending))
                .count(self.db())
                .await
                .expect("count")
                == 0
        })
        .await;
    }

    /// Has the local account with `token` follow a fake group, and the group accept.
    pub async fn follow_fake_group(
        &self,
        token: &str,
        fake: &fake::FakeServer,
        g: &fake::FakeActor,
    ) {
        let host = g.id.host_str().unwrap_or_default().to_string();
        let name =
            g.id.path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
        let (s, body) = self
            .follow(token, format!("{name}@{host}:{}", fake.port))
            .await;
        assert!(s == 202 || s == 200, "{s} {body}");
        let label = host.split('.').next().unwrap_or_default().to_string();
        let follow = || {
            fake.posted(&label)
                .into_iter()
                .find(|v| v["type"] == "Follow")
        };
        wait_for(
            "the Follow at the group",
            Duration::from_secs(20),
            || async { follow().is_some() },
        )
        .await;
        let accept = serde_json::json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/accepts/1", g.id), "type": "Accept", "actor": g.id,
            "object": follow().expect("the Follow")
        });
        assert_eq!(
            g.deliver(&self.client, &self.url("/inbox"), &accept).await,
            202
        );
        self.settled().await;
    }

    /// GETs an ActivityPub document.
    pub async fn get_ap(&self, url: &Url) -> (u16, Value) {
        let res = self
            .client
            .get(url.as_str())
            .header("Accept", "application/activity+json")
            .send()
            .await
            .expect("get");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

/// Waits until `check` returns true, polling; panics with `what` after `deadline`.
pub async fn wait_for<F, Fut>(what: &str, deadline: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + deadline;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > end {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Path of a shared fixture, or `None` (with a printed notice) where `../shared` is absent.
pub fn fixture(path: &str) -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures")
        .join(path);
    if p.exists() {
        Some(p)
    } else {
        println!("skipped: fixture {} is absent", p.display());
        None
    }
}
