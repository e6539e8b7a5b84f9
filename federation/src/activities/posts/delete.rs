//! `Delete` of a post, sent by its author or announced by its community.

use crate::activities::receive::{
    ignore, received_json, require_signer, signer_person, Applied, Receive, Verified,
};
use crate::outbox::announce::announce;
use crate::rules::posting::moderates;
use crate::store::lookup::{community_by_row_id, person_by_row_id};
use crate::store::posts::{post_by_ap_id, tombstone};
use crate::{protocol::ObjectActivity, Data, Error};
use async_trait::async_trait;
use copse_entities::{community, post, received_activity};
use sea_orm::{DatabaseTransaction, EntityTrait, Set};

/// `Delete` of a post by its author: kept as a tombstone. Anyone else's `Delete` changes
/// nothing (facilitators remove posts here, through the API).
pub async fn verify_delete(
    data: &Data,
    row: &received_activity::Model,
    delete: ObjectActivity,
) -> Result<Verified, Error> {
    require_signer(row, &delete.actor, "Delete")?;
    let Some(target) = delete.object.first().cloned() else {
        return Err(Error::InvalidActivity("Delete of nothing".into()));
    };
    if target == delete.actor {
        return crate::activities::account_deletion::verify_account_deletion(data, delete).await;
    }
    let Some(existing) = post_by_ap_id(&data.db, &target).await? else {
        return ignore("a deletion of a post not stored here");
    };
    let community = community_by_row_id(&data.db, existing.community_id).await?;
    if !community.local && community.ap_id.0 == delete.actor {
        // A remote community is the authority for its own content; it deletes the events it
        // holds itself (Mobilizon, Copse).
        return Verified::apply(Tombstone {
            post: existing,
            announce_in: None,
        });
    }
    let author = signer_person(data, &delete.actor).await?;
    // Lemmy's moderators remove with a `Delete` carrying a reason, their own posts too.
    let removal = existing.author_id != author.id
        || (delete.summary.is_some() && moderates(&data.db, &community, &author).await?);
    if removal && community.local {
        return crate::activities::remote_moderation::verify_removal(data, row, &delete, &target)
            .await;
    }
    if existing.author_id != author.id {
        return Err(Error::Forbidden("only its author deletes a post".into()));
    }
    Verified::apply(Tombstone {
        post: existing,
        announce_in: community.local.then_some(community),
    })
}

/// A post deleted by whoever holds it: kept as a tombstone, the deletion announced by its
/// community when that community is ours.
struct Tombstone {
    post: post::Model,
    announce_in: Option<community::Model>,
}

#[async_trait]
impl Receive for Tombstone {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        tombstone(txn, self.post.id).await?;
        if let Some(c) = &self.announce_in {
            announce(txn, data, c, &received_json(row)?, None, []).await?;
        }
        Ok(Applied::Done)
    }
}

/// A community we follow announced a `Delete` of one of its posts: its author's deletion, or a
/// removal by one of its moderators. The community is the authority for its own content.
pub async fn verify_announced_delete(
    data: &Data,
    community: &community::Model,
    delete: ObjectActivity,
) -> Result<Verified, Error> {
    let Some(target) = delete.object.first() else {
        return Err(Error::InvalidActivity("Delete of nothing".into()));
    };
    let Some(p) = post_by_ap_id(&data.db, target).await? else {
        return ignore("a deletion of a post not stored here");
    };
    if p.community_id != community.id {
        return Err(Error::Forbidden(
            "a community deletes only its own posts".into(),
        ));
    }
    let author = person_by_row_id(&data.db, p.author_id).await?;
    Verified::apply(AnnouncedDelete {
        by_author: author.ap_id.0 == delete.actor,
        by_group: delete.actor == community.ap_id.0,
        post: p,
    })
}

/// A checked announced `Delete`.
struct AnnouncedDelete {
    post: post::Model,
    by_author: bool,
    by_group: bool,
}

#[async_trait]
impl Receive for AnnouncedDelete {
    async fn receive(
        self: Box<Self>,
        _data: &Data,
        _row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let id = self.post.id;
        // The group deletes the events it holds; for anything else its Delete is a removal.
        let group_event = self.by_group
            && crate::store::events::event_of_post(txn, id)
                .await?
                .is_some();
        if self.by_author || group_event {
            tombstone(txn, id).await?;
        } else {
            post::Entity::update(post::ActiveModel {
                id: Set(id),
                removed: Set(true),
                ..Default::default()
            })
            .exec(txn)
            .await?;
        }
        Ok(Applied::Done)
    }
}
