//! Votes, as Lemmy sends them: `Like` (up) and `Dislike` (down) of a post, one per person. A
//! `Like` is also Mastodon's favourite, so it is stored as the ♥ reaction; a `Dislike`
//! replaces it and is counted as a dislike, not as a reaction. A `Like` replaces a `Dislike` in
//! turn, and an `Undo` of either takes the vote back, whether it names the vote by id or (as
//! Lemmy does) re-sends it under a new id.

use super::receive::{ignore, person_on_post, received_json, Applied, OnPost, Receive, Verified};
use crate::outbox::announce::announce;
use crate::store::posts::store_reaction;
use crate::{protocol::ObjectActivity, Data, Error};
use async_trait::async_trait;
use copse_entities::{reaction, received_activity};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use url::Url;

/// What a vote of this activity type is stored as, if it is a vote.
pub fn stored_as(kind: &str) -> Option<&'static str> {
    match kind {
        "Like" => Some(reaction::LIKE),
        "Dislike" => Some(reaction::DISLIKE),
        _ => None,
    }
}

/// Takes back the person's vote of the other kind on a post, since a person has one vote.
/// True when there was one.
pub(super) async fn clear_opposite(
    db: &impl ConnectionTrait,
    post_id: i64,
    person_id: i64,
    new_vote: &str,
) -> Result<bool, Error> {
    let opposite = if new_vote == reaction::DISLIKE {
        reaction::LIKE
    } else {
        reaction::DISLIKE
    };
    let res = reaction::Entity::delete_many()
        .filter(reaction::Column::PostId.eq(post_id))
        .filter(reaction::Column::PersonId.eq(person_id))
        .filter(reaction::Column::Emoji.eq(opposite))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// The person's vote on a post (♥ or dislike), for an `Undo` that does not name it by id.
pub(super) async fn vote_of(
    db: &impl ConnectionTrait,
    post_id: i64,
    person_id: i64,
) -> Result<Option<reaction::Model>, Error> {
    Ok(reaction::Entity::find()
        .filter(reaction::Column::PostId.eq(post_id))
        .filter(reaction::Column::PersonId.eq(person_id))
        .filter(reaction::Column::Emoji.is_in([reaction::LIKE, reaction::DISLIKE]))
        .one(db)
        .await?)
}

/// `Dislike` of a post we store: replaces the person's `Like`, and is announced like any vote
/// when the community is on this instance.
pub async fn verify_dislike(
    data: &Data,
    row: &received_activity::Model,
    act: ObjectActivity,
) -> Result<Verified, Error> {
    let Some(on) = person_on_post(data, row, &act, "Dislike").await? else {
        return ignore("a vote on a post not stored here");
    };
    Verified::apply(Stored {
        id: act.id,
        emoji: reaction::DISLIKE.into(),
        on,
        replaces_vote: true,
    })
}

/// A checked reaction or vote, to store (and announce, in a local community).
pub(super) struct Stored {
    /// The activity's id.
    pub id: Url,
    /// What it is stored as: an emoji, ♥ for a `Like`, or [`reaction::DISLIKE`].
    pub emoji: String,
    /// Who reacts to which post.
    pub on: OnPost,
    /// A vote (`Like`, `Dislike`) replaces the person's opposite vote.
    pub replaces_vote: bool,
}

#[async_trait]
impl Receive for Stored {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let OnPost {
            person,
            post: p,
            community,
        } = &self.on;
        let replaced =
            self.replaces_vote && clear_opposite(txn, p.id, person.id, &self.emoji).await?;
        let stored = store_reaction(txn, &self.id, p.id, person.id, &self.emoji).await?;
        if (stored || replaced) && community.local {
            announce(txn, data, community, &received_json(row)?, None, []).await?;
        }
        Ok(Applied::Done)
    }
}
