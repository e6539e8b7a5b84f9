//! The checked commands that the API handlers and the pages share, so that a form and a JSON
//! body meet the same rules and the same words: who may (coordinators, facilitators), what a
//! field may hold, then the federation crate's action.

use super::{
    extract::AuthUser,
    fields::check_reason,
    lookup::{community_of, find_post, require_moderator, resolve_handle},
};
use crate::{accounts, error::ApiError};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use copse_entities::{
    community, community_ban, community_follower, community_follower::Role, community_invite,
    moderation_log, person, post,
};
use copse_federation::{
    actions::{bans, membership, posts},
    fetch, Data,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use utoipa::ToSchema;

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

/// Requires at least `min` in the community (instance admins pass); the 403 says who may
/// `what`.
pub async fn require(
    data: &Data,
    c: &community::Model,
    auth: &AuthUser,
    min: Role,
    what: &str,
) -> Result<(), ApiError> {
    if auth.user.admin {
        return Ok(());
    }
    match copse_federation::store::tree::acting_role(&data.db, c, auth.person.id).await? {
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

/// A person by row id, or a 404 naming `person`.
pub async fn person_by_id(data: &Data, id: i64) -> Result<person::Model, ApiError> {
    person::Entity::find_by_id(id)
        .one(&data.db)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))
}

/// A person by handle (fetched when remote); errors name `field`.
pub async fn resolve_person(
    data: &Data,
    handle: &str,
    field: &str,
) -> Result<person::Model, ApiError> {
    match resolve_handle(data, handle, field).await? {
        fetch::ActorRef::Person(p) => Ok(p),
        fetch::ActorRef::Community(_) => Err(ApiError::invalid(
            field,
            "that handle is a community, not a person",
        )),
    }
}

/// A coordinator changes the community's settings (each field checked, the change federated).
pub async fn update_settings(
    data: &Data,
    auth: &AuthUser,
    c: &community::Model,
    form: accounts::CommunitySettings,
) -> Result<community::Model, ApiError> {
    require(data, c, auth, Role::Coordinator, "change settings").await?;
    accounts::update_community(data, c, form, Some(&auth.person)).await
}

/// A coordinator invites someone by handle (errors name `handle`); the invitee.
pub async fn invite(
    data: &Data,
    auth: &AuthUser,
    c: &community::Model,
    handle: &str,
) -> Result<person::Model, ApiError> {
    require(data, c, auth, Role::Coordinator, "invite").await?;
    let invitee = resolve_person(data, handle, "handle").await?;
    membership::invite(data, c, &auth.person, &invitee).await?;
    Ok(invitee)
}

/// The invitations not yet taken up, newest first.
pub async fn pending_invites(
    data: &Data,
    auth: &AuthUser,
    c: &community::Model,
) -> Result<Vec<community_invite::Model>, ApiError> {
    require(data, c, auth, Role::Coordinator, "see invitations").await?;
    Ok(community_invite::Entity::find()
        .filter(community_invite::Column::CommunityId.eq(c.id))
        .order_by_desc(community_invite::Column::Id)
        .limit(500)
        .all(&data.db)
        .await?)
}

/// A coordinator takes back an invitation not yet taken up.
pub async fn revoke_invite(
    data: &Data,
    auth: &AuthUser,
    c: &community::Model,
    id: i64,
) -> Result<(), ApiError> {
    require(data, c, auth, Role::Coordinator, "revoke invitations").await?;
    if membership::revoke_invite(data, c, &auth.person, id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("invitation"))
    }
}

/// The members (or, `pending`, the applicants) of a community with their people, oldest first.
pub async fn members_of(
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

/// A member leaves, or a coordinator removes the member with row id `person`.
pub async fn remove_member(
    data: &Data,
    auth: &AuthUser,
    c: &community::Model,
    person: i64,
) -> Result<(), ApiError> {
    let member = person_by_id(data, person).await?;
    if member.id != auth.person.id {
        require(data, c, auth, Role::Coordinator, "remove members").await?;
    }
    if membership::leave(data, c, &auth.person, &member, None).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("member"))
    }
}

/// A coordinator gives the member with row id `person` a role.
pub async fn change_role(
    data: &Data,
    auth: &AuthUser,
    c: &community::Model,
    person: i64,
    role: Role,
) -> Result<(), ApiError> {
    require(data, c, auth, Role::Coordinator, "change roles").await?;
    let member = person_by_id(data, person).await?;
    membership::set_role(data, c, &auth.person, &member, role)
        .await
        .map_err(|e| match e {
            copse_federation::Error::NotFound => ApiError::not_found("member"),
            e => e.into(),
        })
}

/// A facilitator bans someone whose role is below theirs: the form checked (errors name
/// `handle`, `reason` or `expires_at`), the ban federated; the person banned.
pub async fn ban(
    data: &Data,
    auth: &AuthUser,
    c: &community::Model,
    form: BanForm,
) -> Result<person::Model, ApiError> {
    require(data, c, auth, Role::Facilitator, "ban").await?;
    if form.expires_at.is_some_and(|t| t <= Utc::now()) {
        return Err(ApiError::invalid("expires_at", "must be in the future"));
    }
    if form.reason.as_ref().is_some_and(|r| r.len() > 2000) {
        return Err(ApiError::invalid("reason", "at most 2000 bytes"));
    }
    let target = resolve_person(data, &form.handle, "handle").await?;
    if target.id == auth.person.id {
        return Err(ApiError::invalid("handle", "you cannot ban yourself"));
    }
    if !auth.user.admin {
        let mine = copse_federation::store::tree::acting_role(&data.db, c, auth.person.id).await?;
        let theirs = copse_federation::store::members::role_of(&data.db, c.id, target.id).await?;
        if theirs.is_some_and(|t| Some(t) >= mine) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "you cannot ban someone whose role is not below yours",
            ));
        }
    }
    bans::ban(
        data,
        c,
        &auth.person,
        &target,
        form.reason,
        form.expires_at,
        form.remove_content,
    )
    .await?;
    Ok(target)
}

/// The community's bans with the people banned, newest first.
pub async fn bans_of(
    data: &Data,
    auth: &AuthUser,
    c: &community::Model,
) -> Result<Vec<(community_ban::Model, person::Model)>, ApiError> {
    require(data, c, auth, Role::Facilitator, "see bans").await?;
    let bans = community_ban::Entity::find()
        .filter(community_ban::Column::CommunityId.eq(c.id))
        .order_by_desc(community_ban::Column::Id)
        .limit(1000)
        .all(&data.db)
        .await?;
    let mut people = accounts::people_by_id(&data.db, bans.iter().map(|b| b.person_id)).await?;
    Ok(bans
        .into_iter()
        .filter_map(|b| people.remove(&b.person_id).map(|p| (b, p)))
        .collect())
}

/// A facilitator lifts the ban on the person with row id `person`.
pub async fn lift_ban(
    data: &Data,
    auth: &AuthUser,
    c: &community::Model,
    person: i64,
) -> Result<(), ApiError> {
    require(data, c, auth, Role::Facilitator, "lift bans").await?;
    let target = person_by_id(data, person).await?;
    if bans::unban(data, c, &auth.person, &target).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("ban"))
    }
}

/// Entries of the decision log, newest first, `limit` of them after skipping `offset`.
pub async fn decision_log(
    data: &Data,
    auth: &AuthUser,
    c: &community::Model,
    offset: u64,
    limit: u64,
) -> Result<Vec<moderation_log::Model>, ApiError> {
    require(data, c, auth, Role::Coordinator, "read the decision log").await?;
    Ok(moderation_log::Entity::find()
        .filter(moderation_log::Column::CommunityId.eq(c.id))
        .order_by_desc(moderation_log::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(&data.db)
        .await?)
}

/// What a facilitator does to a post.
#[derive(Debug, Clone)]
pub enum Moderation {
    /// Lock (true) or unlock a topic.
    Lock(bool),
    /// Pin (true) or unpin a topic.
    Pin(bool),
    /// Remove it, saying why (at most 5000 bytes, for the log).
    Remove(Option<String>),
}

/// A facilitator or coordinator of its community locks, pins or removes the post with row id
/// `id`; the post as it was.
pub async fn moderate_post(
    data: &Data,
    auth: &AuthUser,
    id: i64,
    what: Moderation,
) -> Result<post::Model, ApiError> {
    let p = find_post(data, id).await?;
    let c = community_of(data, &p).await?;
    require_moderator(data, &c, auth).await?;
    match what {
        Moderation::Lock(locked) => posts::set_locked(data, &p, &auth.person, locked).await?,
        Moderation::Pin(pinned) => posts::set_pinned(data, &p, &auth.person, pinned).await?,
        Moderation::Remove(reason) => {
            check_reason(&reason)?;
            posts::remove(data, &p, &auth.person, reason).await?
        }
    }
    Ok(p)
}
