//! The REST API under `/api/v1`: JSON in and out, `Authorization: Bearer TOKEN`. Handlers
//! change the database and hand events to the federation crate; they never build ActivityPub.

pub use crate::extract::{ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::{accounts, accounts::follower_count, error::ApiError, markdown, AppState};
use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts, State},
    http::{header, request::Parts, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use copse_entities::{community, local_user, person, post};
use copse_federation::{
    activities,
    activities::{
        member_choices::{rules_version, JoinChoices},
        membership::JoinOutcome,
    },
    fetch, Data,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The routes of the account, communities and follows; the router merges each resource's own.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(http_get_me))
        .route("/api/v1/communities", post(http_post_community))
        .route("/api/v1/communities/{name}", get(http_get_community))
        .route(
            "/api/v1/follows",
            post(http_post_follow).delete(http_delete_follow),
        )
}

pub use crate::markdown::render_markdown;

/// The signed-in local account.
pub struct AuthUser {
    /// The account.
    pub user: local_user::Model,
    /// Its person.
    pub person: person::Model,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::unauthorized)?;
        let (user, person) = accounts::user_by_token(&state.db, token)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Self { user, person })
    }
}

/// Signed in or not: no `Authorization` header is anonymous, a bad token is still a 401.
impl OptionalFromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(None);
        }
        <Self as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

async fn http_get_me(auth: AuthUser) -> Json<Value> {
    Json(json!({
        "name": auth.person.name,
        "id": auth.person.ap_id,
        "admin": auth.user.admin,
    }))
}

/// Request body of `POST /api/v1/communities`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunityForm {
    /// Handle.
    pub name: String,
    /// Title.
    pub title: String,
    /// Markdown summary.
    #[serde(default)]
    pub summary: Option<String>,
}

async fn http_post_community(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(form): ApiJson<CommunityForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = accounts::create_community(
        &data,
        accounts::NewCommunity {
            name: form.name,
            title: form.title,
            summary: form.summary,
            owner: Some(auth.person.id),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(community_json(&data, &c).await?)).into_response())
}

async fn community_json(data: &Data, c: &community::Model) -> Result<Value, ApiError> {
    let posts = post::Entity::find()
        .filter(post::Column::CommunityId.eq(c.id))
        .filter(post::Column::TopicId.is_null())
        .count(&data.db)
        .await?;
    Ok(json!({
        "id": c.ap_id,
        "name": c.name,
        "handle": format!("{}@{}", c.name, data.settings.domain),
        "title": c.title,
        "summary": c.summary,
        "followers": follower_count(&data.db, c.id).await?,
        "topics": posts,
        "membership_policy": c.membership_policy,
        "topic_policy": c.topic_policy,
        "reply_policy": c.reply_policy,
        "manually_approves_followers": c.manually_approves_followers,
        "require_rules_agreement": c.require_rules_agreement,
        "rules_version": rules_version(c),
        "published": c.published,
    }))
}

async fn http_get_community(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let data = state.to_request_data();
    let c = accounts::local_community(&data.db, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))?;
    Ok(Json(community_json(&data, &c).await?))
}

/// Request body of `POST /api/v1/follows`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowForm {
    /// `name@domain` of a community, here or elsewhere.
    pub community: String,
    /// Why you want to join (communities that approve members read it).
    #[serde(default)]
    pub reason: Option<String>,
    /// Be listed in the member directory (communities on this instance); unlisted when absent.
    #[serde(default)]
    pub listed: Option<bool>,
    /// You agree to the code of conduct: must be true where the community asks for it.
    #[serde(default)]
    pub agree_to_rules: Option<bool>,
}

/// A community of this server by name, or a 404 naming `community`.
pub async fn local_community(data: &Data, name: &str) -> Result<community::Model, ApiError> {
    accounts::local_community(&data.db, name)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))
}

/// Resolves `name`, `name@domain` or `@name@domain` to a community, fetching remote ones.
pub async fn resolve_community(data: &Data, handle: &str) -> Result<community::Model, ApiError> {
    match resolve_handle(data, handle, "community").await? {
        fetch::ActorRef::Community(c) => Ok(c),
        fetch::ActorRef::Person(_) => Err(ApiError::invalid(
            "community",
            "that handle is a person, not a community",
        )),
    }
}

/// Resolves `name`, `name@domain` or `@name@domain` to a local or remote actor (remote ones by
/// WebFinger); errors name `field`.
pub async fn resolve_handle(
    data: &Data,
    handle: &str,
    field: &str,
) -> Result<fetch::ActorRef, ApiError> {
    let handle = handle.trim().trim_start_matches('@');
    let local_suffix = format!("@{}", data.settings.domain);
    if let Some(name) = handle
        .strip_suffix(&local_suffix)
        .or((!handle.contains('@')).then_some(handle))
    {
        // People and communities share one name space, so at most one of these exists.
        if let Some(c) = accounts::local_community(&data.db, name).await? {
            return Ok(fetch::ActorRef::Community(c));
        }
        return match accounts::local_person(&data.db, name).await? {
            Some(p) => Ok(fetch::ActorRef::Person(p)),
            None => Err(ApiError::not_found(field).with_field(field)),
        };
    }
    if let Some(p) = known_person(data, handle).await? {
        return Ok(fetch::ActorRef::Person(p));
    }
    fetch::webfinger(data, handle).await.map_err(|e| match e {
        copse_federation::Error::NotFound => ApiError::not_found(field).with_field(field),
        copse_federation::Error::Url(m) => ApiError::invalid(field, m),
        e => ApiError::from(e).with_field(field),
    })
}

/// A person by `name` (local) or `name@domain` (already known here), without fetching.
pub async fn known_person(data: &Data, handle: &str) -> Result<Option<person::Model>, ApiError> {
    let handle = handle.trim().trim_start_matches('@');
    let (name, domain) = match handle.split_once('@') {
        Some((n, d)) => (n, d),
        None => (handle, data.settings.domain.as_str()),
    };
    if domain == data.settings.domain {
        return Ok(accounts::local_person(&data.db, name).await?);
    }
    if domain.contains(['%', '_', '/']) {
        return Ok(None);
    }
    Ok(person::Entity::find()
        .filter(person::Column::Name.eq(name))
        .filter(person::Column::Local.eq(false))
        .filter(person::Column::ApId.like(format!("%://{domain}/%")))
        .one(&data.db)
        .await?)
}

/// A post's markdown rendered in community `c`, with the people it mentions looked up here
/// (never fetched), one by one in the order they are mentioned: see `markdown::post_html`.
pub async fn render_post(
    data: &Data,
    c: &community::Model,
    text: &str,
) -> Result<(String, Vec<Value>), ApiError> {
    let mut people = BTreeMap::new();
    for handle in markdown::mentioned_handles(text) {
        if let Some(p) = known_person(data, &handle).await? {
            people.insert(handle.to_lowercase(), p);
        }
    }
    Ok(markdown::post_html(c, text, people))
}

/// A community by `name` (local) or `name@domain` (already known here), without fetching.
pub async fn known_community(
    data: &Data,
    handle: &str,
) -> Result<Option<community::Model>, ApiError> {
    let handle = handle.trim().trim_start_matches('@');
    let (name, domain) = match handle.split_once('@') {
        Some((n, d)) => (n, d),
        None => (handle, data.settings.domain.as_str()),
    };
    if domain == data.settings.domain {
        return Ok(accounts::local_community(&data.db, name).await?);
    }
    if domain.contains(['%', '_', '/', '\\']) {
        return Ok(None);
    }
    Ok(community::Entity::find()
        .filter(community::Column::Name.eq(name))
        .filter(community::Column::Local.eq(false))
        .filter(community::Column::ApId.like(format!("%://{domain}/%")))
        .one(&data.db)
        .await?)
}

/// A community for a read: signed-in readers may have an unknown remote one looked up (by
/// WebFinger); anonymous ones only see communities already known here, so that no anonymous
/// request makes this server fetch from another.
pub async fn community_to_read(
    data: &Data,
    handle: &str,
    reader: Option<&AuthUser>,
) -> Result<community::Model, ApiError> {
    if let Some(c) = known_community(data, handle).await? {
        return Ok(c);
    }
    match reader {
        Some(_) => resolve_community(data, handle).await,
        None => Err(ApiError::not_found("community").with_field("community")),
    }
}

async fn http_post_follow(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(form): ApiJson<FollowForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = resolve_community(&data, &form.community).await?;
    if form.reason.as_ref().is_some_and(|r| r.len() > 5000) {
        return Err(ApiError::invalid("reason", "at most 5000 bytes"));
    }
    let agree_to_rules = form.agree_to_rules.unwrap_or(false);
    if c.local && c.require_rules_agreement && !agree_to_rules {
        return Err(ApiError::invalid(
            "agree_to_rules",
            "this community asks you to agree to its code of conduct: read it and send agree_to_rules: true",
        ));
    }
    let choices = JoinChoices {
        reason: form.reason,
        listed: form.listed,
        agree_to_rules,
    };
    let outcome = activities::follow_community(&data, &auth.person, &c, choices).await?;
    let status = match outcome {
        JoinOutcome::Joined => "joined",
        JoinOutcome::Pending => "pending",
        JoinOutcome::Refused => {
            return Err(
                ApiError::new(StatusCode::FORBIDDEN, "this community did not accept you")
                    .with_field("community"),
            );
        }
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "community": c.ap_id, "pending": outcome == JoinOutcome::Pending, "status": status })),
    )
        .into_response())
}

async fn http_delete_follow(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(form): ApiQuery<FollowForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = resolve_community(&data, &form.community).await?;
    let left = if c.local {
        activities::membership::leave(&data, &c, &auth.person, &auth.person, None).await?
    } else {
        activities::unfollow_community(&data, &auth.person, &c).await?
    };
    if left {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("follow"))
    }
}
