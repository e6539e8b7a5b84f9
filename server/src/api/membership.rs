//! The membership API: settings, join requests, invitations, the member directory, roles, bans
//! and the decision log. Coordinators run the community; facilitators moderate.

use super::{
    commands::{
        ban, bans_of, change_role, decision_log, invite, lift_ban, members_of, pending_invites,
        person_by_id, remove_member, require, revoke_invite, update_settings,
    },
    extract::{ApiJson, ApiPath, AuthUser},
    lookup::local_community,
};
use crate::{accounts, error::ApiError, AppState};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Json, Router,
};
use copse_entities::{community_follower::Role, person};
use copse_federation::{actions::membership, rules::membership::choices as member_choices};
use serde::Deserialize;
use serde_json::{json, Value};

/// The membership routes.
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

fn person_json(p: &person::Model) -> Value {
    json!({
        "local_id": p.id,
        "id": p.ap_id,
        "name": p.name,
        "display_name": p.display_name,
        "summary": p.summary,
        "avatar": p.avatar,
        "local": p.local,
        "deleted": p.deleted_at.is_some(),
    })
}

async fn http_put_settings(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<accounts::CommunitySettings>,
) -> Result<Json<Value>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let updated = update_settings(&data, &auth, &c, form).await?;
    Ok(Json(json!({
        "id": updated.ap_id,
        "title": updated.title,
        "summary": updated.summary,
        "purpose": updated.purpose,
        "rules": updated.rules,
        "decision_making": updated.decision_making,
        "languages": updated.languages,
        "membership_policy": updated.membership_policy,
        "welcome_template": updated.welcome_template,
        "welcome_mode": updated.welcome_mode,
        "topic_policy": updated.topic_policy,
        "reply_policy": updated.reply_policy,
        "require_rules_agreement": updated.require_rules_agreement,
        "rules_version": member_choices::rules_version(&updated),
    })))
}

async fn http_get_requests(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "see join requests").await?;
    let items: Vec<Value> = members_of(&data, &c, true)
        .await?
        .into_iter()
        .map(|(m, p)| {
            json!({
                "person": person_json(&p),
                "reason": m.reason,
                "requested": m.published,
                "agreed_to_rules": m.rules_version.as_deref() == Some(&member_choices::rules_version(&c)),
                "rules_agreed_at": m.rules_agreed_at,
                "rules_version": m.rules_version,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

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
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineForm {
    /// Sent to the applicant as a direct note.
    #[serde(default)]
    pub message: Option<String>,
}

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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteForm {
    /// `name@domain` of a fediverse account, or a local user's name.
    pub handle: String,
}

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
        Json(json!({ "invitee": invitee.ap_id })),
    )
        .into_response())
}

async fn http_get_invites(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let items: Vec<Value> = pending_invites(&data, &auth, &c)
        .await?
        .into_iter()
        .map(|i| json!({ "id": i.id, "invitee": i.invitee, "invited": i.created_at }))
        .collect();
    Ok(Json(json!({ "items": items })))
}

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

async fn http_get_members(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    // Everyone counts; only those who chose to be listed are shown.
    let total = crate::accounts::follower_count(&data.db, c.id).await?;
    let items: Vec<Value> = members_of(&data, &c, false)
        .await?
        .into_iter()
        .filter(|(m, _)| m.listed)
        .map(|(m, p)| json!({ "person": person_json(&p), "role": m.role, "joined": m.published }))
        .collect();
    Ok(Json(
        json!({ "total": total, "listed": items.len(), "items": items }),
    ))
}

/// Body of `PATCH /api/v1/communities/{name}/membership`: what a member changes about their
/// own membership.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipForm {
    /// Be listed in the member directory.
    #[serde(default)]
    pub listed: Option<bool>,
}

async fn http_patch_membership(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<MembershipForm>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({
        "community": c.ap_id,
        "pending": m.pending,
        "role": m.role,
        "listed": m.listed,
        "rules_agreed_at": m.rules_agreed_at,
        "rules_version": m.rules_version,
    })))
}

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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleForm {
    /// `member`, `facilitator` or `coordinator`.
    pub role: Role,
}

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

pub use super::commands::BanForm;

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
        Json(json!({ "banned": target.ap_id, "local_id": target.id })),
    )
        .into_response())
}

async fn http_get_bans(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let items: Vec<Value> = bans_of(&data, &auth, &c)
        .await?
        .iter()
        .map(|(b, p)| json!({ "person": person_json(p), "reason": b.reason, "expires_at": b.expires_at, "since": b.created_at }))
        .collect();
    Ok(Json(json!({ "items": items })))
}

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

async fn http_get_log(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let items: Vec<Value> = decision_log(&data, &auth, &c, 0, 500)
        .await?
        .into_iter()
        .map(|l| json!({ "who": l.moderator, "action": l.action, "target": l.target, "reason": l.reason, "when": l.created_at }))
        .collect();
    Ok(Json(json!({ "items": items })))
}
