//! The membership API: settings, join requests, invitations, the member directory and roles;
//! bans and the decision log in `bans`. Coordinators run the community; facilitators moderate.

use super::{
    commands::{
        change_role, invite, members_of, pending_invites, person_by_id, remove_member, require,
        revoke_invite, update_settings,
    },
    extract::{ApiJson, ApiPath, AuthUser},
    lookup::local_community,
    member_views::{
        InviteList, InviteView, InvitedView, JoinRequestList, JoinRequestView, MemberList,
        MemberView, MembershipView, PersonView, SettingsForm, SettingsView,
    },
    path_params::CommunityName,
    responses::{BadField, NoCommunity, NotCoordinator},
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
    routing::{get, post, put},
    Json, Router,
};
use copse_entities::community_follower::Role;
use copse_federation::{actions::membership, rules::membership::choices as member_choices};
use serde::Deserialize;
use utoipa::ToSchema;

pub mod bans;

/// The membership routes (bans and the decision log in `bans`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/communities/{name}/settings",
            put(http_put_settings),
        )
        .route(
            "/api/v1/communities/{name}/requests",
            get(http_get_requests),
        )
        .route(
            "/api/v1/communities/{name}/requests/{person}/approve",
            post(http_post_approve),
        )
        .route(
            "/api/v1/communities/{name}/requests/{person}/decline",
            post(http_post_decline),
        )
        .route(
            "/api/v1/communities/{name}/invites",
            post(http_post_invite).get(http_get_invites),
        )
        .route(
            "/api/v1/communities/{name}/invites/{id}",
            axum::routing::delete(http_delete_invite),
        )
        .route("/api/v1/communities/{name}/members", get(http_get_members))
        .route(
            "/api/v1/communities/{name}/membership",
            axum::routing::patch(http_patch_membership),
        )
        .route(
            "/api/v1/communities/{name}/members/{person}",
            axum::routing::delete(http_delete_member),
        )
        .route(
            "/api/v1/communities/{name}/members/{person}/role",
            put(http_put_role),
        )
        .merge(bans::router())
}

/// Changes a community's settings (coordinators).
#[utoipa::path(put, path = "/api/v1/communities/{name}/settings", tag = "membership",
    security(("bearer" = [])), request_body = SettingsForm,
    params(CommunityName),
    responses(
        (status = 200, description = "The settings as they now stand", body = SettingsView),
        NotCoordinator, NoCommunity, BadField,
    ))]
async fn http_put_settings(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<accounts::CommunitySettings>,
) -> Result<Json<SettingsView>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let updated = update_settings(&data, &auth, &c, form).await?;
    let rules_version = member_choices::rules_version(&updated);
    Ok(Json(SettingsView {
        id: updated.ap_id,
        title: updated.title,
        summary: updated.summary,
        purpose: updated.purpose,
        rules: updated.rules,
        decision_making: updated.decision_making,
        languages: updated.languages,
        membership_policy: updated.membership_policy,
        welcome_template: updated.welcome_template,
        welcome_mode: updated.welcome_mode,
        topic_policy: updated.topic_policy,
        reply_policy: updated.reply_policy,
        require_rules_agreement: updated.require_rules_agreement,
        rules_version,
        parent: updated.parent_ap_id,
        parent_members_only: updated.parent_members_only,
    }))
}

/// The requests to join waiting for a coordinator.
#[utoipa::path(get, path = "/api/v1/communities/{name}/requests", tag = "membership",
    security(("bearer" = [])),
    params(CommunityName),
    responses(
        (status = 200, description = "The requests, oldest first", body = JoinRequestList),
        NotCoordinator, NoCommunity,
    ))]
async fn http_get_requests(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<JoinRequestList>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "see join requests").await?;
    let current = member_choices::rules_version(&c);
    let items: Vec<JoinRequestView> = members_of(&data, &c, true)
        .await?
        .into_iter()
        .map(|(m, p)| JoinRequestView {
            person: PersonView::from(&p),
            reason: m.reason,
            requested: m.published,
            agreed_to_rules: m.rules_version.as_deref() == Some(current.as_str()),
            rules_agreed_at: m.rules_agreed_at,
            rules_version: m.rules_version,
        })
        .collect();
    Ok(Json(JoinRequestList { items }))
}

/// Approves a request to join (coordinators).
#[utoipa::path(post, path = "/api/v1/communities/{name}/requests/{person}/approve",
    tag = "membership", security(("bearer" = [])),
    params(
        CommunityName,
        ("person" = i64, Path, description = "Row id of the applicant"),
    ),
    responses(
        (status = 204, description = "Approved"),
        (status = 404, description = "No such community, person or request", body = ErrorBody),
        (status = 409, description = "The applicant has not agreed to the rules as they are", body = ErrorBody),
        NotCoordinator,
    ))]
async fn http_post_approve(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath((name, person)): ApiPath<(String, i64)>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "approve members").await?;
    let applicant = person_by_id(&data, person).await?;
    membership::approve(&data, &c, &auth.person, &applicant).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Body of a decline.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineForm {
    /// Sent to the applicant as a direct note.
    #[serde(default)]
    pub message: Option<String>,
}

/// Declines a request to join (coordinators), optionally telling the applicant why.
#[utoipa::path(post, path = "/api/v1/communities/{name}/requests/{person}/decline",
    tag = "membership", security(("bearer" = [])), request_body = DeclineForm,
    params(
        CommunityName,
        ("person" = i64, Path, description = "Row id of the applicant"),
    ),
    responses(
        (status = 204, description = "Declined"),
        (status = 404, description = "No such community, person or request", body = ErrorBody),
        (status = 422, description = "The message is too long", body = ErrorBody),
        NotCoordinator,
    ))]
async fn http_post_decline(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath((name, person)): ApiPath<(String, i64)>,
    ApiJson(form): ApiJson<DeclineForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "decline members").await?;
    if form.message.as_ref().is_some_and(|m| m.len() > 5000) {
        return Err(ApiError::invalid("message", "at most 5000 bytes"));
    }
    let applicant = person_by_id(&data, person).await?;
    membership::decline(&data, &c, &auth.person, &applicant, form.message.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Someone named by handle (`name@domain`) or by local id.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteForm {
    /// `name@domain` of a fediverse account, or a local user's name.
    pub handle: String,
}

/// Invites someone to the community (coordinators).
#[utoipa::path(post, path = "/api/v1/communities/{name}/invites", tag = "membership",
    security(("bearer" = [])), request_body = InviteForm,
    params(CommunityName),
    responses(
        (status = 201, description = "Invited", body = InvitedView),
        (status = 404, description = "No such community or person", body = ErrorBody),
        (status = 422, description = "The handle is not a person", body = ErrorBody),
        NotCoordinator,
    ))]
async fn http_post_invite(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<InviteForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let invitee = invite(&data, &auth, &c, &form.handle).await?;
    Ok((
        StatusCode::CREATED,
        Json(InvitedView {
            invitee: invitee.ap_id,
        }),
    )
        .into_response())
}

/// The invitations not yet taken up, newest first (coordinators).
#[utoipa::path(get, path = "/api/v1/communities/{name}/invites", tag = "membership",
    security(("bearer" = [])),
    params(CommunityName),
    responses(
        (status = 200, description = "The open invitations", body = InviteList),
        NotCoordinator, NoCommunity,
    ))]
async fn http_get_invites(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<InviteList>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let items = pending_invites(&data, &auth, &c)
        .await?
        .into_iter()
        .map(|i| InviteView {
            id: i.id,
            invitee: i.invitee,
            invited: i.created_at,
        })
        .collect();
    Ok(Json(InviteList { items }))
}

/// Takes back an invitation not yet taken up (coordinators).
#[utoipa::path(delete, path = "/api/v1/communities/{name}/invites/{id}", tag = "membership",
    security(("bearer" = [])),
    params(
        CommunityName,
        ("id" = i64, Path, description = "Row id of the invitation"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such community or invitation", body = ErrorBody),
        NotCoordinator,
    ))]
async fn http_delete_invite(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath((name, id)): ApiPath<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    revoke_invite(&data, &auth, &c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The member directory: everyone counts, only those who chose to be listed are shown.
#[utoipa::path(get, path = "/api/v1/communities/{name}/members", tag = "membership",
    params(CommunityName),
    responses(
        (status = 200, description = "The directory", body = MemberList),
        NoCommunity,
    ))]
async fn http_get_members(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<MemberList>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    // Everyone counts; only those who chose to be listed are shown.
    let total = crate::accounts::follower_count(&data.db, c.id).await?;
    let items: Vec<MemberView> = members_of(&data, &c, false)
        .await?
        .into_iter()
        .filter(|(m, _)| m.listed)
        .map(|(m, p)| MemberView {
            person: PersonView::from(&p),
            role: m.role,
            joined: m.published,
        })
        .collect();
    Ok(Json(MemberList {
        total,
        listed: items.len(),
        items,
    }))
}

/// Body of `PATCH /api/v1/communities/{name}/membership`: what a member changes about their
/// own membership.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipForm {
    /// Be listed in the member directory.
    #[serde(default)]
    pub listed: Option<bool>,
}

/// Changes the signed-in person's own membership (being listed in the directory).
#[utoipa::path(patch, path = "/api/v1/communities/{name}/membership", tag = "membership",
    security(("bearer" = [])), request_body = MembershipForm,
    params(CommunityName),
    responses(
        (status = 200, description = "The membership as it now stands", body = MembershipView),
        (status = 404, description = "No such community or membership", body = ErrorBody),
        (status = 422, description = "Nothing to change", body = ErrorBody),
    ))]
async fn http_patch_membership(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<MembershipForm>,
) -> Result<Json<MembershipView>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let Some(listed) = form.listed else {
        return Err(ApiError::invalid("listed", "send listed: true or false"));
    };
    if !member_choices::set_listed(&data.db, c.id, auth.person.id, listed).await? {
        return Err(ApiError::not_found("membership"));
    }
    let m = copse_federation::store::members::membership(&data.db, c.id, auth.person.id)
        .await?
        .ok_or_else(|| ApiError::not_found("membership"))?;
    Ok(Json(MembershipView {
        community: c.ap_id,
        pending: m.pending,
        role: m.role,
        listed: m.listed,
        rules_agreed_at: m.rules_agreed_at,
        rules_version: m.rules_version,
    }))
}

/// Removes a member (coordinators), or leaves (the member themselves).
#[utoipa::path(delete, path = "/api/v1/communities/{name}/members/{person}",
    tag = "membership", security(("bearer" = [])),
    params(
        CommunityName,
        ("person" = i64, Path, description = "Row id of the member"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such community, person or member", body = ErrorBody),
        NotCoordinator,
    ))]
async fn http_delete_member(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath((name, person)): ApiPath<(String, i64)>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    remove_member(&data, &auth, &c, person).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Body of a role change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleForm {
    /// `member`, `facilitator` or `coordinator`.
    #[schema(schema_with = super::schema::role)]
    pub role: Role,
}

/// Changes a member's role (coordinators).
#[utoipa::path(put, path = "/api/v1/communities/{name}/members/{person}/role",
    tag = "membership", security(("bearer" = [])), request_body = RoleForm,
    params(
        CommunityName,
        ("person" = i64, Path, description = "Row id of the member"),
    ),
    responses(
        (status = 204, description = "Changed"),
        (status = 404, description = "No such community, person or member", body = ErrorBody),
        (status = 409, description = "The change would leave no coordinator", body = ErrorBody),
        NotCoordinator,
    ))]
async fn http_put_role(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath((name, person)): ApiPath<(String, i64)>,
    ApiJson(form): ApiJson<RoleForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    change_role(&data, &auth, &c, person, form.role).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
