//! Every ActivityPub document served carries remote ids as their servers wrote them
//! (`copse_federation::ids`): members, featured topics, threads, replies and activities name
//! remote actors and posts, and a server that compares ids as strings must find its own.

use crate::AppState;
use axum::{
    body::Body,
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Rewrites remote ids in `application/activity+json` responses.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let is_ap = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/activity+json"));
    if !is_ap {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // Our own document, already whole in memory: no limit is needed.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return crate::error::ApiError::internal(e).into_response(),
    };
    let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let data = state.to_request_data();
    match copse_federation::ids::restore(&data.db, &data.urls, &mut doc).await {
        Ok(true) => match serde_json::to_vec(&doc) {
            Ok(body) => {
                parts.headers.remove(header::CONTENT_LENGTH);
                Response::from_parts(parts, Body::from(body))
            }
            Err(_) => Response::from_parts(parts, Body::from(bytes)),
        },
        Ok(false) => Response::from_parts(parts, Body::from(bytes)),
        Err(e) => {
            tracing::warn!("remote ids not restored: {e}");
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}
