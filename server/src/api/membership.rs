//! The membership API: settings, join requests, invitations, the member directory, roles, bans
//! and the decision log. Coordinators run the community; facilitators moderate.

use super::{
    extract::{ApiJson, ApiPath, AuthUser},
    lookup::{local_community, resolve_handle},
};
use crate::{accounts, error::ApiError, AppState};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Json, Router,
};
use chrono::{DateTime, Utc};
use copse_entities::{
    community, community_ban, community_follower, community_follower::Role, moderation_log, person,
};
use copse_federation::{
    actions::{bans, membership},
    fetch,
    rules::membership::choices as member_choices,
    Data,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
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
        .route("/api/v1/communities/{name}/invites", post(http_post_invite))
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

/// Requires at least `min` in the community (instance admins pass).
async fn require(
    data: &Data,
    c: &community::Model,
    auth: &AuthUser,
    min: Role,
    what: &str,
) -> Result<(), ApiError> {
    if auth.user.admin {
        return Ok(());
    }
    match copse_federation::store::members::role_of(&data.db, c.id, auth.person.id).await? {
        Some(r) if r >= min => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "only {} may {what}",
                if min == Role::Coordinator {
                    "coordinators"
                } else {
                    "facilitators and coordinators"
                }
            ),
        )),
    }
}

async fn person_by_id(data: &Data, id: i64) -> Result<person::Model, ApiError> {
    person::Entity::find_by_id(id)
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))
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
    require(&data, &c, &auth, Role::Coordinator, "change settings").await?;
    let updated = accounts::update_community(&data, &c, form, Some(&auth.person)).await?;
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

async fn members_of(
    data: &Data,
    c: &community::Model,
    pending: bool,
) -> Result<Vec<(community_follower::Model, person::Model)>, ApiError> {
    let rows = community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(c.id))
        .filter(community_follower::Column::Pending.eq(pending))
        .order_by_asc(community_follower::Column::Id)
        .limit(1000)
        .all(&data.db)
        .await?;
    let mut people = accounts::people_by_id(&data.db, rows.iter().map(|m| m.person_id)).await?;
    Ok(rows
        .into_iter()
        .filter_map(|m| people.remove(&m.person_id).map(|p| (m, p)))
        .collect())
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

async fn resolve_person(data: &Data, handle: &str, field: &str) -> Result<person::Model, ApiError> {
    match resolve_handle(data, handle, field).await? {
        fetch::ActorRef::Person(p) => Ok(p),
        fetch::ActorRef::Community(_) => Err(ApiError::invalid(
            field,
            "that handle is a community, not a person",
        )),
    }
}

async fn http_post_invite(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<InviteForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "invite").await?;
    let invitee = resolve_person(&data, &form.handle, "handle").await?;
    membership::invite(&data, &c, &auth.person, &invitee).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "invitee": invitee.ap_id })),
    )
        .into_response())
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
    let member = person_by_id(&data, person).await?;
    if member.id != auth.person.id {
        require(&data, &c, &auth, Role::Coordinator, "remove members").await?;
    }
    if membership::leave(&data, &c, &auth.person, &member, None).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("member"))
    }
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
    require(&data, &c, &auth, Role::Coordinator, "change roles").await?;
    let member = person_by_id(&data, person).await?;
    membership::set_role(&data, &c, &auth.person, &member, form.role)
        .await
        .map_err(|e| match e {
            copse_federation::Error::NotFound => ApiError::not_found("member"),
            e => e.into(),
        })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Body of a ban.
#[derive(Debug, Deserialize)]
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
    require(&data, &c, &auth, Role::Facilitator, "see bans").await?;
    let bans = community_ban::Entity::find()
        .filter(community_ban::Column::CommunityId.eq(c.id))
        .all(&data.db)
        .await?;
    let people = accounts::people_by_id(&data.db, bans.iter().map(|b| b.person_id)).await?;
    let items: Vec<Value> = bans
        .iter()
        .filter_map(|b| {
            let p = people.get(&b.person_id)?;
            Some(json!({ "person": person_json(p), "reason": b.reason, "expires_at": b.expires_at, "since": b.created_at }))
        })
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
    require(&data, &c, &auth, Role::Facilitator, "lift bans").await?;
    let target = person_by_id(&data, person).await?;
    if bans::unban(&data, &c, &auth.person, &target).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("ban"))
    }
}

async fn http_get_log(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    require(&data, &c, &auth, Role::Coordinator, "read the decision log").await?;
    let items: Vec<Value> = moderation_log::Entity::find()
        .filter(moderation_log::Column::CommunityId.eq(c.id))
        .order_by_desc(moderation_log::Column::Id)
        .limit(500)
        .all(&data.db)
        .await?
        .into_iter()
        .map(|l| json!({ "who": l.moderator, "action": l.action, "target": l.target, "reason": l.reason, "when": l.created_at }))
        .collect();
    Ok(Json(json!({ "items": items })))
}
