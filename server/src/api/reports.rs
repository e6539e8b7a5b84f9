//! The report queue: reporting a post, the reports of a community for its facilitators, and
//! resolving one.

use super::{
    community_views::{ReportList, ReportView, ReportedPost},
    extract::{ApiJson, ApiPath, ApiQuery, AuthUser},
    fields::{check_reason, ReasonForm},
    lookup::{find_post, require_moderator},
    path_params::{CommunityName, PostId},
    responses::{BadField, NoCommunity, NoPost, NotModerator, ReasonTooLong},
    views::author_view,
};
use crate::{
    accounts,
    error::{ApiError, ErrorBody},
    AppState,
};
use axum::{
    extract::State,
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use copse_entities::{
    community, post,
    report::{self, ReportStatus},
};
use copse_federation::actions::posts;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// The report routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/communities/{name}/reports", get(http_get_reports))
        .route("/api/v1/posts/{id}/reports", post(http_post_report))
        .route("/api/v1/reports/{id}/resolve", post(http_post_resolve))
}

/// Request body of `POST /api/v1/reports/{id}/resolve`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveForm {
    /// `resolved` or `dismissed`.
    #[schema(schema_with = super::schema::report_status)]
    pub status: ReportStatus,
    /// What was decided.
    #[serde(default)]
    pub note: Option<String>,
}

/// Query of the report queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `open` (the default), `resolved`, `dismissed` or `all`.
    #[serde(default)]
    pub status: Option<String>,
}

/// Reports a post to its community's facilitators (and, for a remote post, its server).
#[utoipa::path(post, path = "/api/v1/posts/{id}/reports", tag = "moderation",
    security(("bearer" = [])), request_body = ReasonForm,
    params(PostId),
    responses(
        (status = 202, description = "Reported"),
        NoPost, ReasonTooLong,
    ))]
async fn http_post_report(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<ReasonForm>,
) -> Result<StatusCode, ApiError> {
    let data = state.to_request_data();
    check_reason(&form.reason)?;
    let p = find_post(&data, id).await?;
    posts::report_post(&data, &p, &auth.person, form.reason).await?;
    Ok(StatusCode::ACCEPTED)
}

/// A community's reports, for its facilitators and coordinators.
#[utoipa::path(get, path = "/api/v1/communities/{name}/reports", tag = "moderation",
    security(("bearer" = [])),
    params(CommunityName, ReportQuery),
    responses(
        (status = 200, description = "The reports, newest first (at most 200)", body = ReportList),
        (status = 422, description = "Unknown status", body = ErrorBody),
        NotModerator, NoCommunity,
    ))]
async fn http_get_reports(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<ReportList>, ApiError> {
    let data = state.to_request_data();
    let c = accounts::local_community(&data.db, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))?;
    require_moderator(&data, &c, &auth).await?;
    let mut query = report::Entity::find().filter(report::Column::CommunityId.eq(c.id));
    query = match q.status.as_deref().unwrap_or("open") {
        "all" => query,
        "open" => query.filter(report::Column::Status.eq(ReportStatus::Open)),
        "resolved" => query.filter(report::Column::Status.eq(ReportStatus::Resolved)),
        "dismissed" => query.filter(report::Column::Status.eq(ReportStatus::Dismissed)),
        _ => {
            return Err(ApiError::invalid(
                "status",
                "status is open, resolved, dismissed or all",
            ))
        }
    };
    let rows = query
        .order_by_desc(report::Column::Id)
        .limit(200)
        .all(&data.db)
        .await?;
    let posts: HashMap<i64, post::Model> = post::Entity::find()
        .filter(post::Column::Id.is_in(rows.iter().filter_map(|r| r.post_id)))
        .all(&data.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let people = accounts::people_by_id(&data.db, rows.iter().filter_map(|r| r.person_id)).await?;
    let items: Vec<ReportView> = rows
        .iter()
        .map(|r| ReportView {
            id: r.id,
            reporter: r.reporter.clone(),
            reason: r.reason.clone(),
            status: r.status,
            post: r
                .post_id
                .and_then(|id| posts.get(&id))
                .map(|p| ReportedPost {
                    id: p.ap_id.clone(),
                    local_id: p.id,
                    title: p.title.clone(),
                    content: p.content.clone(),
                }),
            person: r.person_id.and_then(|id| people.get(&id)).map(author_view),
            resolver: r.resolver.clone(),
            resolution: r.resolution.clone(),
            created_at: r.created_at,
            resolved_at: r.resolved_at,
        })
        .collect();
    Ok(Json(ReportList { items }))
}

/// Resolves or dismisses a report.
#[utoipa::path(post, path = "/api/v1/reports/{id}/resolve", tag = "moderation",
    security(("bearer" = [])), request_body = ResolveForm,
    params(("id" = i64, Path, description = "Report row id")),
    responses(
        (status = 204, description = "Done"),
        (status = 404, description = "No such report", body = ErrorBody),
        NotModerator, BadField,
    ))]
async fn http_post_resolve(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<ResolveForm>,
) -> Result<StatusCode, ApiError> {
    let data = state.to_request_data();
    if form.status == ReportStatus::Open {
        return Err(ApiError::invalid(
            "status",
            "status is resolved or dismissed",
        ));
    }
    check_reason(&form.note)?;
    let r = report::Entity::find_by_id(id)
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("report"))?;
    let c = community::Entity::find_by_id(r.community_id)
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))?;
    require_moderator(&data, &c, &auth).await?;
    posts::resolve_report(&data, &r, &auth.person, form.status, form.note).await?;
    Ok(StatusCode::NO_CONTENT)
}
