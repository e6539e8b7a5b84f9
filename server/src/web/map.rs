//! The network map of a community: `/c/{name}/network` (the page: the picture, and the same
//! in words), `/c/{name}/network.svg`, `.json` and `.graphml`.

use super::{chrome::Chrome, error::PageError, page::html_response, session::SignedIn};
use crate::{api::lookup::local_community, error::ApiError, network_map::NetworkMap, AppState};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use copse_entities::community;

/// A relation in words.
struct Line {
    from: String,
    to: String,
    what: &'static str,
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    chrome: Chrome,
    c: community::Model,
    communities: usize,
    servers: usize,
    lines: Vec<Line>,
}

/// `GET /c/{name}/network`.
pub async fn http_get_map(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let viewer: Option<SignedIn> = super::session::load(&data.db, &headers).await?;
    let map = NetworkMap::of(&data, &c).await?;
    let label = |id: &str| {
        map.nodes
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.label.clone())
            .unwrap_or_default()
    };
    let lines = map
        .edges
        .iter()
        .map(|e| Line {
            from: label(&e.source),
            to: label(&e.target),
            what: match e.kind {
                "parent" => "sits under",
                "partner" => "follows, as a partner,",
                _ => "has members on",
            },
        })
        .collect();
    let view = MapPage {
        chrome: Chrome::load(&data, viewer.as_ref()).await?,
        communities: map.nodes.iter().filter(|n| n.kind == "community").count(),
        servers: map.nodes.iter().filter(|n| n.kind == "server").count(),
        lines,
        c,
    };
    Ok(html_response(StatusCode::OK, view.render()?))
}

/// `GET /c/{name}/network.svg`.
pub async fn http_get_map_svg(
    state: State<AppState>,
    name: Path<String>,
) -> Result<Response, ApiError> {
    map_file(state, name, "network.svg").await
}

/// `GET /c/{name}/network.json`.
pub async fn http_get_map_json(
    state: State<AppState>,
    name: Path<String>,
) -> Result<Response, ApiError> {
    map_file(state, name, "network.json").await
}

/// `GET /c/{name}/network.graphml`.
pub async fn http_get_map_graphml(
    state: State<AppState>,
    name: Path<String>,
) -> Result<Response, ApiError> {
    map_file(state, name, "network.graphml").await
}

async fn map_file(
    State(state): State<AppState>,
    Path(name): Path<String>,
    file: &str,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let map = NetworkMap::of(&data, &c).await?;
    Ok(match file {
        "network.json" => Json(map).into_response(),
        "network.graphml" => (
            [(
                header::CONTENT_TYPE,
                "application/graphml+xml; charset=utf-8",
            )],
            map.graphml(),
        )
            .into_response(),
        "network.svg" => {
            // The layout is CPU work, and a panic in it must not take the connection down.
            let svg = tokio::task::spawn_blocking(move || map.svg())
                .await
                .map_err(ApiError::internal)?;
            (
                [
                    (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
                    // Drawn from names others chose: nothing in it may run.
                    (
                        header::CONTENT_SECURITY_POLICY,
                        "default-src 'none'; style-src 'unsafe-inline'",
                    ),
                ],
                svg,
            )
                .into_response()
        }
        _ => return Err(ApiError::not_found("file")),
    })
}
