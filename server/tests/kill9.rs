//! A `copse serve` process killed with SIGKILL in the middle of a fan-out delivers every
//! remaining activity after it is restarted. Runs the real binary against a counting sink.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::{body::Bytes, extract::State, http::HeaderMap, response::IntoResponse, Router};
use chrono::Utc;
use copse_entities::{community, community_follower, person, DbUrl};
use sea_orm::{ActiveValue::NotSet, ColumnTrait, Database, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use std::{
    collections::HashSet,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

const FOLLOWERS: usize = 150;
type Seen = Arc<Mutex<Vec<(String, String)>>>;

async fn sink(State(seen): State<Seen>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    // Slow enough that the fan-out is still running when the process is killed.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_string))
        .unwrap_or_default();
    seen.lock().unwrap().push((host, id));
    axum::http::StatusCode::ACCEPTED
}

fn copse(config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_copse"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run copse")
}

fn serve(config: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_copse"))
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn copse serve")
}

fn distinct(seen: &Seen) -> HashSet<(String, String)> {
    seen.lock().unwrap().iter().cloned().collect()
}

async fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            std::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_fan_out_loses_no_delivery() {
    let seen: Seen = Arc::default();
    let sink_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_port = sink_listener.local_addr().unwrap().port();
    let app = Router::new().fallback(sink).with_state(seen.clone());
    tokio::spawn(async move { axum::serve(sink_listener, app).await });

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let db_url = match std::env::var("COPSE_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(base) => {
            let schema = format!("k_{}", std::process::id());
            let admin = Database::connect(&base).await.unwrap();
            use sea_orm::ConnectionTrait;
            admin
                .execute_unprepared(&format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
                ))
                .await
                .unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{schema}")
        }
        None => {
            println!("notice: COPSE_TEST_DATABASE_URL is not set: this run uses SQLite only");
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("copse.db").display()
            )
        }
    };
    let config = dir.path().join("copse.toml");
    std::fs::write(
        &config,
        format!(
            "domain = \"alpha.localhost:{port}\"\nbind = \"127.0.0.1:{port}\"\nlog = \"warn\"\n\
             [database]\nurl = \"{db_url}\"\n\
             [federation]\ndebug = true\ndelivery_workers = 1\ndelivery_concurrency = 4\nclaim_batch = 8\n\
             lease_seconds = 2\nrequest_timeout_seconds = 1\nretry_initial_ms = 200\npoll_interval_ms = 100\n"
        ),
    )
    .unwrap();

    assert!(copse(&config, &["migrate"]).status.success());
    let out = copse(&config, &["user", "create", "ana"]);
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();
    // Ana coordinates the community, so she may post in it.
    let out = copse(
        &config,
        &[
            "community",
            "create",
            "net",
            "--title",
            "Networks",
            "--owner",
            "ana",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Followers on many instances, each with its own inbox on the sink.
    let db = Database::connect(&db_url).await.unwrap();
    let net = community::Entity::find()
        .filter(community::Column::Name.eq("net"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    for i in 0..FOLLOWERS {
        let base = format!("http://s{i}.localhost:{sink_port}");
        let id: url::Url = format!("{base}/users/u").parse().unwrap();
        let p = person::Entity::insert(person::ActiveModel {
            id: NotSet,
            ap_id: Set(DbUrl(id.clone())),
            name: Set("u".into()),
            display_name: Set(None),
            summary: Set(None),
            inbox: Set(DbUrl(format!("{base}/inbox").parse().unwrap())),
            shared_inbox: Set(None),
            key_id: Set(DbUrl(format!("{id}#main-key").parse().unwrap())),
            public_key_pem: Set(String::new()),
            private_key_pem: Set(None),
            local: Set(false),
            published: Set(Utc::now()),
            fetched_at: Set(Utc::now()),
            ..Default::default()
        })
        .exec_with_returning(&db)
        .await
        .unwrap();
        community_follower::Entity::insert(community_follower::ActiveModel {
            id: NotSet,
            community_id: Set(net.id),
            person_id: Set(p.id),
            follow_id: Set(DbUrl(format!("{base}/follow").parse().unwrap())),
            pending: Set(false),
            published: Set(Utc::now()),
            ..Default::default()
        })
        .exec(&db)
        .await
        .unwrap();
    }
    drop(db);

    let mut child = serve(&config);
    let client = reqwest::Client::new();
    let api = format!("http://127.0.0.1:{port}/api/v1/communities/net/posts");
    let mut posted = false;
    for _ in 0..200 {
        if let Ok(r) = client
            .post(&api)
            .bearer_auth(&token)
            .json(&serde_json::json!({ "title": "Fan-out", "content": "to everyone" }))
            .send()
            .await
        {
            assert_eq!(r.status(), 201);
            posted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(posted, "server did not come up");

    // Two Announce forms to every follower's inbox.
    let expected = FOLLOWERS * 2;
    wait_until("the fan-out to start", 60, || distinct(&seen).len() >= 20).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = distinct(&seen).len();
    assert!(
        at_kill < expected,
        "the fan-out finished before the kill ({at_kill}); make the sink slower"
    );

    let mut child = serve(&config);
    wait_until("every delivery after the restart", 120, || {
        distinct(&seen).len() >= expected
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let got = distinct(&seen);
    assert_eq!(got.len(), expected);
    let hosts: HashSet<&String> = got.iter().map(|(h, _)| h).collect();
    assert_eq!(hosts.len(), FOLLOWERS);
    let ids: HashSet<&String> = got.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 2, "the same two activities, ids reused on retry");
    // At least once: duplicates only for the few in flight when the process died.
    let total = seen.lock().unwrap().len();
    assert!(
        total - expected <= 16,
        "{total} requests for {expected} deliveries"
    );
}
