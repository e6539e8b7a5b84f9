//! `Update{Note}`.

use super::verify_authorship;
use crate::activities::receive::{
    ignore, received_json, signer_person, Applied, Receive, Verified,
};
use crate::outbox::announce::announce;
use crate::store::lookup::community_by_row_id;
use crate::store::posts::post_by_ap_id;
use crate::{
    objects::text::{stored_text, tags_of},
    protocol::CreateNote,
    Data, Error,
};
use async_trait::async_trait;
use chrono::Utc;
use copse_entities::{community, post, received_activity, DbUrl};
use sea_orm::{DatabaseTransaction, EntityTrait, Set};

/// `Update{Note}`: the author edited a post we store.
pub async fn verify_update(
    data: &Data,
    row: &received_activity::Model,
    update: CreateNote,
) -> Result<Verified, Error> {
    verify_authorship(row, &update.actor, &update.object)?;
    let author = signer_person(data, &update.actor).await?;
    let note = &update.object;
    let Some(existing) = post_by_ap_id(&data.db, &note.id).await? else {
        return ignore("an edit of a post not stored here");
    };
    if existing.author_id != author.id {
        return Err(Error::Forbidden("only its author edits a post".into()));
    }
    if existing.deleted {
        return ignore("the post was deleted");
    }
    let community = community_by_row_id(&data.db, existing.community_id).await?;
    if crate::store::members::active_ban(&data.db, community.id, author.id)
        .await?
        .is_some()
    {
        return Err(Error::Forbidden("banned from the community".into()));
    }
    Verified::apply(Edit {
        update,
        existing,
        community,
    })
}

/// A checked edit of a post.
struct Edit {
    update: CreateNote,
    existing: post::Model,
    community: community::Model,
}

#[async_trait]
impl Receive for Edit {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let note = &self.update.object;
        let (title, content) = stored_text(note, self.existing.topic_id.is_some());
        post::Entity::update(post::ActiveModel {
            id: Set(self.existing.id),
            title: Set(title),
            content: Set(content),
            source: Set(note.source.as_ref().map(|s| s.content.clone())),
            tags: Set(tags_of(&note.tag)),
            url: Set(note.link().map(DbUrl)),
            updated: Set(Some(note.updated.unwrap_or_else(Utc::now))),
            ..Default::default()
        })
        .exec(txn)
        .await?;
        if self.community.local {
            announce(txn, data, &self.community, &received_json(row)?, None, []).await?;
        }
        Ok(Applied::Done)
    }
}
