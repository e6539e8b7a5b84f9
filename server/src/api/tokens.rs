//! Named API tokens a person makes, lists and revokes (in their settings, or here as
//! `GET/POST /api/v1/me/tokens` and `DELETE /api/v1/me/tokens/{id}`). A token is shown once
//! when it is made; only its SHA-256 is kept, so a revoked one is refused at once.

use super::extract::{ApiJson, ApiPath, AuthUser};
use crate::{
    accounts,
    error::{ApiError, ErrorBody},
    AppState,
};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get},
    Json, Router,
};
use chrono::{DateTime, Utc};
use copse_entities::api_token;
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

/// A token as listed (never the token itself).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Row id (the `{id}` of `DELETE /api/v1/me/tokens/{id}`).
    pub id: i64,
    /// What it is for.
    pub name: String,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// When it was last used, if ever.
    pub last_used: Option<DateTime<Utc>>,
}

impl From<&api_token::Model> for TokenView {
    fn from(t: &api_token::Model) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            created: t.created_at,
            last_used: t.last_used_at,
        }
    }
}

/// `GET /api/v1/me/tokens`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Newest first.
    pub items: Vec<TokenView>,
}

/// A token just made: the fields of its `TokenView`, and the token itself, shown this once.
/// They are listed here rather than flattened in, so that the document gives one object with
/// every field, not a composition of two.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewTokenView {
    /// Row id (the `{id}` of `DELETE /api/v1/me/tokens/{id}`).
    pub id: i64,
    /// What it is for.
    pub name: String,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// Never: it was just made.
    pub last_used: Option<DateTime<Utc>>,
    /// The token to send as `Authorization: Bearer TOKEN`.
    pub token: String,
}

/// The signed-in person's tokens, newest first.
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "The tokens", body = TokenList)))]
async fn http_get_tokens(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<TokenList>, ApiError> {
    let items = list_tokens(&state.db, auth.user.id)
        .await?
        .iter()
        .map(TokenView::from)
        .collect();
    Ok(Json(TokenList { items }))
}

/// Body of `POST /api/v1/me/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenForm {
    /// What the token is for ("phone"), at most 100 characters.
    #[serde(default)]
    pub name: String,
}

/// Makes a token; the answer is the only time the token itself is shown.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "account", security(("bearer" = [])),
    request_body = NewTokenForm,
    responses(
        (status = 201, description = "The new token", body = NewTokenView),
        (status = 409, description = "Already 50 tokens", body = ErrorBody),
        (status = 422, description = "The name is missing or too long", body = ErrorBody),
    ))]
async fn http_post_token(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(form): ApiJson<NewTokenForm>,
) -> Result<Response, ApiError> {
    let (row, token) = create_token(&state.db, auth.user.id, &form.name).await?;
    let body = NewTokenView {
        id: row.id,
        name: row.name,
        created: row.created_at,
        last_used: row.last_used_at,
        token,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Revokes one of the signed-in person's tokens.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "account",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Row id of the token")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such token of yours", body = ErrorBody),
    ))]
async fn http_delete_token(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    revoke_token(&state.db, auth.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
