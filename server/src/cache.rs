//! A short-lived cache of public GET responses (actors, WebFinger, collections, pages). These
//! documents change rarely and are fetched by every server that meets a community, so a few
//! seconds of staleness buys a large share of the read load.
//!
//! The cache holds at most `max_bytes`; the oldest entries go first, and expired ones are swept
//! out as new ones come in. A response too large to keep is served as it is, uncached. Only the
//! query keys a route reads (`QUERY_KEYS`) take part in the key, so junk query strings all share
//! the entry of the plain URL instead of each adding one.

use axum::{
    body::{Body, Bytes, HttpBody},
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::{
    collections::{HashMap, VecDeque},
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

/// The query keys each cached route reads. Any other key is left out of the cache key (the
/// handlers ignore it too). A cached route that starts reading a query key must list it here.
const QUERY_KEYS: &[(&str, &[&str])] = &[
    ("/.well-known/webfinger", &["resource"]),
    ("/c/{name}", &["tag"]),
    ("/c/{name}/outbox", &["page", "before"]),
    ("/c/{name}/members", &["page"]),
    ("/u/{name}", &["page"]),
];

/// Bytes counted for an entry beyond its key and body (map and queue bookkeeping).
const ENTRY_OVERHEAD: usize = 128;

struct Entry {
    at: Instant,
    content_type: Option<HeaderValue>,
    body: Bytes,
    size: usize,
}

#[derive(Default)]
struct Store {
    entries: HashMap<String, Entry>,
    /// Keys in the order they were stored, with when; every entry lives as long, so the front
    /// is also the first to expire. Keys stored again leave stale items, skipped when popped.
    order: VecDeque<(Instant, String)>,
    bytes: usize,
}

impl Store {
    /// Drops the oldest entry (or a stale queue item); false when there is nothing left.
    fn pop_oldest(&mut self) -> bool {
        let Some((at, key)) = self.order.pop_front() else {
            return false;
        };
        if self.entries.get(&key).is_some_and(|e| e.at == at) {
            if let Some(e) = self.entries.remove(&key) {
                self.bytes = self.bytes.saturating_sub(e.size);
            }
        }
        true
    }

    /// Drops every expired entry.
    fn sweep(&mut self, ttl: Duration) {
        while self
            .order
            .front()
            .is_some_and(|(at, _)| at.elapsed() >= ttl)
        {
            self.pop_oldest();
        }
    }
}

/// Cached responses by request line and wanted format.
#[derive(Clone)]
pub struct ResponseCache {
    ttl: Duration,
    max_bytes: usize,
    store: Arc<Mutex<Store>>,
    // Keys being computed now. When a post is announced to a thousand servers they all fetch it
    // in the same second; the first request computes it and the others wait for its answer
    // instead of each running the same queries.
    filling: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

/// Held by the one request computing a key; forgets the key when dropped, even if the request
/// is abandoned half way.
struct Filling {
    key: String,
    filling: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for Filling {
    fn drop(&mut self) {
        self.filling
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}

impl ResponseCache {
    /// A cache keeping responses for `ttl` (zero turns it off), `max_bytes` in all.
    pub fn new(ttl: Duration, max_bytes: usize) -> Self {
        Self {
            ttl,
            max_bytes,
            store: Arc::default(),
            filling: Arc::default(),
        }
    }

    /// Largest body kept: an eighth of the cache, so one document cannot push out the rest.
    fn max_entry(&self) -> usize {
        self.max_bytes / 8
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.store.lock().unwrap_or_else(|e| e.into_inner()).bytes
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Becomes the one request computing `key`, or waits for the one that is and returns
    /// `None` (the caller then looks in the cache again).
    async fn fill_or_wait(&self, key: &str) -> Option<Filling> {
        let flight = self
            .filling
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_string())
            .or_default()
            .clone();
        match flight.clone().try_lock_owned() {
            Ok(guard) => Some(Filling {
                key: key.to_string(),
                filling: self.filling.clone(),
                _guard: guard,
            }),
            Err(_) => {
                drop(flight.lock().await);
                None
            }
        }
    }

    fn get(&self, key: &str) -> Option<Response> {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        store.sweep(self.ttl);
        let e = store.entries.get(key)?;
        let mut res = Response::new(Body::from(e.body.clone()));
        if let Some(ct) = &e.content_type {
            res.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
        }
        Some(res)
    }

    fn put(&self, key: String, content_type: Option<HeaderValue>, body: Bytes) {
        let size =
            key.len() + body.len() + content_type.as_ref().map_or(0, |v| v.len()) + ENTRY_OVERHEAD;
        if body.len() > self.max_entry() || size > self.max_bytes {
            return;
        }
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = store.entries.remove(&key) {
            store.bytes = store.bytes.saturating_sub(old.size);
        }
        store.sweep(self.ttl);
        while store.bytes + size > self.max_bytes && store.pop_oldest() {}
        let at = Instant::now();
        store.order.push_back((at, key.clone()));
        store.bytes += size;
        store.entries.insert(
            key,
            Entry {
                at,
                content_type,
                body,
                size,
            },
        );
    }
}

/// The cache key: format, path, and the route's own query keys in a fixed order.
fn cache_key(req: &Request, json: bool) -> String {
    let format = if json { "ap" } else { "html" };
    let path = req.uri().path();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str())
        .unwrap_or(path);
    let keys: &[&str] = QUERY_KEYS
        .iter()
        .find(|(r, _)| *r == route)
        .map_or(&[], |(_, k)| k);
    let mut pairs: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    pairs.retain(|(k, _)| keys.contains(&k.as_str()));
    if pairs.is_empty() {
        return format!("{format}|{path}");
    }
    pairs.sort();
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{format}|{path}?{query}")
}

/// Middleware: answers from the cache, or runs the handler and keeps a 200 answer that fits.
pub async fn layer(State(cache): State<ResponseCache>, req: Request, next: Next) -> Response {
    if cache.ttl.is_zero()
        || req.method() != Method::GET
        || req.headers().contains_key(header::AUTHORIZATION)
        || crate::web::session::cookie(req.headers(), crate::web::session::SESSION_COOKIE).is_some()
    {
        return next.run(req).await;
    }
    let key = cache_key(
        &req,
        crate::ap::negotiation::wants_activity_json(req.headers()),
    );
    if let Some(hit) = cache.get(&key) {
        return hit;
    }
    let filling = cache.fill_or_wait(&key).await;
    // Whoever filled it may have finished between our first look and now.
    if let Some(hit) = cache.get(&key) {
        return hit;
    }
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    let (parts, mut body) = res.into_parts();
    let limit = cache.max_entry();
    if body.size_hint().lower() > limit as u64 {
        return Response::from_parts(parts, body);
    }
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut len = 0;
    loop {
        match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            None => break,
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if len + data.len() <= limit => {
                    len += data.len();
                    chunks.push(data);
                }
                // Too large to keep (or not plain data): served as it is, uncached.
                other => {
                    let frame = match other {
                        Ok(data) => http_body::Frame::data(data),
                        Err(frame) => frame,
                    };
                    let mut head: VecDeque<_> =
                        chunks.into_iter().map(http_body::Frame::data).collect();
                    head.push_back(frame);
                    let body = Body::new(Replay { head, rest: body });
                    return Response::from_parts(parts, body);
                }
            },
            Some(Err(e)) => return crate::error::ApiError::internal(e).into_response(),
        }
    }
    let bytes = match chunks.len() {
        1 => chunks.pop().unwrap_or_default(),
        _ => Bytes::from(chunks.concat()),
    };
    cache.put(
        key,
        parts.headers.get(header::CONTENT_TYPE).cloned(),
        bytes.clone(),
    );
    drop(filling);
    Response::from_parts(parts, Body::from(bytes))
}

/// A body whose first frames were already read: those, then the rest.
struct Replay {
    head: VecDeque<http_body::Frame<Bytes>>,
    rest: Body,
}

impl HttpBody for Replay {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        match this.head.pop_front() {
            Some(frame) => Poll::Ready(Some(Ok(frame))),
            None => Pin::new(&mut this.rest).poll_frame(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;

    async fn body_of(res: Response) -> Bytes {
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap()
    }

    /// A router with `/doc` (a document of `size` bytes) and `/c/{name}`, cached, counting runs.
    fn app(cache: ResponseCache, size: usize) -> (axum::Router, Arc<AtomicUsize>) {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let doc = move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                "x".repeat(size)
            }
        };
        let app = axum::Router::new()
            .route("/doc", axum::routing::get(doc.clone()))
            .route("/c/{name}", axum::routing::get(doc))
            .route_layer(axum::middleware::from_fn_with_state(cache, layer));
        (app, runs)
    }

    async fn get(app: &axum::Router, uri: &str) -> Response {
        app.clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[test]
    fn entries_expire_and_are_swept_out() {
        let cache = ResponseCache::new(Duration::from_millis(50), 1 << 20);
        cache.put("a".into(), None, Bytes::from_static(b"x"));
        assert!(cache.get("a").is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get("a").is_none());
        assert_eq!(
            (cache.len(), cache.bytes()),
            (0, 0),
            "the expired entry is gone"
        );
    }

    #[test]
    fn the_cache_stays_within_its_bytes_dropping_the_oldest() {
        let cache = ResponseCache::new(Duration::from_secs(60), 64 * 1024);
        for i in 0..1000 {
            cache.put(format!("k{i}"), None, Bytes::from(vec![b'x'; 1000]));
            assert!(cache.bytes() <= 64 * 1024);
        }
        assert!(cache.get("k999").is_some(), "the newest is kept");
        assert!(cache.get("k0").is_none(), "the oldest went first");
        // Storing a key again replaces it without counting it twice.
        let before = cache.bytes();
        cache.put("k999".into(), None, Bytes::from(vec![b'y'; 1000]));
        assert_eq!(cache.bytes(), before);
    }

    #[tokio::test]
    async fn a_response_too_large_to_keep_is_served_whole_and_uncached() {
        let cache = ResponseCache::new(Duration::from_secs(60), 64 * 1024);
        let (app, runs) = app(cache.clone(), 300 * 1024);
        for _ in 0..2 {
            let res = get(&app, "/doc").await;
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(body_of(res).await.len(), 300 * 1024);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 2, "nothing was cached");
        assert!(cache.is_empty());
    }

    /// A body of chunks whose length is not known ahead, as a streamed response would be.
    struct Chunks(VecDeque<Bytes>);

    impl HttpBody for Chunks {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            Poll::Ready(
                self.get_mut()
                    .0
                    .pop_front()
                    .map(|b| Ok(http_body::Frame::data(b))),
            )
        }
    }

    #[tokio::test]
    async fn a_body_of_unknown_length_over_the_limit_is_passed_on_whole() {
        let cache = ResponseCache::new(Duration::from_secs(60), 64 * 1024);
        let app = axum::Router::new()
            .route(
                "/stream",
                axum::routing::get(|| async {
                    Body::new(Chunks(
                        (0..40).map(|_| Bytes::from(vec![b'z'; 1024])).collect(),
                    ))
                }),
            )
            .route_layer(axum::middleware::from_fn_with_state(cache.clone(), layer));
        let res = get(&app, "/stream").await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = body_of(res).await;
        assert_eq!(body.len(), 40 * 1024);
        assert!(body.iter().all(|b| *b == b'z'));
        assert!(cache.is_empty());
    }

    #[tokio::test]
    async fn junk_query_strings_share_one_entry() {
        let cache = ResponseCache::new(Duration::from_secs(60), 1 << 20);
        let (app, runs) = app(cache.clone(), 1000);
        for i in 0..1500 {
            let res = get(&app, &format!("/c/net?junk={i}&x{i}=y")).await;
            assert_eq!(res.status(), StatusCode::OK);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(cache.len(), 1);
        // A key the route reads does make its own entry, whatever the order of the query.
        get(&app, "/c/net?tag=rust&junk=1").await;
        get(&app, "/c/net?junk=2&tag=rust").await;
        assert_eq!((cache.len(), runs.load(Ordering::SeqCst)), (2, 2));
    }

    #[tokio::test]
    async fn concurrent_misses_compute_a_document_once() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let app = axum::Router::new()
            .route(
                "/doc",
                axum::routing::get(move || {
                    let counted = counted.clone();
                    async move {
                        counted.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        "the document"
                    }
                }),
            )
            .route_layer(axum::middleware::from_fn_with_state(
                ResponseCache::new(Duration::from_secs(5), 1 << 20),
                layer,
            ));
        let requests: Vec<_> = (0..20)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move {
                    let res = get(&app, "/doc").await;
                    assert_eq!(res.status(), StatusCode::OK);
                    body_of(res).await
                })
            })
            .collect();
        for request in requests {
            assert_eq!(&request.await.unwrap()[..], b"the document");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
