//! A new topic goes to each inbox in both Announce forms, the FEP-1b12 `Announce{Create{Note}}`
//! first and the bare `Announce{Note}` after it, from one delivery batch over one connection;
//! the bare form of an inbox whose first form failed waits for that one's retry.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::{
    body::Bytes,
    extract::{ConnectInfo, State},
    http::{HeaderMap, Method, StatusCode},
    Router,
};
use copse_entities::{delivery, delivery_batch, instance, post};
use copse_federation::{queue, FederationContext};
use copse_tests::{bench::fanout::seed_followers_at, wait_for, TestInstance};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{json, Value};
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::watch;

const T: Duration = Duration::from_secs(20);

/// Which Announce form a delivery was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `Announce{Create{Note}}`.
    Wrapped,
    /// `Announce{Note}`.
    Bare,
}
use Form::{Bare, Wrapped};

/// How a host answers.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// 503 to this many more POSTs, then 202.
    Fail(u32),
    /// Holds every POST until released.
    Hang,
}

/// One POST as it arrived.
#[derive(Debug, Clone)]
struct Arrival {
    host: String,
    form: Form,
    /// The object of the Announce (the Create or the Note).
    object: Value,
    /// The sending end of the connection it came on.
    peer: SocketAddr,
}

#[derive(Default)]
struct Inner {
    log: Vec<Arrival>,
    modes: HashMap<String, Mode>,
}

/// Hosts `NAME.localhost:PORT` on one port that record every Announce in the order it arrives,
/// with the connection it came on.
struct Peer {
    port: u16,
    inner: Arc<Mutex<Inner>>,
    release: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

type PeerState = (Arc<Mutex<Inner>>, watch::Receiver<bool>);

async fn handle(
    State((inner, mut released)): State<PeerState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if method != Method::POST {
        return StatusCode::NOT_FOUND;
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let host = host.split('.').next().unwrap_or_default().to_string();
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let object = v["object"].clone();
    let form = if object["type"] == "Create" {
        Wrapped
    } else {
        Bare
    };
    let mode = {
        let mut g = inner.lock().unwrap();
        g.log.push(Arrival {
            host: host.clone(),
            form,
            object,
            peer,
        });
        let mode = g.modes.get(&host).copied();
        if let Some(Mode::Fail(n)) = mode {
            let left = n.saturating_sub(1);
            if left == 0 {
                g.modes.remove(&host);
            } else {
                g.modes.insert(host.clone(), Mode::Fail(left));
            }
        }
        mode
    };
    match mode {
        Some(Mode::Fail(_)) => StatusCode::SERVICE_UNAVAILABLE,
        Some(Mode::Hang) => {
            let _ = released.wait_for(|r| *r).await;
            StatusCode::ACCEPTED
        }
        None => StatusCode::ACCEPTED,
    }
}

impl Peer {
    async fn start() -> Self {
        let listener = copse_server::listen(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let port = listener.local_addr().unwrap().port();
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let (release, released) = watch::channel(false);
        let app = Router::new()
            .fallback(handle)
            .with_state((inner.clone(), released));
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        Self {
            port,
            inner,
            release,
            task,
        }
    }

    fn base(&self, host: &str) -> String {
        format!("http://{host}.localhost:{}", self.port)
    }

    fn set(&self, host: &str, mode: Mode) {
        self.inner
            .lock()
            .unwrap()
            .modes
            .insert(host.to_string(), mode);
    }

    /// Answers every held and later POST.
    fn release(&self) {
        self.inner.lock().unwrap().modes.clear();
        self.release.send_replace(true);
    }

    fn arrivals(&self, host: &str) -> Vec<Arrival> {
        let g = self.inner.lock().unwrap();
        g.log.iter().filter(|a| a.host == host).cloned().collect()
    }

    fn forms(&self, host: &str) -> Vec<Form> {
        self.arrivals(host).into_iter().map(|a| a.form).collect()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An instance whose delivery worker is run by hand, with a community `net` followed from
/// hosts `h0`..`h{hosts}` of `peer` (one shared inbox each), and the token of a poster.
async fn set_up(
    peer: &Peer,
    hosts: usize,
    adjust: impl FnOnce(&mut copse_server::settings::Settings),
) -> (TestInstance, String) {
    let a = TestInstance::spawn_with("alpha", |s| {
        s.federation.delivery_workers = 0;
        adjust(s);
    })
    .await;
    let net = a.create_community("net", "London Networks").await;
    let token = a.create_user("ada").await;
    seed_followers_at(a.db(), &net, hosts, hosts, true, "h", |i| {
        peer.base(&format!("h{i}"))
    })
    .await;
    (a, token)
}

async fn post_topic(a: &TestInstance, token: &str, title: &str) {
    let (status, body) = a
        .api(
            reqwest::Method::POST,
            "/api/v1/communities/net/posts",
            Some(token),
            Some(json!({ "title": title, "content": "Thursday at six" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

fn ctx(a: &TestInstance) -> &FederationContext {
    &a.instance().config
}

/// Runs the delivery worker by hand until nothing is queued.
async fn deliver_all(a: &TestInstance) {
    wait_for("every delivery done", T, || async {
        queue::delivery::work_once(ctx(a)).await.unwrap();
        a.queued_deliveries().await == 0
    })
    .await;
}

async fn batches(a: &TestInstance) -> Vec<delivery_batch::Model> {
    delivery_batch::Entity::find()
        .order_by_asc(delivery_batch::Column::Id)
        .all(a.db())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_reaches_each_host_wrapped_then_bare_from_one_batch() {
    let peer = Peer::start().await;
    let (a, token) = set_up(&peer, 2, |_| {}).await;
    post_topic(&a, &token, "Meetup").await;

    let queued = batches(&a).await;
    assert_eq!(queued.len(), 1, "both forms share one batch: {queued:?}");
    let then: Vec<i64> =
        serde_json::from_str(queued[0].then_activities.as_deref().unwrap()).unwrap();
    assert_eq!(then.len(), 1);
    assert_eq!(a.queued_deliveries().await, 4);
    // Both forms are due now: one round sends all four.
    assert_eq!(queue::delivery::work_once(ctx(&a)).await.unwrap(), 4);
    for host in ["h0", "h1"] {
        let got = peer.arrivals(host);
        assert_eq!(
            got.iter().map(|a| a.form).collect::<Vec<_>>(),
            [Wrapped, Bare],
            "{host}"
        );
        assert_eq!(got[0].peer, got[1].peer, "{host}: one connection for both");
        assert_eq!(got[0].object["object"]["id"], got[1].object["id"]);
    }
    assert_eq!(a.queued_deliveries().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bare_form_waits_for_the_retry_of_the_first() {
    let peer = Peer::start().await;
    let (a, token) = set_up(&peer, 1, |_| {}).await;
    // Two failures of the first form: its backoff then runs ahead of the bare form's, which was
    // never tried, so without the order rule the bare form would be due first.
    peer.set("h0", Mode::Fail(2));
    post_topic(&a, &token, "Meetup").await;
    assert_eq!(queue::delivery::work_once(ctx(&a)).await.unwrap(), 2);
    let rows = delivery::Entity::find()
        .order_by_asc(delivery::Column::Id)
        .all(a.db())
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].after_activity_id, None);
    assert_eq!(rows[1].after_activity_id, Some(rows[0].activity_id));
    deliver_all(&a).await;
    assert_eq!(peer.forms("h0"), [Wrapped, Wrapped, Wrapped, Bare]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_reads_no_wrapped_announces_still_gets_the_bare_form() {
    let peer = Peer::start().await;
    let (a, token) = set_up(&peer, 2, |_| {}).await;
    instance::Entity::insert(instance::ActiveModel {
        id: NotSet,
        domain: Set(format!("h1.localhost:{}", peer.port)),
        blocked: Set(false),
        failure_count: Set(0),
        software: Set(Some("mastodon".into())),
        software_checked_at: Set(Some(chrono::Utc::now())),
        ..Default::default()
    })
    .exec(a.db())
    .await
    .unwrap();
    post_topic(&a, &token, "Meetup").await;
    let queued = batches(&a).await;
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert_eq!(a.queued_deliveries().await, 3);
    deliver_all(&a).await;
    assert_eq!(peer.forms("h0"), [Wrapped, Bare]);
    assert_eq!(peer.forms("h1"), [Bare]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_cut_off_halfway_resends_only_what_was_not_recorded() {
    let peer = Peer::start().await;
    // Outcomes recorded host by host; a request timeout far beyond the test.
    let (a, token) = set_up(&peer, 2, |s| {
        s.federation.claim_batch = 1;
        s.federation.request_timeout_seconds = 60;
    })
    .await;
    peer.set("h1", Mode::Hang);
    post_topic(&a, &token, "Meetup").await;
    let batch_id = batches(&a).await[0].id;

    // The worker stops (as in a crash) while h1 holds the first form, after h0 was recorded.
    let recorded_h0 = async {
        wait_for("h0 recorded, h1 in flight", T, || async {
            let b = batches(&a).await;
            b.len() == 1
                && serde_json::from_str::<Vec<Value>>(&b[0].targets)
                    .unwrap()
                    .len()
                    == 1
                && peer.forms("h1") == [Wrapped]
        })
        .await
    };
    tokio::select! {
        _ = queue::delivery::work_once(ctx(&a)) => panic!("h1 never answered"),
        _ = recorded_h0 => {}
    }
    let kept = batches(&a).await;
    assert_eq!(kept.len(), 1);
    let targets: Vec<(String, String)> = serde_json::from_str(&kept[0].targets).unwrap();
    assert!(targets[0].0.starts_with(&peer.base("h1")), "{targets:?}");
    assert!(kept[0].then_activities.is_some(), "the bare form stays");
    assert_eq!(delivery::Entity::find().count(a.db()).await.unwrap(), 0);
    assert_eq!(a.queued_deliveries().await, 2);

    // Its lease runs out; the batch is taken up again.
    peer.release();
    delivery_batch::Entity::update_many()
        .col_expr(
            delivery_batch::Column::LockedUntil,
            sea_orm::sea_query::Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(delivery_batch::Column::Id.eq(batch_id))
        .exec(a.db())
        .await
        .unwrap();
    deliver_all(&a).await;
    assert_eq!(peer.forms("h0"), [Wrapped, Bare], "h0 is not sent again");
    // The form in flight at the crash is sent again, once; the bare form comes after it.
    assert_eq!(peer.forms("h1"), [Wrapped, Wrapped, Bare]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_goes_out_in_the_wrapped_form_only() {
    let peer = Peer::start().await;
    let (a, token) = set_up(&peer, 1, |_| {}).await;
    post_topic(&a, &token, "Meetup").await;
    deliver_all(&a).await;
    let topic = post::Entity::find().one(a.db()).await.unwrap().unwrap();
    let (status, body) = a
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/posts/{}/replies", topic.id),
            Some(&token),
            Some(json!({ "content": "See you there" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let queued = batches(&a).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].then_activities, None);
    deliver_all(&a).await;
    let got = peer.arrivals("h0");
    assert_eq!(
        got.iter().map(|a| a.form).collect::<Vec<_>>(),
        [Wrapped, Bare, Wrapped]
    );
    assert!(
        got[2].object["object"]["inReplyTo"].is_string(),
        "{:?}",
        got[2]
    );
}
