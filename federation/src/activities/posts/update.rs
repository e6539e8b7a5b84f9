//! `Update{Note}`.

use super::verify_authorship;
use crate::activities::{
    commit_and_wake,
    receive::{ignore, received_json, signer_person},
};
use crate::outbox::announce::announce;
use crate::store::lookup::community_by_row_id;
use crate::store::posts::post_by_ap_id;
use crate::{
    objects::text::{stored_text, tags_of},
    protocol::CreateNote,
    queue::inbox::mark_done,
    Data, Error,
};
use chrono::Utc;
use copse_entities::{post, received_activity, DbUrl};
use sea_orm::{EntityTrait, Set};

/// `Update{Note}`: the author edited a post we store.
pub async fn receive_update(
    data: &Data,
    row: &received_activity::Model,
    update: CreateNote,
) -> Result<(), Error> {
    verify_authorship(row, &update.actor, &update.object)?;
    let author = signer_person(data, &update.actor).await?;
    let note = &update.object;
    let Some(existing) = post_by_ap_id(&data.db, &note.id).await? else {
        return ignore(data, row, "an edit of a post not stored here").await;
    };
    if existing.author_id != author.id {
        return Err(Error::Forbidden("only its author edits a post".into()));
    }
    if existing.deleted {
        return ignore(data, row, "the post was deleted").await;
    }
    let community = community_by_row_id(&data.db, existing.community_id).await?;
    if crate::store::members::active_ban(&data.db, community.id, author.id)
        .await?
        .is_some()
    {
        return Err(Error::Forbidden("banned from the community".into()));
    }
    let txn = crate::context::begin(&data.db).await?;
    let (title, content) = stored_text(note, existing.topic_id.is_some());
    post::Entity::update(post::ActiveModel {
        id: Set(existing.id),
        title: Set(title),
        content: Set(content),
        source: Set(note.source.as_ref().map(|s| s.content.clone())),
        tags: Set(tags_of(&note.tag)),
        url: Set(note.link().map(DbUrl)),
        updated: Set(Some(note.updated.unwrap_or_else(Utc::now))),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    if community.local {
        announce(&txn, data, &community, &received_json(row)?, None, []).await?;
    }
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await
}
