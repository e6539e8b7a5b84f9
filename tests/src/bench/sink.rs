//! A receiving end for deliveries on loopback: counts what arrives, per inbox and activity,
//! and can verify signatures.

use axum::{
    body::Bytes, extract::State, http::HeaderMap, http::Method, http::Uri, response::IntoResponse,
    Router,
};
use copse_federation::signatures::{self, PublicKey, RequestParts};
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Instant,
};

#[derive(Default)]
struct Inner {
    seen: HashSet<(String, String)>,
    arrivals: Vec<Instant>,
    arrivals_by_id: Vec<(String, Instant)>,
    duplicates: u64,
    bad_signatures: u64,
    connections: usize,
    down: bool,
}

/// A counting sink on one loopback port, answering for any `*.localhost` name.
#[derive(Clone)]
pub struct Sink {
    /// Its port.
    pub port: u16,
    inner: Arc<Mutex<Inner>>,
    verify_with: Arc<Mutex<Option<PublicKey>>>,
    server: Arc<Mutex<Option<tokio::task::AbortHandle>>>,
}

#[derive(serde::Deserialize)]
struct IdOnly {
    id: String,
}

async fn receive(
    State(sink): State<Sink>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    if sink.inner.lock().expect("lock").down {
        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let key = sink.verify_with.lock().expect("lock").clone();
    let mut bad = false;
    if let Some(key) = key {
        let req = RequestParts {
            method: method.as_str(),
            path_and_query: uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"),
            headers: &headers,
            body: Some(&body),
        };
        bad = signatures::precheck(&req, chrono::Utc::now())
            .and_then(|sig| signatures::verify(&sig, &req, &key))
            .is_err();
    }
    let id = serde_json::from_slice::<IdOnly>(&body)
        .map(|v| v.id)
        .unwrap_or_default();
    let mut g = sink.inner.lock().expect("lock");
    if bad {
        g.bad_signatures += 1;
        return axum::http::StatusCode::UNAUTHORIZED;
    }
    let path = uri.path().to_string();
    if g.seen.insert((format!("{host}{path}"), id.clone())) {
        let now = Instant::now();
        g.arrivals.push(now);
        g.arrivals_by_id.push((id, now));
    } else {
        g.duplicates += 1;
    }
    axum::http::StatusCode::ACCEPTED
}

impl Sink {
    /// Starts a sink on a free loopback port.
    pub async fn start() -> Self {
        let listener =
            copse_server::listen(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let sink = Self {
            port,
            inner: Arc::default(),
            verify_with: Arc::default(),
            server: Arc::default(),
        };
        let app = Router::new().fallback(receive).with_state(sink.clone());
        let counted = sink.inner.clone();
        let listener = axum::serve::ListenerExt::tap_io(listener, move |_| {
            counted.lock().expect("lock").connections += 1;
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        *sink.server.lock().expect("lock") = Some(server.abort_handle());
        sink
    }

    /// Stops accepting connections and frees the port.
    pub fn stop(&self) {
        if let Some(server) = self.server.lock().expect("lock").take() {
            server.abort();
        }
    }

    /// Verifies every delivery with this key from now on.
    pub fn verify_with(&self, key: Option<PublicKey>) {
        *self.verify_with.lock().expect("lock") = key;
    }

    /// Answers 503 to everything while down.
    pub fn set_down(&self, down: bool) {
        self.inner.lock().expect("lock").down = down;
    }

    /// Distinct (inbox, activity) pairs received.
    pub fn distinct(&self) -> usize {
        self.inner.lock().expect("lock").seen.len()
    }

    /// Deliveries received more than once.
    pub fn duplicates(&self) -> u64 {
        self.inner.lock().expect("lock").duplicates
    }

    /// Deliveries whose signature failed.
    pub fn bad_signatures(&self) -> u64 {
        self.inner.lock().expect("lock").bad_signatures
    }

    /// Connections accepted.
    pub fn connections(&self) -> usize {
        self.inner.lock().expect("lock").connections
    }

    /// Arrival times of distinct deliveries.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.inner.lock().expect("lock").arrivals.clone()
    }

    /// Arrival times of distinct deliveries, with their activity ids.
    pub fn arrivals_by_id(&self) -> Vec<(String, Instant)> {
        self.inner.lock().expect("lock").arrivals_by_id.clone()
    }

    /// Forgets everything received.
    pub fn clear(&self) {
        let mut g = self.inner.lock().expect("lock");
        g.seen.clear();
        g.arrivals.clear();
        g.arrivals_by_id.clear();
        g.duplicates = 0;
        g.bad_signatures = 0;
        g.connections = 0;
    }

    /// Waits until `n` distinct deliveries arrived; false on timeout.
    pub async fn wait_for(&self, n: usize, timeout: std::time::Duration) -> bool {
        let end = Instant::now() + timeout;
        while self.distinct() < n {
            if Instant::now() > end {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        true
    }
}
