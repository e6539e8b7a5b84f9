//! A short-lived cache of public GET responses (actors, WebFinger, collections, pages). These
//! documents change rarely and are fetched by every server that meets a community, so a few
//! seconds of staleness buys a large share of the read load.

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Most entries kept; the cache is emptied when it would grow past this.
const MAX_ENTRIES: usize = 10_000;
/// Largest body cached.
const MAX_BODY: usize = 256 * 1024;

struct Entry {
    at: Instant,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

/// Cached responses by request line and wanted format.
#[derive(Clone)]
pub struct ResponseCache {
    ttl: Duration,
    entries: Arc<Mutex<HashMap<String, Entry>>>,
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
    /// A cache keeping responses for `ttl` (zero turns it off).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Arc::default(),
            filling: Arc::default(),
        }
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
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let e = entries.get(key).filter(|e| e.at.elapsed() < self.ttl)?;
        let mut res = Response::new(Body::from(e.body.clone()));
        if let Some(ct) = &e.content_type {
            res.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
        }
        Some(res)
    }

    fn put(&self, key: String, content_type: Option<HeaderValue>, body: Bytes) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                at: Instant::now(),
                content_type,
                body,
            },
        );
    }
}

/// Middleware: answers from the cache, or runs the handler and keeps a 200 answer.
pub async fn layer(State(cache): State<ResponseCache>, req: Request, next: Next) -> Response {
    if cache.ttl.is_zero()
        || req.method() != Method::GET
        || req.headers().contains_key(header::AUTHORIZATION)
    {
        return next.run(req).await;
    }
    let json = crate::routes::wants_activity_json(req.headers());
    let key = format!(
        "{}|{}",
        if json { "ap" } else { "html" },
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
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
    let (parts, body) = res.into_parts();
    let res = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            cache.put(
                key,
                parts.headers.get(header::CONTENT_TYPE).cloned(),
                bytes.clone(),
            );
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    drop(filling);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_cache_stays_bounded() {
        let cache = ResponseCache::new(Duration::from_millis(50));
        cache.put("a".into(), None, Bytes::from_static(b"x"));
        assert!(cache.get("a").is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get("a").is_none());
        for i in 0..=MAX_ENTRIES {
            cache.put(format!("k{i}"), None, Bytes::new());
        }
        assert!(cache.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }

    #[tokio::test]
    async fn concurrent_misses_compute_a_document_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tower::ServiceExt;
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
                ResponseCache::new(Duration::from_secs(5)),
                layer,
            ));
        let requests: Vec<_> = (0..20)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move {
                    let res = app
                        .oneshot(Request::get("/doc").body(Body::empty()).unwrap())
                        .await
                        .unwrap();
                    assert_eq!(res.status(), StatusCode::OK);
                    axum::body::to_bytes(res.into_body(), 1024).await.unwrap()
                })
            })
            .collect();
        for request in requests {
            assert_eq!(&request.await.unwrap()[..], b"the document");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
