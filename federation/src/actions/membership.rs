//! What coordinators and members do about membership here: approve or decline a request,
//! invite, leave or remove someone, change a role. Each is recorded in the moderation log and
//! federated.

use crate::outbox::notes::{add_remove, send_note, to_followers};
use crate::rules::membership::{
    admission::{admit, answer_follow, remove_member},
    choices::has_agreed,
};
use crate::store::{
    members::{coordinators, membership},
    modlog::log,
    notifications::join_decided,
};
use crate::{
    html::escape_html,
    protocol::{Invite, WithContext},
    queue::{commit_and_wake, enqueue},
    Data, Error,
};
use chrono::Utc;
use copse_entities::{
    community::{self},
    community_follower,
    community_follower::Role,
    community_invite, person,
};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, Set,
};

/// A coordinator approves a pending request.
pub async fn approve(
    data: &Data,
    community: &community::Model,
    by: &person::Model,
    applicant: &person::Model,
) -> Result<(), Error> {
    let m = membership(&data.db, community.id, applicant.id)
        .await?
        .filter(|m| m.pending)
        .ok_or(Error::NotFound)?;
    if !has_agreed(community, &m) {
        return Err(Error::Conflict(format!(
            "{} has not agreed to the code of conduct yet",
            applicant.name
        )));
    }
    let txn = crate::context::begin(&data.db).await?;
    admit(&txn, data, community, applicant, &m.follow_id.0).await?;
    join_decided(
        &txn,
        community,
        applicant.id,
        &m.follow_id.0,
        true,
        Some(by.id),
    )
    .await?;
    log(
        &txn,
        community,
        &by.ap_id.0,
        "approve",
        &applicant.ap_id.0,
        m.reason,
    )
    .await?;
    commit_and_wake(data, txn).await
}

/// A coordinator declines a pending request, optionally saying why in a direct note.
pub async fn decline(
    data: &Data,
    community: &community::Model,
    by: &person::Model,
    applicant: &person::Model,
    message: Option<&str>,
) -> Result<(), Error> {
    let m = membership(&data.db, community.id, applicant.id)
        .await?
        .filter(|m| m.pending)
        .ok_or(Error::NotFound)?;
    let txn = crate::context::begin(&data.db).await?;
    community_follower::Entity::delete_by_id(m.id)
        .exec(&txn)
        .await?;
    answer_follow(&txn, data, "Reject", &m.follow_id.0, applicant, community).await?;
    join_decided(
        &txn,
        community,
        applicant.id,
        &m.follow_id.0,
        false,
        Some(by.id),
    )
    .await?;
    if let Some(msg) = message.filter(|m| !m.trim().is_empty()) {
        if !applicant.local {
            let body = format!("<p>{}</p>", escape_html(msg));
            send_note(&txn, data, community, applicant, &body, true).await?;
        }
    }
    log(
        &txn,
        community,
        &by.ap_id.0,
        "decline",
        &applicant.ap_id.0,
        message.map(str::to_string),
    )
    .await?;
    commit_and_wake(data, txn).await
}

/// A coordinator invites an actor: stored, and sent an `Invite` plus a direct note that Mastodon
/// users can read.
pub async fn invite(
    data: &Data,
    community: &community::Model,
    by: &person::Model,
    invitee: &person::Model,
) -> Result<(), Error> {
    let txn = crate::context::begin(&data.db).await?;
    community_invite::Entity::insert(community_invite::ActiveModel {
        id: NotSet,
        community_id: Set(community.id),
        invitee: Set(invitee.ap_id.clone()),
        invited_by: Set(by.id),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            community_invite::Column::CommunityId,
            community_invite::Column::Invitee,
        ])
        .update_column(community_invite::Column::CreatedAt)
        .to_owned(),
    )
    .exec(&txn)
    .await?;
    if !invitee.local {
        let inv = Invite {
            id: data.urls.new_activity("Invite"),
            kind: "Invite".into(),
            actor: community.ap_id.0.clone(),
            object: community.ap_id.0.clone(),
            target: invitee.ap_id.0.clone(),
            to: vec![invitee.ap_id.0.clone()],
        };
        enqueue(
            &txn,
            &data.urls,
            &WithContext::new(inv),
            None,
            true,
            [invitee.inbox.0.clone()],
        )
        .await?;
        let host = community.ap_id.host_str().unwrap_or_default();
        let port = community
            .ap_id
            .port()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let body = format!(
            "<p>You are invited to join {}. Follow @{}@{host}{port} to accept.</p>",
            escape_html(&community.title),
            escape_html(&community.name)
        );
        send_note(&txn, data, community, invitee, &body, true).await?;
    }
    log(
        &txn,
        community,
        &by.ap_id.0,
        "invite",
        &invitee.ap_id.0,
        None,
    )
    .await?;
    commit_and_wake(data, txn).await
}

/// A member leaves, or a coordinator removes them (`by` someone else). Announces `Remove` from
/// the members collection; someone removed by another gets `Reject{Follow}`, which is how
/// Mastodon learns that a follower was removed.
pub async fn leave(
    data: &Data,
    community: &community::Model,
    by: &person::Model,
    member: &person::Model,
    reason: Option<String>,
) -> Result<bool, Error> {
    let Some(m) = membership(&data.db, community.id, member.id).await? else {
        return Ok(false);
    };
    if by.id == member.id
        && m.role == Role::Coordinator
        && coordinators(&data.db, community.id).await? <= 1
    {
        return Err(Error::Conflict(
            "the last coordinator cannot leave; make someone else coordinator first".into(),
        ));
    }
    let txn = crate::context::begin(&data.db).await?;
    remove_member(&txn, data, community, by, member, &m, reason).await?;
    commit_and_wake(data, txn).await?;
    Ok(true)
}

/// A coordinator changes a member's role. Moving in or out of the moderators (facilitator,
/// coordinator) federates as `Add`/`Remove` on the moderators collection, announced.
pub async fn set_role(
    data: &Data,
    community: &community::Model,
    by: &person::Model,
    member: &person::Model,
    role: Role,
) -> Result<(), Error> {
    let m = membership(&data.db, community.id, member.id)
        .await?
        .filter(|m| !m.pending)
        .ok_or(Error::NotFound)?;
    if m.role == role {
        return Ok(());
    }
    if m.role == Role::Coordinator && coordinators(&data.db, community.id).await? <= 1 {
        return Err(Error::Conflict(
            "a community keeps at least one coordinator".into(),
        ));
    }
    let txn = crate::context::begin(&data.db).await?;
    community_follower::Entity::update_many()
        .col_expr(
            community_follower::Column::Role,
            sea_orm::sea_query::Expr::value(role),
        )
        .filter(community_follower::Column::Id.eq(m.id))
        .exec(&txn)
        .await?;
    let was_mod = m.role != Role::Member;
    let is_mod = role != Role::Member;
    if was_mod != is_mod {
        let kind = if is_mod { "Add" } else { "Remove" };
        let activity = add_remove(
            data,
            kind,
            &by.ap_id.0,
            &member.ap_id.0,
            community,
            "moderators",
        );
        to_followers(&txn, data, community, &WithContext::new(activity), None).await?;
    }
    let detail = serde_json::to_value(role)?
        .as_str()
        .unwrap_or_default()
        .to_string();
    log(
        &txn,
        community,
        &by.ap_id.0,
        "role",
        &member.ap_id.0,
        Some(detail),
    )
    .await?;
    commit_and_wake(data, txn).await
}

/// An instance admin hands a local community to a local person: they join if they had not (a
/// pending request is accepted), and become a coordinator. Coordinators already there stay.
pub async fn hand_over(
    data: &Data,
    community: &community::Model,
    by: &person::Model,
    to: &person::Model,
) -> Result<(), Error> {
    if !to.local || !community.local {
        return Err(Error::Forbidden(
            "a community here is handed over to an account here".into(),
        ));
    }
    let m = membership(&data.db, community.id, to.id).await?;
    if m.as_ref().is_none_or(|m| m.pending) {
        let follow_id = match &m {
            Some(m) => m.follow_id.0.clone(),
            None => data.urls.new_activity("Follow"),
        };
        let txn = crate::context::begin(&data.db).await?;
        admit(&txn, data, community, to, &follow_id).await?;
        log(&txn, community, &by.ap_id.0, "approve", &to.ap_id.0, None).await?;
        commit_and_wake(data, txn).await?;
    }
    set_role(data, community, by, to, Role::Coordinator).await
}

/// A coordinator takes back an invitation not yet taken up (row `id` of this community). The
/// invitee was told by `Invite` and a note; nothing is sent now, since no peer acts on
/// `Undo{Invite}` and following the community without the invitation is simply refused.
/// False when there was no such invitation.
pub async fn revoke_invite(
    data: &Data,
    community: &community::Model,
    by: &person::Model,
    id: i64,
) -> Result<bool, Error> {
    let Some(inv) = community_invite::Entity::find_by_id(id)
        .filter(community_invite::Column::CommunityId.eq(community.id))
        .one(&data.db)
        .await?
    else {
        return Ok(false);
    };
    let txn = crate::context::begin(&data.db).await?;
    community_invite::Entity::delete_by_id(inv.id)
        .exec(&txn)
        .await?;
    log(
        &txn,
        community,
        &by.ap_id.0,
        "revoke_invite",
        &inv.invitee.0,
        None,
    )
    .await?;
    commit_and_wake(data, txn).await?;
    Ok(true)
}
