//! Error pages for browsers. Every refusal is an [`ApiError`](crate::error::ApiError), which
//! answers JSON and leaves an [`ErrorNotice`](crate::error::ErrorNotice) on its response; this layer turns that into a short
//! HTML page when a browser asked for a page (see
//! [`wants_error_page`](crate::ap::negotiation::wants_error_page)). The API and ActivityPub
//! clients keep the JSON.

use crate::{ap::negotiation::wants_error_page, error::ErrorNotice};
use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

/// Replaces the JSON of an error with its page when the request came from a browser.
pub async fn layer(req: Request, next: Next) -> Response {
    let page = wants_error_page(req.uri().path(), req.headers());
    let res = next.run(req).await;
    if !page {
        return res;
    }
    let Some(notice) = res.extensions().get::<ErrorNotice>().cloned() else {
        return res;
    };
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    let html = crate::web::error::render(parts.status, &notice);
    Response::from_parts(parts, Body::from(html))
}

#[cfg(test)]
mod tests {
    use crate::error::ApiError;
    use axum::{
        body::{to_bytes, Body},
        http::{header, Request, StatusCode},
        routing::get,
        Router,
    };
    use tower::ServiceExt;

    fn app() -> Router {
        Router::new()
            .route(
                "/c/{name}",
                get(|| async { ApiError::new(StatusCode::FORBIDDEN, "only members see this") }),
            )
            .route(
                "/post/{id}",
                get(|| async { ApiError::internal("disk on fire") }),
            )
            .route(
                "/api/v1/communities/{name}",
                get(|| async { ApiError::new(StatusCode::FORBIDDEN, "only members see this") }),
            )
            .route(
                "/search",
                get(|| async { ApiError::invalid("q", "q is <1 to 64> letters & digits") }),
            )
            .layer(axum::middleware::from_fn(super::layer))
    }

    async fn get_as(path: &str, accept: &str) -> (StatusCode, String, String) {
        let req = Request::get(path)
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .unwrap();
        let res = app().oneshot(req).await.unwrap();
        let status = res.status();
        let kind = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = to_bytes(res.into_body(), 1 << 20).await.unwrap();
        (status, kind, String::from_utf8_lossy(&body).into_owned())
    }

    const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    #[tokio::test]
    async fn a_browser_refused_a_page_gets_a_page_with_the_reason_and_a_way_home() {
        let (status, kind, body) = get_as("/c/net", BROWSER).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(kind.starts_with("text/html"), "{kind}");
        assert!(
            body.contains("<title>Not allowed · Copse</title>"),
            "{body}"
        );
        assert!(body.contains("only members see this"), "{body}");
        assert!(
            body.contains("<a href=\"/\">Go to the home page</a>"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_browser_gets_a_page_for_a_server_error_without_its_cause() {
        let (status, kind, body) = get_as("/post/1", BROWSER).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(kind.starts_with("text/html"), "{kind}");
        assert!(body.contains("Something went wrong"), "{body}");
        assert!(!body.contains("disk on fire"), "{body}");
    }

    #[tokio::test]
    async fn the_message_and_field_are_escaped_on_the_page() {
        let (status, _, body) = get_as("/search", BROWSER).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body.contains("q is &lt;1 to 64&gt; letters &amp; digits"),
            "{body}"
        );
        assert!(body.contains("<code>q</code>"), "{body}");
    }

    #[tokio::test]
    async fn the_api_and_activitypub_clients_keep_json() {
        for (path, accept) in [
            ("/api/v1/communities/net", BROWSER),
            ("/c/net", "application/activity+json"),
            (
                "/c/net",
                "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            ),
            ("/c/net", "application/json"),
            ("/c/net", "*/*"),
        ] {
            let (status, kind, body) = get_as(path, accept).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
            assert!(
                kind.starts_with("application/json"),
                "{path} {accept}: {kind}"
            );
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["error"], "only members see this");
        }
    }
}
