//! Membership of communities: joining under each policy, approval with a stated reason,
//! invitations, roles, welcomes, removal and bans, each recorded in the moderation log and
//! federated.
//!
//! Following a community is asking to join it. Members are rows of `community_follower`.

use super::{
    commit_and_wake,
    member_choices::{
        applicant_note, apply_listing, await_agreement, has_agreed, record_agreement, JoinChoices,
    },
};
use crate::outbox::notes::{add_remove, send_note, to_followers};
use crate::store::{
    members::{active_ban, coordinators, membership, upsert_member},
    modlog::log,
};
use crate::{
    html::escape_html,
    objects::public,
    protocol::{AcceptFollow, Block, Follow, IdOr, Invite, Undo, WithContext},
    queue::enqueue,
    Data, Error,
};
use chrono::{DateTime, Utc};
use copse_entities::{
    community::{self, MembershipPolicy, WelcomeMode},
    community_ban, community_follower,
    community_follower::Role,
    community_invite, person, DbUrl,
};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait,
    QueryFilter, Set,
};
use serde_json::json;
use url::Url;

/// What a join request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinOutcome {
    /// Now a member.
    Joined,
    /// Waiting for a coordinator.
    Pending,
    /// Refused: not invited, or banned.
    Refused,
}

fn follow_of(follow_id: &Url, person: &person::Model, community: &community::Model) -> Follow {
    Follow {
        id: follow_id.clone(),
        kind: "Follow".into(),
        actor: person.ap_id.0.clone(),
        object: community.ap_id.0.clone(),
        to: Vec::new(),
    }
}

/// Answers a remote follow with `Accept` or `Reject` (plain URLs in the embedded Follow: Lemmy
/// rejects whole actors there).
async fn answer_follow(
    txn: &impl ConnectionTrait,
    data: &Data,
    kind: &str,
    follow_id: &Url,
    person: &person::Model,
    community: &community::Model,
) -> Result<(), Error> {
    if person.local {
        return Ok(());
    }
    let answer = AcceptFollow {
        id: data.urls.new_activity(kind),
        kind: kind.into(),
        actor: community.ap_id.0.clone(),
        object: IdOr::Object(Box::new(follow_of(follow_id, person, community))),
        to: vec![person.ap_id.0.clone()],
    };
    let json = serde_json::to_value(WithContext::new(answer))?;
    enqueue(txn, &data.urls, &json, None, true, [person.inbox.0.clone()]).await?;
    Ok(())
}

/// The default welcome, used when the coordinators set none.
pub const DEFAULT_WELCOME: &str =
    "Welcome to {title}, {name}! Please read our code of conduct: {rules}";

/// Makes someone a member: stores the row, answers their follow, welcomes them and announces
/// `Add` to the members collection.
pub async fn admit(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    person: &person::Model,
    follow_id: &Url,
) -> Result<(), Error> {
    let role = match membership(txn, community.id, person.id).await? {
        Some(m) => m.role,
        None => Role::Member,
    };
    upsert_member(txn, community.id, person.id, follow_id, false, role).await?;
    answer_follow(txn, data, "Accept", follow_id, person, community).await?;
    welcome(txn, data, community, person).await?;
    let add = add_remove(
        data,
        "Add",
        &community.ap_id.0,
        &person.ap_id.0,
        community,
        "members",
    )?;
    to_followers(txn, data, community, add, None).await
}

async fn welcome(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    person: &person::Model,
) -> Result<(), Error> {
    if community.welcome_mode == WelcomeMode::Off {
        return Ok(());
    }
    let rules_url = data.urls.community_part(&community.name, "rules");
    let template = community
        .welcome_template
        .as_deref()
        .unwrap_or(DEFAULT_WELCOME);
    let text = escape_html(template)
        .replace("{title}", &escape_html(&community.title))
        .replace(
            "{name}",
            &escape_html(person.display_name.as_deref().unwrap_or(&person.name)),
        )
        .replace(
            "{rules}",
            &format!("<a href=\"{0}\">{0}</a>", escape_html(rules_url.as_str())),
        );
    let body = format!("<p>{text}</p>");
    send_note(
        txn,
        data,
        community,
        person,
        &body,
        community.welcome_mode == WelcomeMode::Direct,
    )
    .await
}

/// Handles a join request (a remote `Follow`, or a local join) by the community's policy, and
/// records what the person chose: to be listed, and their agreement to the rules.
pub async fn request_join(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    person: &person::Model,
    follow_id: &Url,
    choices: &JoinChoices,
) -> Result<JoinOutcome, Error> {
    let existing = membership(txn, community.id, person.id).await?;
    let agreed = !community.require_rules_agreement
        || choices.agree_to_rules
        || existing.as_ref().is_some_and(|m| has_agreed(community, m));
    let member = existing.as_ref().is_some_and(|m| !m.pending);
    if person.local && !agreed && !member {
        return Err(Error::Forbidden(
            "agree to the code of conduct to join".into(),
        ));
    }
    let reason = choices.reason.clone();
    let outcome = decide_join(txn, data, community, person, follow_id, reason, agreed).await?;
    if outcome != JoinOutcome::Refused {
        if choices.agree_to_rules && community.require_rules_agreement {
            record_agreement(txn, community, person.id).await?;
        }
        apply_listing(txn, community.id, person, choices.listed).await?;
    }
    Ok(outcome)
}

/// The community's policy applied to a join request; `agreed` when the person agreed to the
/// rules or need not.
async fn decide_join(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    person: &person::Model,
    follow_id: &Url,
    reason: Option<String>,
    agreed: bool,
) -> Result<JoinOutcome, Error> {
    if let Some(existing) = membership(txn, community.id, person.id).await? {
        if !existing.pending {
            // Already a member: answer again (their server may have missed it), nothing else.
            upsert_member(
                txn,
                community.id,
                person.id,
                follow_id,
                false,
                existing.role,
            )
            .await?;
            answer_follow(txn, data, "Accept", follow_id, person, community).await?;
            return Ok(JoinOutcome::Joined);
        }
    }
    if active_ban(txn, community.id, person.id).await?.is_some() {
        answer_follow(txn, data, "Reject", follow_id, person, community).await?;
        log(
            txn,
            community,
            &community.ap_id.0,
            "refuse",
            &person.ap_id.0,
            Some("banned".into()),
        )
        .await?;
        return Ok(JoinOutcome::Refused);
    }
    match community.membership_policy {
        MembershipPolicy::Open if !agreed => {
            await_agreement(txn, data, community, person, follow_id).await
        }
        MembershipPolicy::Open => {
            admit(txn, data, community, person, follow_id).await?;
            log(
                txn,
                community,
                &person.ap_id.0,
                "join",
                &person.ap_id.0,
                None,
            )
            .await?;
            Ok(JoinOutcome::Joined)
        }
        MembershipPolicy::Invite => {
            let invite = community_invite::Entity::find()
                .filter(community_invite::Column::CommunityId.eq(community.id))
                .filter(community_invite::Column::Invitee.eq(person.ap_id.clone()))
                .one(txn)
                .await?;
            match invite {
                // The invitation is kept until they agree.
                Some(_) if !agreed => {
                    await_agreement(txn, data, community, person, follow_id).await
                }
                Some(inv) => {
                    community_invite::Entity::delete_by_id(inv.id)
                        .exec(txn)
                        .await?;
                    admit(txn, data, community, person, follow_id).await?;
                    log(
                        txn,
                        community,
                        &person.ap_id.0,
                        "join",
                        &person.ap_id.0,
                        Some("invited".into()),
                    )
                    .await?;
                    Ok(JoinOutcome::Joined)
                }
                None => {
                    answer_follow(txn, data, "Reject", follow_id, person, community).await?;
                    log(
                        txn,
                        community,
                        &community.ap_id.0,
                        "refuse",
                        &person.ap_id.0,
                        Some("not invited".into()),
                    )
                    .await?;
                    Ok(JoinOutcome::Refused)
                }
            }
        }
        MembershipPolicy::Approval => {
            let first_time = membership(txn, community.id, person.id).await?.is_none();
            upsert_member(txn, community.id, person.id, follow_id, true, Role::Member).await?;
            if let Some(r) = reason {
                set_reason(txn, community.id, person.id, &r).await?;
            } else if first_time && !person.local {
                let body = applicant_note(data, community, true);
                send_note(txn, data, community, person, &body, true).await?;
            }
            log(
                txn,
                community,
                &person.ap_id.0,
                "request",
                &person.ap_id.0,
                None,
            )
            .await?;
            Ok(JoinOutcome::Pending)
        }
    }
}

pub(super) async fn set_reason(
    db: &impl ConnectionTrait,
    community_id: i64,
    person_id: i64,
    reason: &str,
) -> Result<(), Error> {
    let text: String = reason.chars().take(5000).collect();
    community_follower::Entity::update_many()
        .col_expr(
            community_follower::Column::Reason,
            sea_orm::sea_query::Expr::value(Some(text)),
        )
        .filter(community_follower::Column::CommunityId.eq(community_id))
        .filter(community_follower::Column::PersonId.eq(person_id))
        .exec(db)
        .await?;
    Ok(())
}

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
        let json = serde_json::to_value(WithContext::new(inv))?;
        enqueue(
            &txn,
            &data.urls,
            &json,
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

/// Ends a membership inside the caller's transaction (see `leave`).
pub async fn remove_member(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    by: &person::Model,
    member: &person::Model,
    m: &community_follower::Model,
    reason: Option<String>,
) -> Result<(), Error> {
    community_follower::Entity::delete_by_id(m.id)
        .exec(txn)
        .await?;
    let removed_by_other = by.id != member.id;
    if removed_by_other {
        answer_follow(txn, data, "Reject", &m.follow_id.0, member, community).await?;
    }
    if !m.pending {
        let remove = add_remove(
            data,
            "Remove",
            &community.ap_id.0,
            &member.ap_id.0,
            community,
            "members",
        )?;
        to_followers(txn, data, community, remove, None).await?;
    }
    let action = match (removed_by_other, m.pending) {
        (true, _) => "remove",
        (false, true) => "withdraw",
        (false, false) => "leave",
    };
    log(txn, community, &by.ap_id.0, action, &member.ap_id.0, reason).await
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
        )?;
        to_followers(&txn, data, community, activity, None).await?;
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

/// A facilitator bans someone: `Block` with the community as target, announced; their
/// membership ends, and optionally their posts in the community are removed.
pub async fn ban(
    data: &Data,
    community: &community::Model,
    by: &person::Model,
    target: &person::Model,
    reason: Option<String>,
    expires: Option<DateTime<Utc>>,
    remove_content: bool,
) -> Result<(), Error> {
    let block = Block {
        id: data.urls.new_activity("Block"),
        kind: "Block".into(),
        actor: by.ap_id.0.clone(),
        object: target.ap_id.0.clone(),
        target: community.ap_id.0.clone(),
        summary: reason.clone(),
        end_time: expires,
        remove_data: Some(remove_content),
        to: vec![public()],
        cc: vec![community.ap_id.0.clone()],
        audience: Some(community.ap_id.0.clone()),
    };
    let txn = crate::context::begin(&data.db).await?;
    community_ban::Entity::insert(community_ban::ActiveModel {
        id: NotSet,
        community_id: Set(community.id),
        person_id: Set(target.id),
        reason: Set(reason.clone()),
        expires_at: Set(expires),
        banned_by: Set(by.id),
        block_id: Set(DbUrl(block.id.clone())),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            community_ban::Column::CommunityId,
            community_ban::Column::PersonId,
        ])
        .update_columns([
            community_ban::Column::Reason,
            community_ban::Column::ExpiresAt,
            community_ban::Column::BannedBy,
            community_ban::Column::BlockId,
            community_ban::Column::CreatedAt,
        ])
        .to_owned(),
    )
    .exec(&txn)
    .await?;
    if let Some(m) = membership(&txn, community.id, target.id).await? {
        community_follower::Entity::delete_by_id(m.id)
            .exec(&txn)
            .await?;
        answer_follow(&txn, data, "Reject", &m.follow_id.0, target, community).await?;
    }
    if remove_content {
        // Removed rather than deleted rows: threads keep their shape, reports their post, and
        // the Block's `removeData` tells other servers to remove their copies too.
        copse_entities::post::Entity::update_many()
            .col_expr(
                copse_entities::post::Column::Removed,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(copse_entities::post::Column::CommunityId.eq(community.id))
            .filter(copse_entities::post::Column::AuthorId.eq(target.id))
            .exec(&txn)
            .await?;
    }
    let json = serde_json::to_value(WithContext::new(block))?;
    to_followers(&txn, data, community, json, Some(target)).await?;
    super::withdrawals::refuse_banned(&txn, data, community, target).await?;
    log(&txn, community, &by.ap_id.0, "ban", &target.ap_id.0, reason).await?;
    commit_and_wake(data, txn).await
}

/// Lifts a ban: `Undo{Block}`, announced.
pub async fn unban(
    data: &Data,
    community: &community::Model,
    by: &person::Model,
    target: &person::Model,
) -> Result<bool, Error> {
    let Some(b) = community_ban::Entity::find()
        .filter(community_ban::Column::CommunityId.eq(community.id))
        .filter(community_ban::Column::PersonId.eq(target.id))
        .one(&data.db)
        .await?
    else {
        return Ok(false);
    };
    // The undone Block is the one that was sent, by the moderator who sent it.
    let blocker = person::Entity::find_by_id(b.banned_by)
        .one(&data.db)
        .await?
        .map(|p| p.ap_id)
        .unwrap_or_else(|| by.ap_id.clone());
    let txn = crate::context::begin(&data.db).await?;
    community_ban::Entity::delete_by_id(b.id).exec(&txn).await?;
    let undo = Undo {
        id: data.urls.new_activity("Undo"),
        kind: "Undo".into(),
        actor: by.ap_id.0.clone(),
        object: json!({
            "id": b.block_id, "type": "Block", "actor": blocker, "object": target.ap_id,
            "target": community.ap_id, "to": [crate::protocol::PUBLIC], "cc": [community.ap_id],
            "audience": community.ap_id
        }),
        to: vec![public()],
        cc: vec![community.ap_id.0.clone()],
    };
    let json = serde_json::to_value(WithContext::new(undo))?;
    to_followers(&txn, data, community, json, Some(target)).await?;
    log(&txn, community, &by.ap_id.0, "unban", &target.ap_id.0, None).await?;
    commit_and_wake(data, txn).await?;
    Ok(true)
}
