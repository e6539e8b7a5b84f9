//! Bans and the decision log of a community: facilitators ban and lift bans, coordinators read
//! the log of every decision.

use crate::api::{
    extract::{ApiJson, ApiPath, AuthUser},
    lookup::{local_community, person_by_id, require_role as require, resolve_person},
    member_views::{BanList, BanView, BannedView, LogEntry, LogList, PersonView},
};
use crate::{
    accounts,
    error::{ApiError, ErrorBody},
    AppState,
};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use chrono::{DateTime, Utc};
use copse_entities::{community_ban, community_follower::Role, moderation_log};
use copse_federation::actions::bans;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use utoipa::ToSchema;

/// The routes of bans and the decision log.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/communities/{name}/bans",
            post(http_post_ban).get(http_get_bans),
        )
        .route(
            "/api/v1/communities/{name}/bans/{person}",
            axum::routing::delete(http_delete_ban),
        )
        .route("/api/v1/communities/{name}/log", get(http_get_log))
}

/// Body of a ban.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanForm {
    /// Whom: `name@domain`, or a local user's name.
    pub handle: String,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// When the ban ends (RFC 3339); never when absent.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Also remove their posts in the community.
    #[serde(default)]
    pub remove_content: bool,
}

/// Bans someone from the community (facilitators and coordinators).
#[utoipa::path(post, path = "/api/v1/communities/{name}/bans", tag = "membership",
    security(("bearer" = [])), request_body = BanForm,
    params(("name" = String, Path, description = "Community name")),
    responses(
        (status = 201, description = "Banned", body = BannedView),
        (status = 403, description = "Not allowed to ban them", body = ErrorBody),
        (status = 404, description = "No such community or person", body = ErrorBody),
        (status = 422, description = "A field is not acceptable", body = ErrorBody),
    ))]
async fn http_post_ban(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<BanForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Facilitator, "ban").await?;
    if form.expires_at.is_some_and(|t| t <= Utc::now()) {
        return Err(ApiError::invalid("expires_at", "must be in the future"));
    }
    if form.reason.as_ref().is_some_and(|r| r.len() > 2000) {
        return Err(ApiError::invalid("reason", "at most 2000 bytes"));
    }
    let target = resolve_person(&data, &form.handle, "handle").await?;
    if target.id == auth.person.id {
        return Err(ApiError::invalid("handle", "you cannot ban yourself"));
    }
    if !auth.user.admin {
        let mine =
            copse_federation::store::members::role_of(&data.db, c.id, auth.person.id).await?;
        let theirs = copse_federation::store::members::role_of(&data.db, c.id, target.id).await?;
        if theirs.is_some_and(|t| Some(t) >= mine) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "you cannot ban someone whose role is not below yours",
            ));
        }
    }
    bans::ban(
        &data,
        &c,
        &auth.person,
        &target,
        form.reason,
        form.expires_at,
        form.remove_content,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(BannedView {
            banned: target.ap_id,
            local_id: target.id,
        }),
    )
        .into_response())
}

/// The community's bans (facilitators and coordinators).
#[utoipa::path(get, path = "/api/v1/communities/{name}/bans", tag = "membership",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "Community name")),
    responses(
        (status = 200, description = "The bans", body = BanList),
        (status = 403, description = "Not a facilitator or coordinator", body = ErrorBody),
        (status = 404, description = "No such community", body = ErrorBody),
    ))]
async fn http_get_bans(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<BanList>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Facilitator, "see bans").await?;
    let bans = community_ban::Entity::find()
        .filter(community_ban::Column::CommunityId.eq(c.id))
        .all(&data.db)
        .await?;
    let people = accounts::people_by_id(&data.db, bans.iter().map(|b| b.person_id)).await?;
    let items: Vec<BanView> = bans
        .iter()
        .filter_map(|b| {
            let p = people.get(&b.person_id)?;
            Some(BanView {
                person: PersonView::from(p),
                reason: b.reason.clone(),
                expires_at: b.expires_at,
                since: b.created_at,
            })
        })
        .collect();
    Ok(Json(BanList { items }))
}

/// Lifts a ban (facilitators and coordinators).
#[utoipa::path(delete, path = "/api/v1/communities/{name}/bans/{person}", tag = "membership",
    security(("bearer" = [])),
    params(
        ("name" = String, Path, description = "Community name"),
        ("person" = i64, Path, description = "Row id of the banned person"),
    ),
    responses(
        (status = 204, description = "Lifted"),
        (status = 403, description = "Not a facilitator or coordinator", body = ErrorBody),
        (status = 404, description = "No such community, person or ban", body = ErrorBody),
    ))]
async fn http_delete_ban(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath((name, person)): ApiPath<(String, i64)>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Facilitator, "lift bans").await?;
    let target = person_by_id(&data, person).await?;
    if bans::unban(&data, &c, &auth.person, &target).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("ban"))
    }
}

/// The community's decision log (coordinators).
#[utoipa::path(get, path = "/api/v1/communities/{name}/log", tag = "membership",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "Community name")),
    responses(
        (status = 200, description = "The decisions, newest first", body = LogList),
        (status = 403, description = "Not a coordinator", body = ErrorBody),
        (status = 404, description = "No such community", body = ErrorBody),
    ))]
async fn http_get_log(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<LogList>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "read the decision log").await?;
    let items: Vec<LogEntry> = moderation_log::Entity::find()
        .filter(moderation_log::Column::CommunityId.eq(c.id))
        .order_by_desc(moderation_log::Column::Id)
        .limit(500)
        .all(&data.db)
        .await?
        .into_iter()
        .map(|l| LogEntry {
            who: l.moderator,
            action: l.action,
            target: l.target,
            reason: l.reason,
            when: l.created_at,
        })
        .collect();
    Ok(Json(LogList { items }))
}
