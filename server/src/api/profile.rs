//! A local person's own profile: `PUT /api/v1/me` changes the display name and bio, which
//! federate as `Update{Person}`.

use super::{
    community_views::ProfileView,
    extract::{ApiJson, AuthUser},
};
use crate::{
    error::{ApiError, ErrorBody},
    markdown::render_markdown,
    AppState,
};
use axum::{extract::State, routing::put, Json, Router};
use copse_federation::actions::profile;
use serde::Deserialize;
use utoipa::ToSchema;

/// The profile routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/me", put(http_put_me))
}

/// Request body of `PUT /api/v1/me`; a field left out keeps its value, an empty one clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileForm {
    /// The name shown instead of the handle, at most 100 characters.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The bio, markdown, at most 10,000 bytes.
    #[serde(default)]
    pub summary: Option<String>,
}

/// Changes the signed-in person's display name and bio.
#[utoipa::path(put, path = "/api/v1/me", tag = "account", security(("bearer" = [])),
    request_body = ProfileForm,
    responses(
        (status = 200, description = "The profile as it now stands", body = ProfileView),
        (status = 422, description = "A field is not acceptable", body = ErrorBody),
    ))]
async fn http_put_me(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(form): ApiJson<ProfileForm>,
) -> Result<Json<ProfileView>, ApiError> {
    let data = state.to_request_data();
    let p = &auth.person;
    let display_name = match form.display_name {
        None => p.display_name.clone(),
        Some(n) if n.trim().is_empty() => None,
        Some(n) if n.trim().chars().count() > 100 => {
            return Err(ApiError::invalid(
                "display_name",
                "display_name must be at most 100 characters",
            ))
        }
        Some(n) => Some(n.trim().to_string()),
    };
    let summary = match form.summary {
        None => p.summary.clone(),
        Some(s) if s.trim().is_empty() => None,
        Some(s) if s.len() > 10_000 => {
            return Err(ApiError::invalid(
                "summary",
                "summary must be at most 10000 bytes",
            ))
        }
        Some(s) => Some(render_markdown(&s)),
    };
    let row = profile::update_profile(&data, p, display_name, summary).await?;
    Ok(Json(ProfileView {
        name: row.name,
        id: row.ap_id,
        display_name: row.display_name,
        summary: row.summary,
        admin: auth.user.admin,
    }))
}
