//! Partnerships made here: a coordinator asks another community (here or on any server) to
//! partner, answers a community that asked, ends a partnership, chooses what is shared of a
//! partner's posts, and shares (or passes over) one. The API and the pages check who may; these
//! check what may be.

use crate::outbox::partners::{send_answer, send_follow, send_share, send_undo};
use crate::queue::commit_and_wake;
use crate::store::{modlog::log, partners};
use crate::{Data, Error};
use copse_entities::{
    community::{self, MembershipPolicy},
    partner_share::ShareStatus,
    partnership::{self, ShareMode},
    person, post,
};
use sea_orm::{EntityTrait, Set};

/// Where a request to partner stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerStatus {
    /// Partners.
    Partners,
    /// Waiting for the other community.
    Pending,
}

/// `follower`, a local community, asks `followed` to partner: a local community applies its
/// policy at once (open: partners; otherwise its coordinators decide); a remote one gets the
/// Group's `Follow` and the request waits for its answer.
pub async fn ask(
    data: &Data,
    by: &person::Model,
    follower: &community::Model,
    followed: &community::Model,
) -> Result<PartnerStatus, Error> {
    if !follower.local {
        return Err(Error::InvalidActivity("only a community here asks".into()));
    }
    if follower.id == followed.id {
        return Err(Error::Conflict(
            "a community cannot partner with itself".into(),
        ));
    }
    if let Some(p) = partners::between(&data.db, follower.id, followed.id).await? {
        if !p.pending {
            return Ok(PartnerStatus::Partners);
        }
    }
    let follow_id = data.urls.new_activity("Follow");
    let txn = crate::context::begin(&data.db).await?;
    let status = if followed.local {
        let open = followed.membership_policy == MembershipPolicy::Open;
        partners::upsert(
            &txn,
            follower.id,
            followed.id,
            &follow_id,
            !open,
            Some(by.id),
        )
        .await?;
        let detail = Some(if open { "accepted" } else { "waiting" }.to_string());
        let who = &follower.ap_id.0;
        log(&txn, followed, who, "partner", who, detail).await?;
        if open {
            PartnerStatus::Partners
        } else {
            PartnerStatus::Pending
        }
    } else {
        crate::nodeinfo::learn(data, &followed.ap_id.0).await;
        partners::upsert(
            &txn,
            follower.id,
            followed.id,
            &follow_id,
            true,
            Some(by.id),
        )
        .await?;
        send_follow(&txn, data, follower, followed, &follow_id).await?;
        PartnerStatus::Pending
    };
    let target = &followed.ap_id.0;
    log(&txn, follower, &by.ap_id.0, "ask_partner", target, None).await?;
    commit_and_wake(data, txn).await?;
    Ok(status)
}

/// The coordinators of `followed`, a local community, accept or decline a request to partner.
pub async fn decide(
    data: &Data,
    by: &person::Model,
    followed: &community::Model,
    row: &partnership::Model,
    accept: bool,
) -> Result<(), Error> {
    if row.followed_id != followed.id || !row.pending {
        return Err(Error::NotFound);
    }
    let follower = community::Entity::find_by_id(row.follower_id)
        .one(&data.db)
        .await?
        .ok_or(Error::NotFound)?;
    let txn = crate::context::begin(&data.db).await?;
    if accept {
        partners::accept(&txn, row).await?;
    } else {
        partnership::Entity::delete_by_id(row.id).exec(&txn).await?;
    }
    if !follower.local {
        let kind = if accept { "Accept" } else { "Reject" };
        send_answer(&txn, data, kind, &follower, followed, &row.follow_id.0).await?;
    }
    let action = if accept {
        "accept_partner"
    } else {
        "decline_partner"
    };
    log(&txn, followed, &by.ap_id.0, action, &follower.ap_id.0, None).await?;
    commit_and_wake(data, txn).await?;
    Ok(())
}

/// `c`, a local community, ends its partnership with `other`, in both directions: a follow of a
/// remote community is undone, a remote community's follow is rejected.
pub async fn end(
    data: &Data,
    by: &person::Model,
    c: &community::Model,
    other: &community::Model,
) -> Result<bool, Error> {
    let ours = partners::between(&data.db, c.id, other.id).await?;
    let theirs = partners::between(&data.db, other.id, c.id).await?;
    if ours.is_none() && theirs.is_none() {
        return Ok(false);
    }
    let txn = crate::context::begin(&data.db).await?;
    if let Some(p) = ours {
        partnership::Entity::delete_by_id(p.id).exec(&txn).await?;
        if !other.local {
            send_undo(&txn, data, c, other, &p.follow_id.0).await?;
        }
    }
    if let Some(p) = theirs {
        partnership::Entity::delete_by_id(p.id).exec(&txn).await?;
        if !other.local {
            send_answer(&txn, data, "Reject", other, c, &p.follow_id.0).await?;
        }
    }
    log(&txn, c, &by.ap_id.0, "end_partner", &other.ap_id.0, None).await?;
    commit_and_wake(data, txn).await?;
    Ok(true)
}

/// Chooses what `c` shares by itself of what a partner it follows publishes.
pub async fn set_share_mode(
    data: &Data,
    row: &partnership::Model,
    mode: ShareMode,
) -> Result<(), Error> {
    partnership::Entity::update(partnership::ActiveModel {
        id: Set(row.id),
        share: Set(mode),
        ..Default::default()
    })
    .exec(&data.db)
    .await?;
    Ok(())
}

/// `c` shares a topic or event of a partner it follows with its own followers (`share`), or
/// passes over one waiting in its queue (`!share`). Sharing again changes nothing.
pub async fn share(
    data: &Data,
    by: &person::Model,
    c: &community::Model,
    shared: &post::Model,
    share: bool,
) -> Result<(), Error> {
    if shared.topic_id.is_some() || !shared.visible() {
        return Err(Error::Conflict(
            "only a topic or an event that is still there is shared".into(),
        ));
    }
    let followed = partners::between(&data.db, c.id, shared.community_id)
        .await?
        .is_some_and(|p| !p.pending);
    if !followed {
        return Err(Error::Forbidden(
            "share posts of the partners this community follows".into(),
        ));
    }
    let existing = partners::share_of(&data.db, c.id, shared.id).await?;
    if existing
        .as_ref()
        .is_some_and(|s| s.status == ShareStatus::Shared)
    {
        return Ok(());
    }
    let txn = crate::context::begin(&data.db).await?;
    if share {
        let id = send_share(&txn, data, c, shared).await?;
        let status = ShareStatus::Shared;
        partners::record_share(&txn, c.id, shared.id, status, Some(by.id), Some(&id)).await?;
        log(&txn, c, &by.ap_id.0, "share", &shared.ap_id.0, None).await?;
    } else {
        let status = ShareStatus::Dismissed;
        partners::record_share(&txn, c.id, shared.id, status, Some(by.id), None).await?;
    }
    commit_and_wake(data, txn).await?;
    Ok(())
}
