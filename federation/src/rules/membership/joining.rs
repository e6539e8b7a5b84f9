//! A join request (a remote `Follow`, or a local join) under the community's policy: open,
//! by approval with a stated reason, or by invitation; refused when banned, and in a
//! sub-community that asks for it, to those who are not members of its parent.

use super::admission::{answer_follow, join, JoinOutcome};
use super::agreement::await_agreement;
use super::choices::{
    applicant_note, apply_listing, has_agreed, record_agreement, set_reason, JoinChoices,
};
use crate::outbox::notes::send_note;
use crate::store::{
    members::{active_ban, membership, upsert_member},
    modlog::log,
};
use crate::{html::escape_html, Data, Error};
use copse_entities::{
    community::{self, MembershipPolicy},
    community_follower::Role,
    community_invite, person,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use url::Url;

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
    if !member {
        if let Some(parent) = parent_required(txn, community, person).await? {
            if person.local {
                return Err(Error::Forbidden(format!(
                    "only members of {} may join {}: join it first",
                    parent.title, community.title
                )));
            }
            let body = format!(
                "<p>Only members of {} may join {}. Join it first: {}</p>",
                escape_html(&parent.title),
                escape_html(&community.title),
                escape_html(parent.ap_id.0.as_str())
            );
            send_note(txn, data, community, person, &body, true).await?;
            let why = "not a member of the parent community";
            return refuse(txn, data, community, person, follow_id, why).await;
        }
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
        return refuse(txn, data, community, person, follow_id, "banned").await;
    }
    match community.membership_policy {
        MembershipPolicy::Open if !agreed => {
            await_agreement(txn, data, community, person, follow_id).await
        }
        MembershipPolicy::Open => join(txn, data, community, person, follow_id, None).await,
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
                    let invited = Some("invited".to_string());
                    join(txn, data, community, person, follow_id, invited).await
                }
                None => refuse(txn, data, community, person, follow_id, "not invited").await,
            }
        }
        MembershipPolicy::Approval => {
            let first_time = membership(txn, community.id, person.id).await?.is_none();
            upsert_member(txn, community.id, person.id, follow_id, true, Role::Member).await?;
            crate::store::notifications::join_request(txn, community, person, follow_id).await?;
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

/// The parent community `person` must belong to before joining `community`, when it asks that
/// and they do not (coordinators of a community above it pass).
async fn parent_required(
    txn: &impl ConnectionTrait,
    community: &community::Model,
    person: &person::Model,
) -> Result<Option<community::Model>, Error> {
    if !community.parent_members_only {
        return Ok(None);
    }
    let Some(parent) = crate::store::tree::parent_of(txn, community).await? else {
        return Ok(None);
    };
    let inside = crate::store::tree::acting_role(txn, &parent, person.id)
        .await?
        .is_some();
    Ok((!inside).then_some(parent))
}

/// Refuses a join request: `Reject{Follow}`, and the community's refusal in the moderation log.
async fn refuse(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    person: &person::Model,
    follow_id: &Url,
    why: &str,
) -> Result<JoinOutcome, Error> {
    answer_follow(txn, data, "Reject", follow_id, person, community).await?;
    let (by, who) = (&community.ap_id.0, &person.ap_id.0);
    log(txn, community, by, "refuse", who, Some(why.into())).await?;
    Ok(JoinOutcome::Refused)
}
