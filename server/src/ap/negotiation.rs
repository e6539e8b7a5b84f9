//! Content negotiation, kept in one place: the same URL serves a page to browsers and
//! ActivityPub JSON to servers.

use crate::error::ApiError;
use axum::{
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// True when the client asks for ActivityPub JSON rather than a page.
pub fn wants_activity_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/activity+json") || v.contains("application/ld+json"))
}

/// True when an error should be answered with a page: the client accepts HTML, does not ask
/// for ActivityPub, and the path is not the API's or another machine endpoint's, whose clients
/// read the JSON whatever they accept.
pub fn wants_error_page(path: &str, headers: &HeaderMap) -> bool {
    let machine = ["/api/", "/.well-known/", "/nodeinfo/"];
    if machine.iter().any(|p| path.starts_with(p)) || wants_activity_json(headers) {
        return false;
    }
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html") || v.contains("application/xhtml+xml"))
}

/// An ActivityPub JSON response.
pub fn activity_json(value: impl Serialize) -> Response {
    match serde_json::to_vec(&value) {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/activity+json; charset=utf-8"),
            )],
            body,
        )
            .into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}
