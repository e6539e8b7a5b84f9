//! The collections an actor must name even where there is nothing in them: a community follows
//! no one, and people and the instance actor have no followers and follow no one that Copse
//! publishes. GoToSocial takes an actor without both `followers` and `following` for an instance
//! actor and never refreshes it, so every actor names both and both are served.

use crate::{accounts, error::ApiError, routes::activity_json, AppState};
use axum::{
    extract::{Path, State},
    response::Response,
};
use copse_federation::protocol::{OrderedCollection, WithContext};
use serde_json::Value;
use url::Url;

fn empty(id: Url) -> Response {
    activity_json(WithContext::new(OrderedCollection::<Value> {
        id,
        kind: "OrderedCollection".into(),
        total_items: 0,
        ordered_items: Some(Vec::new()),
    }))
}

/// `/c/{name}/following`: a community follows no one.
pub async fn http_get_community_following(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    accounts::local_community(&data.db, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))?;
    Ok(empty(data.urls.community_part(&name, "following")))
}

/// `/u/{name}/followers` and `/u/{name}/following`: people are not followed here, and the
/// communities they follow are their memberships, which each community lists only for members
/// who agreed to be listed.
pub async fn http_get_person_collection(
    State(state): State<AppState>,
    Path((name, collection)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if collection != "followers" && collection != "following" {
        return Err(ApiError::not_found("collection"));
    }
    let data = state.to_request_data();
    accounts::local_person(&data.db, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    Ok(empty(data.urls.person_part(&name, &collection)))
}

/// `/actor/followers` and `/actor/following`: the instance actor only signs fetches.
pub async fn http_get_instance_collection(
    State(state): State<AppState>,
    Path(collection): Path<String>,
) -> Result<Response, ApiError> {
    if collection != "followers" && collection != "following" {
        return Err(ApiError::not_found("collection"));
    }
    Ok(empty(state.urls.instance_actor_part(&collection)))
}
