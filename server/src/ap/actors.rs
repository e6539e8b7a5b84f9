//! The actors: the instance actor, communities (`Group`) and people (`Person`). Browsers asking
//! for a community or a person get its page instead.

use super::negotiation::{activity_json, wants_activity_json};
use crate::{
    accounts,
    api::{
        extract::{ApiPath, ApiQuery},
        fields::tag_param,
        lookup::local_community,
    },
    error::ApiError,
    html, AppState,
};
use axum::{
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use copse_federation::{
    objects::{group_of, instance_actor, person_of},
    protocol::WithContext,
};

/// `/actor`: the instance actor, which signs fetches.
pub async fn http_get_instance_actor(State(state): State<AppState>) -> Result<Response, ApiError> {
    let site = crate::db::site(&state.db).await?;
    Ok(activity_json(WithContext::new(instance_actor(
        &state.urls,
        &site.public_key_pem,
        site.created_at,
    ))))
}

/// Query of a community's page: `tag` shows only the topics with that hashtag (the links of
/// hashtags in posts lead here).
#[derive(Debug, Default, serde::Deserialize)]
pub struct CommunityQuery {
    /// A hashtag, with or without `#`.
    #[serde(default)]
    pub tag: Option<String>,
    /// Which page of topics, from 1.
    #[serde(default)]
    pub page: Option<u64>,
}

/// `/c/{name}`: the community as a `Group`, or its page.
pub async fn http_get_community(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<CommunityQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let wants_json = wants_activity_json(&headers);
    // `/c/name@domain` is a page of this server about a community on another one; it has no
    // ActivityPub document here.
    let community = if name.contains('@') && !wants_json {
        crate::web::paths::named(&data, &name).await?
    } else {
        local_community(&data, &name).await?
    };
    if wants_json {
        let relations = copse_federation::store::tree::relations(&data.db, &community).await?;
        return Ok(activity_json(WithContext::new(group_of(
            &data.urls, &community, &relations,
        ))));
    }
    let tag = tag_param(q.tag.as_deref())?;
    let viewer = crate::web::session::load(&data.db, &headers).await?;
    let page = q.page.unwrap_or(1);
    Ok(
        crate::web::community::page(&data, viewer.as_ref(), &community, tag.as_deref(), page)
            .await
            .into_response(),
    )
}

/// `/c/{name}/rules`: the code of conduct, as a page.
pub async fn http_get_community_rules(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let community = local_community(&data, &name).await?;
    Ok(html::rules_page(&community))
}

/// `/u/{name}`: the person as a `Person`, or their page (`?page=` pages their posts).
pub async fn http_get_person(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<crate::web::person::PersonQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let person = accounts::local_person(&data.db, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    if wants_activity_json(&headers) {
        return Ok(activity_json(WithContext::new(person_of(
            &data.urls, &person,
        ))));
    }
    let viewer = crate::web::session::load(&data.db, &headers).await?;
    Ok(
        crate::web::person::page(&data, viewer.as_ref(), &person, q.page.unwrap_or(1))
            .await
            .into_response(),
    )
}
