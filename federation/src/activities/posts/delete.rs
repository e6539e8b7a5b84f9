//! `Delete` of a post, sent by its author or announced by its community.

use crate::activities::receive::require_signer;
use crate::activities::{
    commit_and_wake,
    receive::{ignore_now, received_json, signer_person},
};
use crate::outbox::announce::announce;
use crate::rules::posting::moderates;
use crate::store::lookup::{community_by_row_id, person_by_row_id};
use crate::store::posts::{post_by_ap_id, tombstone};
use crate::{protocol::ObjectActivity, queue::inbox::mark_done, Data, Error};
use copse_entities::{community, post, received_activity};
use sea_orm::{EntityTrait, Set};

/// `Delete` of a post by its author: kept as a tombstone. Anyone else's `Delete` changes
/// nothing (facilitators remove posts here, through the API).
pub async fn receive_delete(
    data: &Data,
    row: &received_activity::Model,
    delete: ObjectActivity,
) -> Result<(), Error> {
    require_signer(row, &delete.actor, "Delete")?;
    let Some(target) = delete.object.first() else {
        return Err(Error::InvalidActivity("Delete of nothing".into()));
    };
    if target == &delete.actor {
        return crate::activities::account_deletion::receive_account_deletion(data, row, delete)
            .await;
    }
    let Some(existing) = post_by_ap_id(&data.db, target).await? else {
        return ignore_now(data, row, "a deletion of a post not stored here").await;
    };
    let community = community_by_row_id(&data.db, existing.community_id).await?;
    if !community.local && community.ap_id.0 == delete.actor {
        // A remote community is the authority for its own content; it deletes the events it
        // holds itself (Mobilizon, Copse).
        let txn = crate::context::begin(&data.db).await?;
        tombstone(&txn, existing.id).await?;
        mark_done(&txn, row.id).await?;
        txn.commit().await?;
        return Ok(());
    }
    let author = signer_person(data, &delete.actor).await?;
    // Lemmy's moderators remove with a `Delete` carrying a reason, their own posts too.
    let removal = existing.author_id != author.id
        || (delete.summary.is_some() && moderates(&data.db, &community, &author).await?);
    if removal && community.local {
        return crate::activities::remote_moderation::receive_removal(data, row, &delete, target)
            .await;
    }
    if existing.author_id != author.id {
        return Err(Error::Forbidden("only its author deletes a post".into()));
    }
    let txn = crate::context::begin(&data.db).await?;
    tombstone(&txn, existing.id).await?;
    if community.local {
        announce(&txn, data, &community, &received_json(row)?, None, []).await?;
    }
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await
}

/// A community we follow announced a `Delete` of one of its posts: its author's deletion, or a
/// removal by one of its moderators. The community is the authority for its own content.
pub async fn receive_announced_delete(
    data: &Data,
    row: &received_activity::Model,
    community: &community::Model,
    delete: ObjectActivity,
) -> Result<(), Error> {
    let Some(target) = delete.object.first() else {
        return Err(Error::InvalidActivity("Delete of nothing".into()));
    };
    let Some(p) = post_by_ap_id(&data.db, target).await? else {
        return ignore_now(data, row, "a deletion of a post not stored here").await;
    };
    if p.community_id != community.id {
        return Err(Error::Forbidden(
            "a community deletes only its own posts".into(),
        ));
    }
    let author = person_by_row_id(&data.db, p.author_id).await?;
    let txn = crate::context::begin(&data.db).await?;
    // The group deletes the events it holds; for anything else its Delete is a removal.
    let group_event = delete.actor == community.ap_id.0
        && crate::store::events::event_of_post(&txn, p.id)
            .await?
            .is_some();
    if author.ap_id.0 == delete.actor || group_event {
        tombstone(&txn, p.id).await?;
    } else {
        post::Entity::update(post::ActiveModel {
            id: Set(p.id),
            removed: Set(true),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    mark_done(&txn, row.id).await?;
    txn.commit().await?;
    Ok(())
}
