//! Reactions received: `Like` and FEP-c0e0 `EmojiReact`, and their `Undo`.

use crate::activities::receive::{
    ignore, person_on_post, received_json, require_signer, signer_person, Applied, Receive,
    Verified,
};
use crate::outbox::announce::announce;
use crate::store::lookup::community_by_row_id;
use crate::store::posts::post_by_ap_id;
use crate::{
    protocol::{ObjectActivity, Undo},
    Data, Error,
};
use async_trait::async_trait;
use copse_entities::{community, post, reaction, received_activity, DbUrl};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
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
pub async fn verify_reaction(
    data: &Data,
    row: &received_activity::Model,
    act: ObjectActivity,
) -> Result<Verified, Error> {
    let emoji = emoji_of(&act)?;
    let Some(on) = person_on_post(data, row, &act, "reaction").await? else {
        return ignore("a reaction to a post not stored here");
    };
    // A Like is also a vote (Lemmy): it replaces the person's Dislike.
    Verified::apply(super::votes::Stored {
        replaces_vote: act.kind == "Like",
        id: act.id,
        emoji,
        on,
    })
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
pub async fn verify_undo_reaction(
    data: &Data,
    row: &received_activity::Model,
    undo: Undo,
) -> Result<Verified, Error> {
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
        return ignore("no such reaction");
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
    Verified::apply(UndoReaction {
        reaction: r,
        community,
    })
}

/// A checked `Undo` of a reaction.
struct UndoReaction {
    reaction: reaction::Model,
    community: community::Model,
}

#[async_trait]
impl Receive for UndoReaction {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        reaction::Entity::delete_by_id(self.reaction.id)
            .exec(txn)
            .await?;
        if self.community.local {
            announce(txn, data, &self.community, &received_json(row)?, None, []).await?;
        }
        Ok(Applied::Done)
    }
}
