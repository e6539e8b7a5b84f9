//! With the default settings (but for a free port and a temporary database), every link on
//! Copse's pages works in a browser on the machine that runs it: `copse serve` is started as an
//! operator would, and the links of its pages are followed from the home page.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{BTreeSet, VecDeque},
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use url::Url;

/// Ends the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn copse(env: &[(&str, &str)], args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_copse"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run copse");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every `href` and `src` of a page, resolved against its URL.
fn links(page: &Url, html: &str) -> Vec<Url> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            let Some(end) = rest.find('"') else { continue };
            let raw = rest[..end].replace("&amp;", "&");
            // Calendar applications fetch a webcal:// address over http(s).
            let raw = raw.replacen("webcal://", "http://", 1);
            if let Ok(u) = page.join(&raw) {
                out.push(u);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_link_on_the_pages_answers_with_the_default_settings() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("copse.db").display()
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let bind = format!("127.0.0.1:{port}");
    let env = [
        ("COPSE__DATABASE__URL", url.as_str()),
        ("COPSE__BIND", bind.as_str()),
        ("COPSE__LOG", "warn"),
    ];
    copse(&env, &["migrate"]);
    let token = copse(&env, &["user", "create", "ana"])
        .lines()
        .last()
        .unwrap()
        .to_string();
    let created = copse(
        &env,
        &[
            "community",
            "create",
            "net",
            "--title",
            "London Networks",
            "--owner",
            "ana",
        ],
    );
    // The ids say where the server is.
    assert!(
        created.contains(&format!("http://localhost:{port}/c/net")),
        "{created}"
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_copse"))
        .arg("serve")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let line = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout).lines().next().unwrap().unwrap()
    })
    .await
    .unwrap();
    let base = Url::parse(&format!("http://localhost:{port}/")).unwrap();
    assert!(line.contains(&format!("serving {base}")), "{line}");

    let client = reqwest::Client::new();
    let api = |path: &str, body: serde_json::Value| {
        client
            .post(base.join(path).unwrap())
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let res = api(
        "/api/v1/communities/net/posts",
        serde_json::json!({"title": "Mapping our networks", "content": "We met on **Tuesday**."}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    let topic: serde_json::Value = res.json().await.unwrap();
    let reply = format!("/api/v1/posts/{}/replies", topic["local_id"]);
    let res = api(&reply, serde_json::json!({"content": "Notes follow."}))
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = api(
        "/api/v1/communities/net/events",
        serde_json::json!({"title": "Mapping workshop", "start": "2090-06-15T18:00",
                           "end": "2090-06-15T20:00", "timezone": "Europe/London",
                           "online_url": "http://localhost/elsewhere"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());

    // From the home page, every link on this server's pages, as a browser asks for them.
    let mut queue = VecDeque::from([base.clone()]);
    let mut seen = BTreeSet::from([base.clone()]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut pages = 0;
    while let Some(page) = queue.pop_front() {
        assert!(Instant::now() < deadline, "crawl took too long");
        let res = client
            .get(page.clone())
            .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{page}");
        let is_html = res
            .headers()
            .get("content-type")
            .is_some_and(|c| c.to_str().unwrap_or_default().starts_with("text/html"));
        let body = res.text().await.unwrap();
        if !is_html {
            continue;
        }
        pages += 1;
        for link in links(&page, &body) {
            // The event's own online link points elsewhere on purpose.
            if link.path() == "/elsewhere" {
                continue;
            }
            assert_eq!(link.origin(), base.origin(), "{link} on {page}");
            let mut plain = link.clone();
            plain.set_fragment(None);
            if seen.insert(plain.clone()) && seen.len() < 100 {
                queue.push_back(plain);
            }
        }
    }
    // Home, the community, its rules, the topic, the event, the person.
    assert!(pages >= 6, "only {pages} pages: {seen:?}");
    for path in ["/c/net", "/c/net/rules", "/u/ana", "/c/net/events.ics"] {
        assert!(seen.contains(&base.join(path).unwrap()), "{path}: {seen:?}");
    }
}
