//! Partner communities: `/api/v1/communities/{name}/partners` (who, asking, answering, ending,
//! what is shared by itself), `/from-partners` (their topics and events) and `/shares` (sharing
//! one with the community's followers, or passing over one in the queue).

use super::{
    commands::require,
    communities::link_of,
    community_views::CommunityLink,
    extract::{ApiJson, ApiPath, ApiQuery, AuthUser, PageQuery},
    lookup::{local_community, resolve_community},
    path_params::CommunityName,
    responses::{BadField, NoCommunity, NotCoordinator, OutOfRange},
    views::{counts, post_view, PostItem},
};
use crate::{accounts, error::ApiError, error::ErrorBody, AppState};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Json, Router,
};
use copse_entities::{
    community,
    community_follower::Role,
    partnership::{self, ShareMode},
    post,
};
use copse_federation::{
    actions::partners::{self as actions, PartnerStatus},
    store::partners,
    Data,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// The partner routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/communities/{name}/partners",
            get(http_get_partners)
                .post(http_post_partner)
                .delete(http_delete_partner),
        )
        .route(
            "/api/v1/communities/{name}/partners/requests",
            get(http_get_partner_requests),
        )
        .route(
            "/api/v1/communities/{name}/partners/requests/{id}/{decision}",
            post(http_post_partner_decision),
        )
        .route(
            "/api/v1/communities/{name}/partners/share",
            put(http_put_share_mode),
        )
        .route(
            "/api/v1/communities/{name}/from-partners",
            get(http_get_from_partners),
        )
        .route(
            "/api/v1/communities/{name}/shares",
            get(http_get_shares).post(http_post_share),
        )
}

/// A partnership, seen from the community named in the path.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerView {
    /// Row id (the `{id}` of `.../partners/requests/{id}/approve`).
    pub id: i64,
    /// The other community.
    pub community: CommunityLink,
    /// `follows` (this community follows it) or `followed_by` (it follows this community).
    pub direction: String,
    /// Waiting for an answer.
    pub pending: bool,
    /// What this community shares by itself of what the other publishes (`off`, `queue` or
    /// `auto`; only for those it follows).
    #[schema(value_type = Option<String>)]
    pub share: Option<ShareMode>,
}

/// A community's partnerships.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerList {
    /// Oldest first.
    pub items: Vec<PartnerView>,
}

async fn views(
    data: &Data,
    c: &community::Model,
    rows: Vec<partnership::Model>,
) -> Result<Vec<PartnerView>, ApiError> {
    let others: Vec<i64> = rows
        .iter()
        .map(|p| {
            if p.follower_id == c.id {
                p.followed_id
            } else {
                p.follower_id
            }
        })
        .collect();
    let by_id: HashMap<i64, community::Model> = community::Entity::find()
        .filter(community::Column::Id.is_in(others))
        .all(&data.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|p| {
            let follows = p.follower_id == c.id;
            let other = by_id.get(if follows {
                &p.followed_id
            } else {
                &p.follower_id
            })?;
            Some(PartnerView {
                id: p.id,
                community: link_of(data, other),
                direction: if follows { "follows" } else { "followed_by" }.into(),
                pending: p.pending,
                share: follows.then_some(p.share),
            })
        })
        .collect())
}

/// A community's partners, either way (accepted ones only).
#[utoipa::path(get, path = "/api/v1/communities/{name}/partners", tag = "partners",
    params(CommunityName),
    responses((status = 200, description = "The partnerships", body = PartnerList), NoCommunity))]
async fn http_get_partners(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<PartnerList>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let rows = partners::of(&data.db, &c).await?;
    let rows = rows.into_iter().filter(|p| !p.pending).collect();
    Ok(Json(PartnerList {
        items: views(&data, &c, rows).await?,
    }))
}

/// Requests waiting: communities that asked to partner, and those this one asked (coordinators).
#[utoipa::path(get, path = "/api/v1/communities/{name}/partners/requests", tag = "partners",
    security(("bearer" = [])), params(CommunityName),
    responses((status = 200, description = "The requests", body = PartnerList), NotCoordinator, NoCommunity))]
async fn http_get_partner_requests(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<PartnerList>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "see partner requests").await?;
    let rows = partners::of(&data.db, &c).await?;
    let rows = rows.into_iter().filter(|p| p.pending).collect();
    Ok(Json(PartnerList {
        items: views(&data, &c, rows).await?,
    }))
}

/// Body of `POST .../partners` (and query of `DELETE`).
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PartnerForm {
    /// The other community: `name` here, or `name@domain` on any server.
    pub community: String,
}

/// What came of asking.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerAsked {
    /// The community asked.
    pub community: CommunityLink,
    /// `partners`, or `pending` until it answers.
    pub status: String,
}

/// Asks another community, here or elsewhere, to partner (coordinators): the Group follows it.
#[utoipa::path(post, path = "/api/v1/communities/{name}/partners", tag = "partners",
    security(("bearer" = [])), request_body = PartnerForm, params(CommunityName),
    responses(
        (status = 202, description = "Partners, or waiting", body = PartnerAsked),
        (status = 409, description = "The community itself", body = ErrorBody),
        NotCoordinator, NoCommunity, BadField,
    ))]
async fn http_post_partner(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<PartnerForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "ask partners").await?;
    let other = resolve_community(&data, &form.community).await?;
    let status = actions::ask(&data, &auth.person, &c, &other)
        .await
        .map_err(|e| ApiError::from(e).with_field("community"))?;
    let status = match status {
        PartnerStatus::Partners => "partners",
        PartnerStatus::Pending => "pending",
    };
    let body = PartnerAsked {
        community: link_of(&data, &other),
        status: status.into(),
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// Ends a partnership, both ways (coordinators).
#[utoipa::path(delete, path = "/api/v1/communities/{name}/partners", tag = "partners",
    security(("bearer" = [])), params(CommunityName, PartnerForm),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "No such community or partnership", body = ErrorBody),
        NotCoordinator,
    ))]
async fn http_delete_partner(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiQuery(form): ApiQuery<PartnerForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "end partnerships").await?;
    let other = crate::api::lookup::known_community(&data, &form.community)
        .await?
        .ok_or_else(|| ApiError::not_found("community").with_field("community"))?;
    if actions::end(&data, &auth.person, &c, &other).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("partnership"))
    }
}

/// Accepts or declines a community's request to partner (coordinators).
#[utoipa::path(post, path = "/api/v1/communities/{name}/partners/requests/{id}/{decision}",
    tag = "partners", security(("bearer" = [])),
    params(
        CommunityName,
        ("id" = i64, Path, description = "Row id of the request"),
        ("decision" = String, Path, description = "`approve` or `decline`"),
    ),
    responses(
        (status = 204, description = "Decided"),
        (status = 404, description = "No such community or request", body = ErrorBody),
        NotCoordinator,
    ))]
async fn http_post_partner_decision(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath((name, id, decision)): ApiPath<(String, i64, String)>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "answer partners").await?;
    let accept = match decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return Err(ApiError::not_found("decision")),
    };
    let row = partnership::Entity::find_by_id(id)
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("request"))?;
    actions::decide(&data, &auth.person, &c, &row, accept).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Body of `PUT .../partners/share`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareModeForm {
    /// A partner this community follows: `name` or `name@domain`.
    pub community: String,
    /// `off` (coordinators share one at a time), `queue` (each new topic and event waits for a
    /// coordinator) or `auto` (each is shared at once).
    #[schema(value_type = String)]
    pub share: ShareMode,
}

/// Chooses what is shared by itself of a partner this community follows (coordinators).
#[utoipa::path(put, path = "/api/v1/communities/{name}/partners/share", tag = "partners",
    security(("bearer" = [])), request_body = ShareModeForm, params(CommunityName),
    responses(
        (status = 204, description = "Chosen"),
        (status = 404, description = "No such community or partnership", body = ErrorBody),
        NotCoordinator, BadField,
    ))]
async fn http_put_share_mode(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<ShareModeForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "choose what is shared").await?;
    let other = crate::api::lookup::known_community(&data, &form.community)
        .await?
        .ok_or_else(|| ApiError::not_found("community").with_field("community"))?;
    let row = partners::between(&data.db, c.id, other.id)
        .await?
        .filter(|p| !p.pending)
        .ok_or_else(|| ApiError::not_found("partnership").with_field("community"))?;
    actions::set_share_mode(&data, &row, form.share).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A page of the topics and events of the partners a community follows.
#[derive(Debug, Serialize, ToSchema)]
pub struct FromPartners {
    /// The page.
    pub page: u64,
    /// Newest first; each names its community (`community`, its ActivityPub id).
    pub items: Vec<PostItem>,
}

/// The topics and events of the partners a community follows, newest first.
#[utoipa::path(get, path = "/api/v1/communities/{name}/from-partners", tag = "partners",
    params(CommunityName, PageQuery),
    responses((status = 200, description = "A page", body = FromPartners), NoCommunity, OutOfRange))]
async fn http_get_from_partners(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<FromPartners>, ApiError> {
    let data = state.to_request_data();
    let (page, limit) = q.checked()?;
    let c = local_community(&data, &name).await?;
    let rows = partners::from_partners(&data.db, &c, PageQuery::offset(page, limit), limit).await?;
    Ok(Json(FromPartners {
        page,
        items: items(&data, &rows).await?,
    }))
}

/// The API's view of partners' posts.
pub async fn items(data: &Data, rows: &[post::Model]) -> Result<Vec<PostItem>, ApiError> {
    let communities: HashMap<i64, community::Model> = community::Entity::find()
        .filter(community::Column::Id.is_in(rows.iter().map(|p| p.community_id)))
        .all(&data.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let authors = accounts::people_by_id(&data.db, rows.iter().map(|p| p.author_id)).await?;
    let counted = counts(&data.db, rows).await?;
    Ok(rows
        .iter()
        .filter_map(|p| {
            let c = communities.get(&p.community_id)?;
            Some(post_view(p, c, authors.get(&p.author_id), &counted))
        })
        .collect())
}

/// Body of `POST .../shares`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareForm {
    /// Row id of a partner's topic or event (`local_id`).
    pub post: i64,
    /// `true` (the default) to share it with this community's followers; `false` to pass over
    /// it in the queue.
    #[serde(default)]
    pub share: Option<bool>,
}

/// Shares a topic or event of a partner this community follows with its followers, or passes
/// over one in the queue (coordinators).
#[utoipa::path(post, path = "/api/v1/communities/{name}/shares", tag = "partners",
    security(("bearer" = [])), request_body = ShareForm, params(CommunityName),
    responses(
        (status = 204, description = "Shared (or passed over)"),
        (status = 404, description = "No such community or post", body = ErrorBody),
        (status = 409, description = "A reply, or a post that is gone", body = ErrorBody),
        NotCoordinator,
    ))]
async fn http_post_share(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<ShareForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "share partners' posts").await?;
    let shared = post::Entity::find_by_id(form.post)
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("post").with_field("post"))?;
    let share = form.share.unwrap_or(true);
    actions::share(&data, &auth.person, &c, &shared, share)
        .await
        .map_err(|e| ApiError::from(e).with_field("post"))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The shares waiting for a coordinator.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareQueue {
    /// Oldest first.
    pub items: Vec<PostItem>,
}

/// The partners' topics and events waiting in the queue to be shared (coordinators).
#[utoipa::path(get, path = "/api/v1/communities/{name}/shares", tag = "partners",
    security(("bearer" = [])), params(CommunityName),
    responses((status = 200, description = "The queue", body = ShareQueue), NotCoordinator, NoCommunity))]
async fn http_get_shares(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ShareQueue>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "see the share queue").await?;
    let queued = partners::queued(&data.db, &c).await?;
    let ids: Vec<i64> = queued.iter().map(|s| s.post_id).collect();
    let mut rows = post::Entity::find()
        .filter(post::Column::Id.is_in(ids.clone()))
        .all(&data.db)
        .await?;
    rows.sort_by_key(|p| ids.iter().position(|i| *i == p.id));
    Ok(Json(ShareQueue {
        items: items(&data, &rows).await?,
    }))
}
