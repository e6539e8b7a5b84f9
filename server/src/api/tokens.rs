//! Named API tokens a person makes, lists and revokes (in their settings, or here as
//! `GET/POST /api/v1/me/tokens` and `DELETE /api/v1/me/tokens/{id}`). A token is shown once
//! when it is made; only its SHA-256 is kept, so a revoked one is refused at once.

use super::extract::{ApiJson, ApiPath, AuthUser};
use crate::{accounts, error::ApiError, AppState};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get},
    Json, Router,
};
use chrono::Utc;
use copse_entities::api_token;
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// Most tokens one person may hold.
pub const MAX_TOKENS: u64 = 50;

/// The token routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/me/tokens",
            get(http_get_tokens).post(http_post_token),
        )
        .route("/api/v1/me/tokens/{id}", delete(http_delete_token))
}

/// A person's tokens, newest first.
pub async fn list_tokens(
    db: &impl ConnectionTrait,
    local_user_id: i64,
) -> Result<Vec<api_token::Model>, ApiError> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::LocalUserId.eq(local_user_id))
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?)
}

/// Makes a token named `name`; returns it with the token itself, which is never shown again.
pub async fn create_token(
    db: &impl ConnectionTrait,
    local_user_id: i64,
    name: &str,
) -> Result<(api_token::Model, String), ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid("name", "name is required"));
    }
    if name.chars().count() > 100 {
        return Err(ApiError::invalid(
            "name",
            "name must be at most 100 characters",
        ));
    }
    let held = api_token::Entity::find()
        .filter(api_token::Column::LocalUserId.eq(local_user_id))
        .count(db)
        .await?;
    if held >= MAX_TOKENS {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "you have 50 tokens: revoke one before making another",
        ));
    }
    let token = accounts::new_token()?;
    let row = api_token::Entity::insert(api_token::ActiveModel {
        id: NotSet,
        local_user_id: Set(local_user_id),
        name: Set(name.to_string()),
        token_hash: Set(accounts::token_hash(&token)),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
    })
    .exec_with_returning(db)
    .await?;
    Ok((row, token))
}

/// Revokes one of the person's own tokens; someone else's is "not found", as a missing one is.
pub async fn revoke_token(
    db: &impl ConnectionTrait,
    local_user_id: i64,
    id: i64,
) -> Result<(), ApiError> {
    let res = api_token::Entity::delete_many()
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::LocalUserId.eq(local_user_id))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(ApiError::not_found("token"));
    }
    Ok(())
}

fn token_json(t: &api_token::Model) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "created": t.created_at,
        "last_used": t.last_used_at,
    })
}

async fn http_get_tokens(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Value>, ApiError> {
    let items: Vec<Value> = list_tokens(&state.db, auth.user.id)
        .await?
        .iter()
        .map(token_json)
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// Body of `POST /api/v1/me/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTokenForm {
    /// What the token is for ("phone"), at most 100 characters.
    #[serde(default)]
    pub name: String,
}

async fn http_post_token(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(form): ApiJson<NewTokenForm>,
) -> Result<Response, ApiError> {
    let (row, token) = create_token(&state.db, auth.user.id, &form.name).await?;
    let mut body = token_json(&row);
    body["token"] = Value::String(token);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn http_delete_token(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    revoke_token(&state.db, auth.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
