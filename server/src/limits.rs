//! Request limits a hostile client meets before any handler work: a deadline for the request
//! body (a body trickled byte by byte gets 408) and a cap on inbox requests in progress from
//! one client address (429 with `Retry-After` beyond it).

use crate::settings::HttpSettings;
use axum::{
    body::{Body, Bytes, HttpBody},
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;
use std::{
    collections::HashMap,
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    task::{Context, Poll},
    time::Duration,
};

/// Seconds a client refused for too many inbox requests is asked to wait.
const RETRY_AFTER_SECONDS: u64 = 10;

/// The error a request body gives once its deadline has passed.
#[derive(Debug, thiserror::Error)]
#[error("the request body was not received in time")]
pub struct BodyDeadlinePassed;

/// A request body that fails with `BodyDeadlinePassed` when it is still arriving at `sleep`.
struct DeadlineBody {
    inner: Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        // What has arrived is handed on even after the deadline: only waiting is cut short.
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if this.sleep.as_mut().poll(cx).is_ready() {
            this.expired.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(axum::Error::new(BodyDeadlinePassed))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: the request body must have arrived within `deadline` of the headers. When a
/// handler was still waiting for it then, the answer is 408 and the connection is closed.
pub async fn body_deadline(State(deadline): State<Duration>, req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let expired = Arc::new(AtomicBool::new(false));
    let flag = expired.clone();
    let req = req.map(move |inner| {
        Body::new(DeadlineBody {
            inner,
            sleep: Box::pin(tokio::time::sleep(deadline)),
            expired: flag,
        })
    });
    let res = next.run(req).await;
    if !expired.load(Ordering::Acquire) {
        return res;
    }
    let mut res = (
        StatusCode::REQUEST_TIMEOUT,
        Json(json!({ "error": "the request body was not received in time", "field": null })),
    )
        .into_response();
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// Inbox requests in progress per client address.
#[derive(Clone)]
pub struct InboxSlots {
    per_client: usize,
    address_header: Option<HeaderName>,
    active: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One request's place among its address's inbox requests; given back when dropped.
struct Slot {
    ip: IpAddr,
    active: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = active.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                // Addresses with nothing in progress are forgotten, so the map stays small.
                active.remove(&self.ip);
            }
        }
    }
}

impl InboxSlots {
    /// Slots as the `[http]` settings give them.
    pub fn new(http: &HttpSettings) -> Self {
        let name = http.client_address_header.trim();
        Self {
            per_client: http.inbox_requests_per_client,
            address_header: (!name.is_empty())
                .then(|| HeaderName::from_bytes(name.as_bytes()).ok())
                .flatten(),
            active: Arc::default(),
        }
    }

    /// Takes a slot for `ip`, or `None` when it has all its slots in use.
    fn take(&self, ip: IpAddr) -> Option<Slot> {
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        let n = active.entry(ip).or_insert(0);
        if *n >= self.per_client {
            return None;
        }
        *n += 1;
        Some(Slot {
            ip,
            active: self.active.clone(),
        })
    }

    /// The client's address: from the configured header (its last entry, the one the nearest
    /// proxy added), else the connection's.
    fn client(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        match &self.address_header {
            Some(name) => headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|v| v.trim().parse::<IpAddr>().ok())
                .next_back()
                .or(peer.map(|p| p.ip())),
            None => peer.map(|p| p.ip()),
        }
    }
}

/// The client's address as the `[http]` settings say to read it, for handlers that limit per
/// address (sign-in); `None` for in-process requests that come with no connection.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddress(pub Option<IpAddr>);

/// Middleware that records the client's address in the request for handlers.
pub async fn client_address(
    State(slots): State<InboxSlots>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let ip = slots.client(req.headers(), peer);
    req.extensions_mut().insert(ClientAddress(ip));
    next.run(req).await
}

/// Middleware for the inbox routes: at most `inbox_requests_per_client` requests in progress
/// per client address; beyond that 429 with `Retry-After`.
pub async fn inbox_slots(State(slots): State<InboxSlots>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    // Requests that come with no connection (in-process calls) have no address to count.
    let Some(ip) = slots.client(req.headers(), peer) else {
        return next.run(req).await;
    };
    let Some(slot) = slots.take(ip) else {
        tracing::debug!("inbox: {ip} has {} requests in progress", slots.per_client);
        let mut res = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "error": "too many requests in progress from your address", "field": null })),
        )
            .into_response();
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        return res;
    };
    let res = next.run(req).await;
    drop(slot);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(per_client: usize, header: &str) -> InboxSlots {
        InboxSlots::new(&HttpSettings {
            inbox_requests_per_client: per_client,
            client_address_header: header.into(),
            ..HttpSettings::default()
        })
    }

    #[test]
    fn each_address_has_its_own_slots_and_gets_them_back() {
        let s = slots(2, "");
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let first = s.take(a).unwrap();
        let _second = s.take(a).unwrap();
        assert!(s.take(a).is_none());
        assert!(s.take(b).is_some(), "another address is not held back");
        drop(first);
        assert!(s.take(a).is_some());
    }

    #[test]
    fn the_proxy_header_names_the_client_by_its_last_entry() {
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 192.0.2.7"),
        );
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            slots(1, "x-forwarded-for").client(&h, Some(peer)),
            Some(ip("192.0.2.7"))
        );
        assert_eq!(slots(1, "").client(&h, Some(peer)), Some(ip("127.0.0.1")));
        assert_eq!(
            slots(1, "x-forwarded-for").client(&HeaderMap::new(), Some(peer)),
            Some(ip("127.0.0.1"))
        );
    }
}
