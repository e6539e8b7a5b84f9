//! Remote applicants who must agree to the code of conduct, or say why they want to join: the
//! note that asks them, and their direct reply, which may admit them.

use super::admission::{join, JoinOutcome};
use super::choices::{applicant_note, has_agreed, record_agreement, rules_version, set_reason};
use crate::outbox::notes::send_note;
use crate::store::{members::membership, modlog::log};
use crate::{
    fetch::{cached_actor, ActorRef},
    html::sanitize_html,
    protocol::{Note, PUBLIC},
    Data, Error,
};
use copse_entities::{
    activity,
    community::{self, MembershipPolicy},
    community_follower, community_invite, person, DbUrl,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use url::Url;

/// A remote person who may join once they agree to the rules: kept pending, and (the first
/// time) sent the note that asks them to agree.
pub async fn await_agreement(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    person: &person::Model,
    follow_id: &Url,
) -> Result<JoinOutcome, Error> {
    let first_time = membership(txn, c.id, person.id).await?.is_none();
    crate::store::members::upsert_member(
        txn,
        c.id,
        person.id,
        follow_id,
        true,
        community_follower::Role::Member,
    )
    .await?;
    if first_time {
        send_note(txn, data, c, person, &applicant_note(data, c, false), true).await?;
    }
    log(
        txn,
        c,
        &person.ap_id.0,
        "request",
        &person.ap_id.0,
        Some("waiting for agreement to the code of conduct".into()),
    )
    .await?;
    Ok(JoinOutcome::Pending)
}

/// True when `note` answers a note this community sent to `author`.
async fn answers_our_note(
    db: &impl ConnectionTrait,
    c: &community::Model,
    author: &person::Model,
    note: &Note,
) -> Result<bool, Error> {
    let Some(parent) = &note.in_reply_to else {
        return Ok(false);
    };
    let sent = activity::Entity::find()
        .filter(activity::Column::ApId.eq(DbUrl(parent.clone())))
        .filter(activity::Column::Actor.eq(c.ap_id.clone()))
        .one(db)
        .await?;
    let Some(sent) = sent else {
        return Ok(false);
    };
    let doc: serde_json::Value = serde_json::from_str(&sent.data)?;
    Ok(doc
        .get("to")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|to| to.iter().any(|u| u.as_str() == Some(author.ap_id.as_str()))))
}

/// A direct note to a community from someone whose join request is pending: their stated
/// reason for joining (where a coordinator approves members) and, when it answers the note the
/// community sent them, their agreement to the code of conduct, which admits them where no
/// coordinator needs to. Returns true when the note was taken as either.
pub async fn take_reply(
    txn: &impl ConnectionTrait,
    data: &Data,
    note: &Note,
    author: &person::Model,
) -> Result<bool, Error> {
    if note.audience.recipients().any(|u| u.as_str() == PUBLIC) {
        return Ok(false);
    }
    for addressee in note.audience.recipients() {
        let Some(ActorRef::Community(c)) = cached_actor(txn, addressee).await? else {
            continue;
        };
        if !c.local {
            continue;
        }
        let Some(m) = membership(txn, c.id, author.id)
            .await?
            .filter(|m| m.pending)
        else {
            continue;
        };
        let html = sanitize_html(note.content.as_deref().unwrap_or_default());
        let text =
            crate::objects::text::strip_mentions(&crate::objects::text::text_of(&html)).to_string();
        let approval = c.membership_policy == MembershipPolicy::Approval;
        if approval {
            set_reason(txn, c.id, author.id, &text).await?;
            log(
                txn,
                &c,
                &author.ap_id.0,
                "reason",
                &author.ap_id.0,
                Some(text.clone()),
            )
            .await?;
        }
        // "No" in reply to the rules is not agreement.
        let agrees = !has_agreed(&c, &m)
            && answers_our_note(txn, &c, author, note).await?
            && crate::rules::participation::rsvp_intent(&html, &c) != Some(false);
        if agrees {
            record_agreement(txn, &c, author.id).await?;
            log(
                txn,
                &c,
                &author.ap_id.0,
                "agree_rules",
                &author.ap_id.0,
                Some(rules_version(&c)),
            )
            .await?;
            admit_if_free(txn, data, &c, author, &m).await?;
        }
        return Ok(approval || agrees);
    }
    Ok(false)
}

/// Admits someone who has just agreed to the rules, unless a coordinator decides: at once in
/// an open community, and in one that admits by invitation when they were invited.
async fn admit_if_free(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    person: &person::Model,
    m: &community_follower::Model,
) -> Result<(), Error> {
    let detail = match c.membership_policy {
        MembershipPolicy::Approval => return Ok(()),
        MembershipPolicy::Open => None,
        MembershipPolicy::Invite => {
            let invite = community_invite::Entity::find()
                .filter(community_invite::Column::CommunityId.eq(c.id))
                .filter(community_invite::Column::Invitee.eq(person.ap_id.clone()))
                .one(txn)
                .await?;
            let Some(inv) = invite else {
                return Ok(());
            };
            community_invite::Entity::delete_by_id(inv.id)
                .exec(txn)
                .await?;
            Some("invited".to_string())
        }
    };
    join(txn, data, c, person, &m.follow_id.0, detail).await?;
    Ok(())
}
