//! A local person's own profile: `PUT /api/v1/me` changes the display name, bio and directory
//! listing; the name, bio, avatar and listing (`discoverable`) federate as `Update{Person}`. The
//! checks here are the ones the settings page uses too.

use super::{
    community_views::ProfileView,
    extract::{ApiJson, AuthUser},
    responses::BadField,
};
use crate::{error::ApiError, markdown::render_markdown, AppState};
use axum::{extract::State, routing::put, Json, Router};
use copse_entities::person;
use copse_federation::actions::profile::{self, AvatarChange, ProfileChange};
use serde::Deserialize;
use utoipa::ToSchema;

/// The profile routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/me", put(http_put_me))
}

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;
/// Longest bio, in bytes of markdown.
pub const MAX_BIO_BYTES: usize = 10_000;

/// Request body of `PUT /api/v1/me`; a field left out keeps its value, an empty one clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileForm {
    /// The name shown instead of the handle, at most 100 characters.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The bio, markdown, at most 10,000 bytes.
    #[serde(default)]
    pub summary: Option<String>,
    /// Listed in the member directories of the communities they belong to.
    #[serde(default)]
    pub discoverable: Option<bool>,
}

/// The change a profile form asks of person `p`, checked: every refusal names its field.
pub fn checked_change(p: &person::Model, form: ProfileForm) -> Result<ProfileChange, ApiError> {
    let display_name = match form.display_name {
        None => p.display_name.clone(),
        Some(n) if n.trim().is_empty() => None,
        Some(n) if n.trim().chars().count() > MAX_DISPLAY_NAME_CHARS => {
            return Err(ApiError::invalid(
                "display_name",
                "display_name must be at most 100 characters",
            ))
        }
        Some(n) => Some(n.trim().to_string()),
    };
    let (summary, summary_source) = match form.summary {
        None => (p.summary.clone(), p.summary_source.clone()),
        Some(s) if s.trim().is_empty() => (None, None),
        Some(s) if s.len() > MAX_BIO_BYTES => {
            return Err(ApiError::invalid(
                "summary",
                "summary must be at most 10000 bytes",
            ))
        }
        Some(s) => (Some(render_markdown(&s)), Some(s)),
    };
    Ok(ProfileChange {
        display_name,
        summary,
        summary_source,
        avatar: AvatarChange::Keep,
        discoverable: form.discoverable,
    })
}

/// The profile as the API shows it.
pub fn profile_view(row: person::Model, admin: bool) -> ProfileView {
    ProfileView {
        name: row.name,
        id: row.ap_id,
        display_name: row.display_name,
        summary: row.summary,
        avatar: row.avatar,
        discoverable: row.discoverable,
        admin,
    }
}

/// Changes the signed-in person's display name, bio and directory listing.
#[utoipa::path(put, path = "/api/v1/me", tag = "account", security(("bearer" = [])),
    request_body = ProfileForm,
    responses(
        (status = 200, description = "The profile as it now stands", body = ProfileView),
        BadField,
    ))]
async fn http_put_me(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(form): ApiJson<ProfileForm>,
) -> Result<Json<ProfileView>, ApiError> {
    let data = state.to_request_data();
    let change = checked_change(&auth.person, form)?;
    let row = profile::update_profile(&data, &auth.person, change).await?;
    Ok(Json(profile_view(row, auth.user.admin)))
}
