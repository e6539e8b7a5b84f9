//! The API's lookups: communities and people by name or handle (local, known here, or fetched
//! by WebFinger), a post and its community, the check that the caller moderates it, and the
//! people a post mentions. Each answers a 404 naming what was not found.

use super::extract::AuthUser;
use crate::{accounts, error::ApiError, markdown};
use axum::http::StatusCode;
use copse_entities::{community, person, post};
use copse_federation::{fetch, Data};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use std::collections::BTreeMap;

/// A post by row id.
pub async fn find_post(data: &Data, id: i64) -> Result<post::Model, ApiError> {
    post::Entity::find_by_id(id)
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("post"))
}

/// The community a post is in.
pub async fn community_of(data: &Data, p: &post::Model) -> Result<community::Model, ApiError> {
    community::Entity::find_by_id(p.community_id)
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))
}

/// Requires a facilitator or coordinator of the post's community (instance admins pass).
pub async fn require_moderator(
    data: &Data,
    c: &community::Model,
    auth: &AuthUser,
) -> Result<(), ApiError> {
    if auth.user.admin
        || copse_federation::rules::posting::moderates(&data.db, c, &auth.person).await?
    {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "only facilitators and coordinators may do this",
    ))
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
