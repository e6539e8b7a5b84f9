//! Bans and the decision log of a community: facilitators ban and lift bans, coordinators read
//! the log of every decision.

use crate::api::{
    commands::{ban, bans_of, decision_log, lift_ban},
    extract::{ApiJson, ApiPath, AuthUser},
    lookup::local_community,
    member_views::{BanList, BanView, BannedView, LogEntry, LogList, PersonView},
    path_params::CommunityName,
    responses::{BadField, NoCommunity, NotCoordinator, NotModerator},
};
use crate::{
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

pub use crate::api::commands::BanForm;

/// Bans someone from the community (facilitators and coordinators).
#[utoipa::path(post, path = "/api/v1/communities/{name}/bans", tag = "membership",
    security(("bearer" = [])), request_body = BanForm,
    params(CommunityName),
    responses(
        (status = 201, description = "Banned", body = BannedView),
        (status = 403, description = "Not allowed to ban them", body = ErrorBody),
        (status = 404, description = "No such community or person", body = ErrorBody),
        BadField,
    ))]
async fn http_post_ban(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<BanForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let target = ban(&data, &auth, &c, form).await?;
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
    params(CommunityName),
    responses(
        (status = 200, description = "The bans", body = BanList),
        NotModerator, NoCommunity,
    ))]
async fn http_get_bans(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<BanList>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let items: Vec<BanView> = bans_of(&data, &auth, &c)
        .await?
        .into_iter()
        .map(|(b, p)| BanView {
            person: PersonView::from(&p),
            reason: b.reason,
            expires_at: b.expires_at,
            since: b.created_at,
        })
        .collect();
    Ok(Json(BanList { items }))
}

/// Lifts a ban (facilitators and coordinators).
#[utoipa::path(delete, path = "/api/v1/communities/{name}/bans/{person}", tag = "membership",
    security(("bearer" = [])),
    params(
        CommunityName,
        ("person" = i64, Path, description = "Row id of the banned person"),
    ),
    responses(
        (status = 204, description = "Lifted"),
        (status = 404, description = "No such community, person or ban", body = ErrorBody),
        NotModerator,
    ))]
async fn http_delete_ban(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath((name, person)): ApiPath<(String, i64)>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    lift_ban(&data, &auth, &c, person).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The community's decision log (coordinators).
#[utoipa::path(get, path = "/api/v1/communities/{name}/log", tag = "membership",
    security(("bearer" = [])),
    params(CommunityName),
    responses(
        (status = 200, description = "The decisions, newest first", body = LogList),
        NotCoordinator, NoCommunity,
    ))]
async fn http_get_log(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<LogList>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let items: Vec<LogEntry> = decision_log(&data, &auth, &c, 0, 500)
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
