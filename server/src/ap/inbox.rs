//! The inboxes: every signed POST goes through the same checks, whatever inbox it names.

use crate::AppState;
use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use copse_federation::intake::{ingest, IncomingRequest, Ingested};
use serde_json::json;

/// `POST /inbox`, `/actor/inbox`, `/c/{name}/inbox`, `/u/{name}/inbox`: checks the signature and
/// stores the activity for the inbox workers.
pub async fn http_post_inbox(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let data = state.to_request_data();
    let limit = data.settings.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return inbox_error(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
    }
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return inbox_error(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
    };
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let req = IncomingRequest {
        method: method.as_str(),
        path_and_query: path,
        headers: &headers,
        body: &bytes,
    };
    match ingest(&data, req).await {
        Ok(Ingested::Stored | Ingested::Duplicate | Ingested::Ignored) => {
            StatusCode::ACCEPTED.into_response()
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            tracing::debug!("inbox refused ({status}): {e}");
            let message = if status.is_server_error() {
                "try again later".to_string()
            } else {
                e.to_string()
            };
            inbox_error(status, &message)
        }
    }
}

fn inbox_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": message, "field": null })),
    )
        .into_response()
}
