//! The account, communities and follows: `/api/v1/me`, `/api/v1/communities`,
//! `/api/v1/follows`.

use super::{
    community_views::{CommunityLink, CommunityView, FollowView, MeView, SubcommunityList},
    extract::{ApiJson, ApiPath, ApiQuery, AuthUser},
    lookup::{local_community, resolve_community},
    path_params::CommunityName,
    responses::{BadField, NoCommunity},
};
use crate::error::ErrorBody;
use crate::{accounts, accounts::follower_count, error::ApiError, AppState};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use copse_entities::{community, post};
use copse_federation::{
    actions,
    rules::membership::{rules_version, JoinChoices, JoinOutcome},
    store::tree,
    Data,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// The routes of the account, communities and follows.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(http_get_me))
        .route("/api/v1/communities", post(http_post_community))
        .route("/api/v1/communities/{name}", get(http_get_community))
        .route(
            "/api/v1/communities/{name}/subcommunities",
            get(http_get_subcommunities),
        )
        .route(
            "/api/v1/follows",
            post(http_post_follow).delete(http_delete_follow),
        )
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "The account", body = MeView)))]
async fn http_get_me(auth: AuthUser) -> Json<MeView> {
    Json(MeView {
        name: auth.person.name,
        id: auth.person.ap_id,
        admin: auth.user.admin,
    })
}

/// Request body of `POST /api/v1/communities`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunityForm {
    /// Handle.
    pub name: String,
    /// Title.
    pub title: String,
    /// Markdown summary.
    #[serde(default)]
    pub summary: Option<String>,
}

/// Creates a community; its creator becomes its coordinator.
#[utoipa::path(post, path = "/api/v1/communities", tag = "communities",
    security(("bearer" = [])), request_body = CommunityForm,
    responses(
        (status = 201, description = "The new community", body = CommunityView),
        (status = 409, description = "The name is taken", body = ErrorBody),
        BadField,
    ))]
async fn http_post_community(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(form): ApiJson<CommunityForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = accounts::create_community(
        &data,
        accounts::NewCommunity {
            name: form.name,
            title: form.title,
            summary: form.summary,
            owner: Some(auth.person.id),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(community_view(&data, &c).await?)).into_response())
}

async fn community_view(data: &Data, c: &community::Model) -> Result<CommunityView, ApiError> {
    let posts = post::Entity::find()
        .filter(post::Column::CommunityId.eq(c.id))
        .filter(post::Column::TopicId.is_null())
        .count(&data.db)
        .await?;
    Ok(CommunityView {
        id: c.ap_id.clone(),
        name: c.name.clone(),
        handle: format!("{}@{}", c.name, data.settings.domain),
        title: c.title.clone(),
        summary: c.summary.clone(),
        followers: follower_count(&data.db, c.id).await?,
        topics: posts,
        membership_policy: c.membership_policy,
        topic_policy: c.topic_policy,
        reply_policy: c.reply_policy,
        manually_approves_followers: c.manually_approves_followers,
        require_rules_agreement: c.require_rules_agreement,
        rules_version: rules_version(c),
        published: c.published,
        parent: tree::parent_of(&data.db, c)
            .await?
            .map(|p| link_of(data, &p)),
        parent_members_only: c.parent_members_only,
        subcommunities: tree::child_count(&data.db, c).await?,
    })
}

/// How a community is named from another.
pub fn link_of(data: &Data, c: &community::Model) -> CommunityLink {
    let domain = if c.local {
        data.settings.domain.clone()
    } else {
        copse_federation::protocol::domain_of(&c.ap_id.0)
    };
    CommunityLink {
        id: c.ap_id.clone(),
        handle: format!("{}@{domain}", c.name),
        title: c.title.clone(),
        local: c.local,
    }
}

/// The communities that sit under a community of this server.
#[utoipa::path(get, path = "/api/v1/communities/{name}/subcommunities", tag = "communities",
    params(CommunityName),
    responses(
        (status = 200, description = "The communities under it, by title", body = SubcommunityList),
        NoCommunity,
    ))]
async fn http_get_subcommunities(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<SubcommunityList>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let items = tree::children_of(&data.db, &c)
        .await?
        .iter()
        .map(|child| link_of(&data, child))
        .collect();
    Ok(Json(SubcommunityList {
        parent: link_of(&data, &c),
        items,
    }))
}

/// A community of this server.
#[utoipa::path(get, path = "/api/v1/communities/{name}", tag = "communities",
    params(CommunityName),
    responses(
        (status = 200, description = "The community", body = CommunityView),
        NoCommunity,
    ))]
async fn http_get_community(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<CommunityView>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    Ok(Json(community_view(&data, &c).await?))
}

/// Request body of `POST /api/v1/follows` (and query of `DELETE`, which reads `community`).
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FollowForm {
    /// `name@domain` of a community, here or elsewhere.
    pub community: String,
    /// Why you want to join (communities that approve members read it).
    #[serde(default)]
    pub reason: Option<String>,
    /// Be listed in the member directory (communities on this instance); unlisted when absent.
    #[serde(default)]
    pub listed: Option<bool>,
    /// You agree to the code of conduct: must be true where the community asks for it.
    #[serde(default)]
    pub agree_to_rules: Option<bool>,
}

/// Follows (joins) a community, here or elsewhere.
#[utoipa::path(post, path = "/api/v1/follows", tag = "communities",
    security(("bearer" = [])), request_body = FollowForm,
    responses(
        (status = 202, description = "Joined or waiting", body = FollowView),
        (status = 403, description = "The community did not accept you", body = ErrorBody),
        NoCommunity, BadField,
    ))]
async fn http_post_follow(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(form): ApiJson<FollowForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = resolve_community(&data, &form.community).await?;
    if form.reason.as_ref().is_some_and(|r| r.len() > 5000) {
        return Err(ApiError::invalid("reason", "at most 5000 bytes"));
    }
    let agree_to_rules = form.agree_to_rules.unwrap_or(false);
    if c.local && c.require_rules_agreement && !agree_to_rules {
        return Err(ApiError::invalid(
            "agree_to_rules",
            "this community asks you to agree to its code of conduct: read it and send agree_to_rules: true",
        ));
    }
    let choices = JoinChoices {
        reason: form.reason,
        listed: form.listed,
        agree_to_rules,
    };
    let outcome = actions::following::follow_community(&data, &auth.person, &c, choices).await?;
    let status = match outcome {
        JoinOutcome::Joined => "joined",
        JoinOutcome::Pending => "pending",
        JoinOutcome::Refused => {
            return Err(
                ApiError::new(StatusCode::FORBIDDEN, "this community did not accept you")
                    .with_field("community"),
            );
        }
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(FollowView {
            community: c.ap_id,
            pending: outcome == JoinOutcome::Pending,
            status: status.to_string(),
        }),
    )
        .into_response())
}

/// Unfollows (leaves) a community.
#[utoipa::path(delete, path = "/api/v1/follows", tag = "communities",
    security(("bearer" = [])), params(FollowForm),
    responses(
        (status = 204, description = "Left"),
        (status = 404, description = "No such community or follow", body = ErrorBody),
    ))]
async fn http_delete_follow(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(form): ApiQuery<FollowForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = resolve_community(&data, &form.community).await?;
    let left = if c.local {
        actions::membership::leave(&data, &c, &auth.person, &auth.person, None).await?
    } else {
        actions::following::unfollow_community(&data, &auth.person, &c).await?
    };
    if left {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("follow"))
    }
}
