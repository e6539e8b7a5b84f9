//! Reactions received: `Like` and FEP-c0e0 `EmojiReact`, and their `Undo`.

use crate::activities::receive::require_signer;
use crate::activities::receive::{person_on_post, OnPost};
use crate::activities::{
    commit_and_wake,
    receive::{ignore, received_json, signer_person},
};
use crate::outbox::announce::announce;
use crate::store::lookup::community_by_row_id;
use crate::store::posts::{post_by_ap_id, store_reaction};
use crate::{
    protocol::{ObjectActivity, Undo},
    queue::inbox::mark_done,
    Data, Error,
};
use copse_entities::{post, reaction, received_activity, DbUrl};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use url::Url;

/// The emoji a reaction activity carries: `Like` counts as [`reaction::LIKE`].
fn emoji_of(act: &ObjectActivity) -> Result<String, Error> {
    if act.kind == "Like" {
        return Ok(reaction::LIKE.into());
    }
    let e = act.content.as_deref().map(str::trim).unwrap_or_default();
    if e.is_empty() || e.chars().count() > 32 || e.contains(['<', '>', '&']) {
        return Err(Error::InvalidActivity(
            "EmojiReact without a usable emoji".into(),
        ));
    }
    Ok(e.to_string())
}

/// `Like` or FEP-c0e0 `EmojiReact` of a post we store.
pub async fn receive_reaction(
    data: &Data,
    row: &received_activity::Model,
    act: ObjectActivity,
) -> Result<(), Error> {
    let emoji = emoji_of(&act)?;
    let Some(OnPost {
        person,
        post: p,
        community,
    }) = person_on_post(data, row, &act, "reaction").await?
    else {
        return ignore(data, row, "a reaction to a post not stored here").await;
    };
    let txn = crate::context::begin(&data.db).await?;
    // A Like is also a vote (Lemmy): it replaces the person's Dislike.
    let replaced = act.kind == "Like"
        && super::votes::clear_opposite(&txn, p.id, person.id, reaction::LIKE).await?;
    let stored = store_reaction(&txn, &act.id, p.id, person.id, &emoji).await?;
    if (stored || replaced) && community.local {
        announce(&txn, data, &community, &received_json(row)?, None, []).await?;
    }
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await
}

/// The id of the activity an `Undo` takes back.
pub fn undone_id(undo: &Undo) -> Option<Url> {
    match &undo.object {
        Value::String(s) => Url::parse(s).ok(),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok()),
        _ => None,
    }
}

/// `Undo{Like}` or `Undo{EmojiReact}`: only the person who reacted takes it back.
pub async fn receive_undo_reaction(
    data: &Data,
    row: &received_activity::Model,
    undo: Undo,
) -> Result<(), Error> {
    require_signer(row, &undo.actor, "Undo")?;
    let Some(id) = undone_id(&undo) else {
        return Err(Error::InvalidActivity("Undo of nothing".into()));
    };
    let person = signer_person(data, &undo.actor).await?;
    let mut found = reaction::Entity::find()
        .filter(reaction::Column::ApId.eq(DbUrl(id)))
        .one(&data.db)
        .await?;
    if found.is_none() {
        // Lemmy undoes a vote under another id than the vote's, and as a `Like` whichever way
        // the vote went: match person and post, and the vote or the emoji.
        if let Ok(inner) = serde_json::from_value::<ObjectActivity>(undo.object.clone()) {
            if let Some(p) = match inner.object.first() {
                Some(target) => post_by_ap_id(&data.db, target).await?,
                None => None,
            } {
                found = if super::votes::stored_as(&inner.kind).is_some() {
                    super::votes::vote_of(&data.db, p.id, person.id).await?
                } else if let Ok(emoji) = emoji_of(&inner) {
                    reaction::Entity::find()
                        .filter(reaction::Column::PostId.eq(p.id))
                        .filter(reaction::Column::PersonId.eq(person.id))
                        .filter(reaction::Column::Emoji.eq(emoji))
                        .one(&data.db)
                        .await?
                } else {
                    None
                };
            }
        }
    }
    let Some(r) = found else {
        return ignore(data, row, "no such reaction").await;
    };
    if r.person_id != person.id {
        return Err(Error::Forbidden(
            "only the person who reacted undoes it".into(),
        ));
    }
    let p = post::Entity::find_by_id(r.post_id)
        .one(&data.db)
        .await?
        .ok_or(Error::NotFound)?;
    let community = community_by_row_id(&data.db, p.community_id).await?;
    let txn = crate::context::begin(&data.db).await?;
    reaction::Entity::delete_by_id(r.id).exec(&txn).await?;
    if community.local {
        announce(&txn, data, &community, &received_json(row)?, None, []).await?;
    }
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await
}
