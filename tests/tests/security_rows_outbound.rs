//! The rows of SECURITY.md's checklist that were only partly covered, on the sending side:
//! where Copse connects (never to a refused address), how long a slow peer may hold it, what a
//! status means for a retry, and how many requests a fan-out makes. Inbox-side rows are in
//! `security_rows.rs`.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::delivery::{self, DeliveryStatus};
use copse_federation::{
    fetch::fetch_json, http::deliver::DeliveryClient, queue, FederationContext, FederationSettings,
};
use copse_tests::{
    bench::{
        fanout::{seed_followers, seed_followers_at},
        sink::Sink,
    },
    fake::FakeServer,
    raw::RawConn,
    wait_for, TestInstance,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

const T: Duration = Duration::from_secs(20);

/// A listener that counts the connections it accepts, on `addr` (port 0 for any).
async fn counting_listener(addr: &str) -> Option<(u16, Arc<AtomicUsize>)> {
    let listener = tokio::net::TcpListener::bind(addr).await.ok()?;
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    Some((port, accepted))
}

/// Runs the delivery worker by hand until nothing is due.
async fn deliver_all(ctx: &FederationContext) {
    for _ in 0..20 {
        if queue::delivery::work_once(ctx).await.unwrap() == 0 {
            return;
        }
    }
    panic!("deliveries kept coming");
}

/// An Announce by the local community `net`, queued to `inboxes`.
async fn enqueue_to(a: &TestInstance, inboxes: impl IntoIterator<Item = Url>) {
    let ctx: &FederationContext = &a.instance().config;
    let activity = copse_federation::protocol::WithContext::new(json!({
        "id": ctx.urls.new_activity("Announce"), "type": "Announce",
        "actor": ctx.urls.community("net"), "object": "http://example.localhost/x"
    }));
    queue::enqueue(a.db(), &ctx.urls, &activity, None, true, inboxes)
        .await
        .unwrap();
}

/// Loopback written every way a URL can name it, and the NAT64 and IPv4-compatible forms.
fn loopback_hosts() -> [&'static str; 10] {
    [
        "127.0.0.1",
        "[::1]",
        "0.0.0.0",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[64:ff9b::7f00:1]",
        "[::127.0.0.1]",
        "2130706433",
        "0x7f.0.0.1",
    ]
}

/// SECURITY.md T28: in production, an inbox, object or actor id at loopback in any of its
/// spellings (IPv4, IPv6, unspecified, IPv4-mapped, NAT64, IPv4-compatible, decimal, hex) is
/// refused before any connection: the delivery client, the delivery worker, the fetcher and
/// the handle lookup all refuse, permanently, and a listener on those addresses sees nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_in_every_spelling_is_refused_before_connecting() {
    // One dual-stack listener takes 127.0.0.1, ::1 and ::ffff:127.0.0.1 on one port; without
    // IPv6 on the machine, an IPv4 one.
    let (port, accepted) = match counting_listener("[::]:0").await {
        Some(l) => l,
        None => counting_listener("127.0.0.1:0").await.unwrap(),
    };
    // For URLs without a port, 443, where the machine lets us listen on it.
    let default_port = counting_listener("[::]:443").await.map(|(_, n)| n);
    if default_port.is_none() {
        println!("notice: cannot listen on port 443; the refusals are still checked");
    }
    let production = FederationSettings::new("copse.example", false);
    let client = DeliveryClient::new(&production).unwrap();
    for host in loopback_hosts() {
        let inbox = Url::parse(&format!("http://{host}:{port}/inbox")).unwrap();
        let refused = client.post(&inbox, &[], b"{}").await.unwrap_err();
        assert!(refused.is_permanent(), "{inbox}: {refused}");
    }

    // The delivery worker of an instance in production mode gives them up unsent.
    let mut a = TestInstance::spawn_with("alpha", |s| {
        s.federation.debug = false;
        s.federation.delivery_workers = 0;
        s.federation.inbox_workers = 0;
    })
    .await;
    let our_port: u16 = a.domain.rsplit(':').next().unwrap().parse().unwrap();
    let our_host = a.domain.split(':').next().unwrap().to_string();
    a.client = reqwest::Client::builder()
        .resolve(
            &our_host,
            std::net::SocketAddr::from(([127, 0, 0, 1], our_port)),
        )
        .build()
        .unwrap();
    a.create_community("net", "London Networks").await;
    // Several spellings parse to one URL (2130706433 is 127.0.0.1): one delivery each.
    let inboxes: BTreeSet<Url> = loopback_hosts()
        .iter()
        .flat_map(|h| {
            [
                format!("https://{h}/inbox"),
                format!("http://{h}:{port}/inbox"),
            ]
        })
        .map(|u| Url::parse(&u).unwrap())
        .collect();
    enqueue_to(&a, inboxes.clone()).await;
    deliver_all(&a.instance().config).await;
    let rows = delivery::Entity::find().all(a.db()).await.unwrap();
    assert_eq!(rows.len(), inboxes.len(), "{rows:?}");
    for d in &rows {
        assert_eq!(d.status, DeliveryStatus::Failed, "{d:?}");
        assert_eq!(d.attempts, 1, "{d:?}");
    }

    // Fetches of ids there, with and without a port.
    let data = a.data();
    for url in &inboxes {
        let got = fetch_json(&data, url).await;
        assert!(
            matches!(got, Err(copse_federation::Error::Url(_))),
            "{url}: {got:?}"
        );
        let got = copse_federation::fetch::resolve_actor(&data, url).await;
        assert!(got.is_err(), "{url}");
    }
    // Handles there: a 422 naming the field.
    let token = a.create_user("ana").await;
    for host in loopback_hosts() {
        for handle in [format!("net@{host}"), format!("net@{host}:{port}")] {
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
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "something connected");
    if let Some(n) = default_port {
        assert_eq!(n.load(Ordering::SeqCst), 0, "something connected on 443");
    }
}

/// What a trickling server sends slowly.
#[derive(Clone, Copy)]
enum Trickle {
    /// The status line and headers, one byte at a time, never ending.
    Head,
    /// A whole head announcing a large ActivityPub body, then the body one byte at a time.
    Body,
}

/// A loopback server that reads each request and answers one byte every 100 ms until the
/// client hangs up. Returns its port and the number of connections still open.
async fn trickler(what: Trickle) -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let open = Arc::new(AtomicUsize::new(0));
    let count = open.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let count = count.clone();
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\nContent-Length: 100000\r\n\r\n";
                let (first, then): (&[u8], &[u8]) = match what {
                    Trickle::Head => (b"", b"HTTP/1.1 200 OK\r\nX-Slow: "),
                    Trickle::Body => (head, b"{\"id\": \""),
                };
                let sent = async {
                    tcp.write_all(first).await?;
                    for byte in then.iter().chain(std::iter::repeat(&b'a')) {
                        tcp.write_all(std::slice::from_ref(byte)).await?;
                        tcp.flush().await?;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Ok::<(), std::io::Error>(())
                };
                let _ = sent.await;
                count.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (port, open)
}

/// SECURITY.md T31: a peer that accepts and then trickles its answer (head or body) holds a
/// fetch or a delivery no longer than the request timeout, which is at most 10 s by default;
/// while one trickles, the delivery worker serves the other inboxes; and our own listener
/// drops a client that trickles its request head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_peer_holds_a_request_only_for_the_timeout() {
    let defaults = copse_server::settings::Settings::default();
    assert!(defaults.federation.request_timeout_seconds <= 10);
    let a = TestInstance::spawn_with("alpha", |s| {
        s.http.header_read_timeout_seconds = 1;
    })
    .await;
    let limit = a.settings.federation_settings().request_timeout;
    let client = DeliveryClient::new(&a.settings.federation_settings()).unwrap();
    let data = a.data();
    for what in [Trickle::Head, Trickle::Body] {
        let (port, open) = trickler(what).await;
        let url = Url::parse(&format!("http://slow.localhost:{port}/users/x")).unwrap();
        let started = Instant::now();
        assert!(fetch_json(&data, &url).await.is_err());
        let took = started.elapsed();
        assert!(
            took <= limit + Duration::from_secs(2),
            "fetch took {took:?}"
        );
        let started = Instant::now();
        let delivered = client.post(&url, &[], b"{}").await;
        let took = started.elapsed();
        assert!(
            took <= limit + Duration::from_secs(2),
            "delivery took {took:?}"
        );
        if matches!(what, Trickle::Head) {
            assert!(delivered.is_err());
        }
        // Both connections were given up, not left open.
        wait_for("our side to hang up", T, || async {
            open.load(Ordering::SeqCst) == 0
        })
        .await;
    }

    // Our listener: a request head arriving a byte every 100 ms is cut off.
    let mut conn = RawConn::connect(a.instance().addr, None).await;
    let started = Instant::now();
    let head = b"GET / HTTP/1.1\r\nHost: alpha\r\nX-Slow: ";
    let mut cut = false;
    for byte in head.iter().chain(std::iter::repeat(&b'a')).take(200) {
        if conn.send(std::slice::from_ref(byte)).await.is_err() {
            cut = true;
            break;
        }
        if conn.closed(Duration::from_millis(100)).await {
            cut = true;
            break;
        }
    }
    assert!(cut, "a trickled request head was read for 20 s");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(a.client.get(a.url("/")).send().await.unwrap().status(), 200);
}

/// SECURITY.md T31: with a request timeout far beyond the test's wait, the fan-out to live
/// hosts completes while a trickling host is still holding its request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_host_does_not_hold_the_others_deliveries() {
    let a = TestInstance::spawn_with("alpha", |s| {
        s.federation.request_timeout_seconds = 60;
        s.federation.lease_seconds = 120;
    })
    .await;
    let community = a.create_community("net", "London Networks").await;
    let token = a.create_user("ada").await;
    let sink = Sink::start().await;
    let (port, open) = trickler(Trickle::Head).await;
    seed_followers(a.db(), &community, sink.port, 2, 2, true, "live").await;
    seed_followers(a.db(), &community, port, 1, 1, true, "slow").await;
    let (status, body) = a
        .api(
            reqwest::Method::POST,
            "/api/v1/communities/net/posts",
            Some(&token),
            Some(json!({ "title": "Meetup", "content": "Thursday" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    wait_for("both activities at both live hosts", T, || async {
        sink.distinct() == 4
    })
    .await;
    assert!(
        open.load(Ordering::SeqCst) >= 1,
        "the live hosts were served only after the trickling host was given up"
    );
}

/// Statuses by host: `sCODE` answers CODE, `sCODEr` adds `Retry-After: 120`, `sCODEd` adds a
/// `Retry-After` date two minutes ahead. Counts requests by host label.
async fn status_server() -> (u16, Arc<Mutex<BTreeMap<String, usize>>>) {
    use axum::http::{HeaderMap, StatusCode};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let counts: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let seen = counts.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let seen = seen.clone();
        async move {
            let host = headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            let label = host.split('.').next().unwrap_or_default().to_string();
            *seen.lock().unwrap().entry(label.clone()).or_default() += 1;
            let code: u16 = label
                .trim_start_matches('s')
                .trim_end_matches(['r', 'd'])
                .parse()
                .unwrap_or(500);
            let status = StatusCode::from_u16(code).unwrap();
            let mut out = HeaderMap::new();
            if label.ends_with('r') {
                out.insert("retry-after", "120".parse().unwrap());
            }
            if label.ends_with('d') {
                let at = chrono::Utc::now() + chrono::Duration::seconds(120);
                let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
                out.insert("retry-after", date.parse().unwrap());
            }
            (status, out)
        }
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, counts)
}

/// SECURITY.md T33: 400, 403, 404 and 410 are final (one attempt, the delivery given up);
/// 401, 408, 429 and 5xx are tried again; a `Retry-After`, in seconds or as a date, puts the
/// next attempt no sooner than it asks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_statuses_decide_retries_and_retry_after_is_honoured() {
    let a = TestInstance::spawn("alpha").await;
    a.create_community("net", "London Networks").await;
    let (port, counts) = status_server().await;
    let finals = ["s400", "s403", "s404", "s410"];
    let retried = ["s401", "s408", "s429", "s500", "s502", "s503"];
    let asked_to_wait = ["s429r", "s503r", "s429d"];
    let labels: Vec<&str> = finals
        .iter()
        .chain(&retried)
        .chain(&asked_to_wait)
        .copied()
        .collect();
    let started = chrono::Utc::now();
    enqueue_to(
        &a,
        labels
            .iter()
            .map(|l| Url::parse(&format!("http://{l}.localhost:{port}/inbox")).unwrap()),
    )
    .await;
    let count = |label: &str| counts.lock().unwrap().get(label).copied().unwrap_or(0);
    wait_for("a second attempt at every retried host", T, || async {
        retried.iter().all(|l| count(l) >= 2)
    })
    .await;
    let rows: HashMap<String, delivery::Model> = delivery::Entity::find()
        .filter(delivery::Column::Domain.contains("localhost"))
        .all(a.db())
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.domain.split('.').next().unwrap().to_string(), d))
        .collect();
    for l in finals {
        assert_eq!(count(l), 1, "{l} was tried again");
        let d = &rows[l];
        assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 1), "{l}");
    }
    for l in asked_to_wait {
        assert_eq!(count(l), 1, "{l} was tried before its Retry-After");
        let d = &rows[l];
        assert_eq!(d.status, DeliveryStatus::Pending, "{l}");
        let wait = d.next_attempt_at - started;
        assert!(wait >= chrono::Duration::seconds(110), "{l}: {wait}");
        assert!(wait <= chrono::Duration::seconds(130), "{l}: {wait}");
    }
}

/// SECURITY.md T20: five thousand followers on one server (and twenty who followed through
/// the inbox) are sent a new topic once per activity at that server's shared inbox; followers
/// elsewhere are sent it once per shared inbox, or per inbox where they have none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_flood_is_delivered_once_per_shared_inbox() {
    let a = TestInstance::spawn("alpha").await;
    let community = a.create_community("net", "London Networks").await;
    let token = a.create_user("ada").await;
    let fake = FakeServer::start().await;
    let (public, private) = copse_federation::signatures::generate_keypair().unwrap();
    for i in 0..20 {
        let who = fake.actor_with_key("evil", &format!("f{i}"), &public, &private);
        a.follow_as(&fake, &who, "evil", &community.ap_id.0).await;
    }
    seed_followers_at(a.db(), &community, 5_000, 1, true, "e", |_| {
        fake.base("evil")
    })
    .await;
    seed_followers_at(a.db(), &community, 30, 3, true, "m", |i| {
        fake.base(&format!("m{i}"))
    })
    .await;
    seed_followers_at(a.db(), &community, 4, 2, false, "p", |i| {
        fake.base(&format!("p{i}"))
    })
    .await;
    let want: BTreeSet<String> = [format!("{}/inbox", fake.base("evil"))]
        .into_iter()
        .chain((0..3).map(|i| format!("{}/inbox", fake.base(&format!("m{i}")))))
        .chain((0..4).map(|i| format!("{}/users/u{i}/inbox", fake.base(&format!("p{}", i % 2)))))
        .collect();
    a.settled().await;
    wait_for("the Accepts sent", T, || async {
        a.queued_deliveries().await == 0
    })
    .await;
    let before = fake.requests().len();

    let (status, body) = a
        .api(
            reqwest::Method::POST,
            "/api/v1/communities/net/posts",
            Some(&token),
            Some(json!({ "title": "Meetup", "content": "Thursday" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let sent = || {
        let mut by_activity: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in fake.requests().into_iter().skip(before) {
            if r.method != "POST" {
                continue;
            }
            let v: Value = serde_json::from_slice(&r.body).unwrap();
            let id = v["id"].as_str().unwrap().to_string();
            by_activity
                .entry(id)
                .or_default()
                .push(format!("http://{}{}", r.host, r.path));
        }
        by_activity
    };
    wait_for("the topic at every inbox", T, || async {
        let got: BTreeSet<String> = sent().into_values().flatten().collect();
        got == want
    })
    .await;
    wait_for("the outbox to empty", T, || async {
        a.queued_deliveries().await == 0
    })
    .await;
    let sent = sent();
    assert!(!sent.is_empty());
    for (id, inboxes) in &sent {
        let distinct: BTreeSet<&String> = inboxes.iter().collect();
        assert_eq!(
            distinct.len(),
            inboxes.len(),
            "{id} sent twice to one inbox"
        );
        assert!(
            distinct.iter().all(|i| want.contains(*i)),
            "{id}: {inboxes:?}"
        );
    }
    let to_evil: usize = sent
        .values()
        .map(|inboxes| inboxes.iter().filter(|i| i.contains("evil")).count())
        .sum();
    assert!(
        to_evil <= sent.len(),
        "{to_evil} requests to evil for {} activities",
        sent.len()
    );
}
