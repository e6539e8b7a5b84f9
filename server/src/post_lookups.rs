//! The API's lookups of a post, its community, and the check that the caller moderates it.

use crate::{api::AuthUser, error::ApiError};
use axum::http::StatusCode;
use copse_entities::{community, post};
use copse_federation::Data;
use sea_orm::EntityTrait;

pub async fn find_post(data: &Data, id: i64) -> Result<post::Model, ApiError> {
    post::Entity::find_by_id(id)
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("post"))
}

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
