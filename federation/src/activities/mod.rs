//! Activities we receive (`verify` then effects) and the domain events that make us send them.

pub mod account_deletion;
pub mod discussion;
pub mod event_forms;
pub mod events;
pub mod follow;
pub mod member_choices;
pub mod membership;
pub mod post;
pub mod profile;
mod refusals;
pub mod remote_moderation;
mod reply_mentions;
pub mod votes;
mod withdrawals;

use crate::{queue::inbox::mark_ignored, Data, Error};
use copse_entities::{community, person, received_activity};
use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait};
use serde_json::Value;

pub use follow::{follow_community, unfollow_community};
pub use post::post_published;

fn from<T: serde::de::DeserializeOwned>(json: Value) -> Result<T, serde_json::Error> {
    serde_json::from_value(json)
}

/// Applies one stored activity. On success its effects and its `done` mark are committed.
pub async fn receive(data: &Data, row: &received_activity::Model) -> Result<(), Error> {
    let json: Value = serde_json::from_str(&row.data)?;
    let inner_kind = json
        .get("object")
        .and_then(|o| o.get("type"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match (row.kind.as_str(), inner_kind.as_str()) {
        ("Follow", _) => follow::receive_follow(data, row, from(json)?).await,
        ("Join", _) => events::receive_join(data, row, from(json)?).await,
        ("Leave", _) => events::receive_leave(data, row, from(json)?).await,
        ("Undo", "Join") => {
            let undo: crate::protocol::Undo = from(json)?;
            events::receive_undo_join(data, row, &undo.actor, &undo.object).await
        }
        ("Accept" | "Reject", "Join") => events::receive_join_answer(data, row, from(json)?).await,
        ("Accept" | "Reject", "") if is_join_answer(data, &json).await? => {
            events::receive_join_answer(data, row, from(json)?).await
        }
        ("Create" | "Update", "Event") => events::receive_event(data, row, from(json)?).await,
        ("Undo", "Like" | "EmojiReact" | "Dislike") => {
            discussion::receive_undo_reaction(data, row, from(json)?).await
        }
        ("Undo", "Lock" | "Delete") => {
            remote_moderation::receive_undo(data, row, from(json)?).await
        }
        ("Undo", "Follow") => follow::receive_undo_follow(data, row, from(json)?).await,
        ("Undo", "") => {
            // Only the id of the undone activity: a reaction or a join we store, or a follow.
            let undo: crate::protocol::Undo = from(json.clone())?;
            match discussion::undone_id(&undo) {
                Some(id) if discussion::is_reaction(&data.db, &id).await? => {
                    discussion::receive_undo_reaction(data, row, undo).await
                }
                Some(id) if events::is_stored_join(&data.db, &id).await? => {
                    events::receive_undo_join(data, row, &undo.actor, &undo.object).await
                }
                _ => follow::receive_undo_follow(data, row, from(json)?).await,
            }
        }
        ("Accept", _) => follow::receive_accept(data, row, from(json)?).await,
        ("Reject", _) => follow::receive_reject(data, row, from(json)?).await,
        ("Announce", _) => post::receive_announce(data, row, from(json)?).await,
        ("Create", "Note" | "Page" | "Article") => {
            discussion::receive_create(data, row, from(json)?).await
        }
        ("Update", "Note" | "Page" | "Article") => {
            discussion::receive_update(data, row, from(json)?).await
        }
        ("Delete", _) => discussion::receive_delete(data, row, from(json)?).await,
        ("Like" | "EmojiReact", _) => discussion::receive_reaction(data, row, from(json)?).await,
        ("Dislike", _) => votes::receive_dislike(data, row, from(json)?).await,
        ("Lock", _) => remote_moderation::receive_lock(data, row, from(json)?).await,
        ("Add" | "Remove", _) => remote_moderation::receive_featured(data, row, from(json)?).await,
        ("Flag", _) => discussion::receive_flag(data, row, from(json)?).await,
        (kind, inner) => {
            let txn = crate::context::begin(&data.db).await?;
            mark_ignored(
                &txn,
                row.id,
                &format!("{kind} of {inner} is not handled yet"),
            )
            .await?;
            txn.commit().await?;
            Ok(())
        }
    }
}

/// An `Accept` or `Reject` naming its object by id only: about an event when the id is a
/// `Join` one of our people sent.
async fn is_join_answer(data: &Data, json: &Value) -> Result<bool, Error> {
    match json
        .get("object")
        .and_then(Value::as_str)
        .and_then(|s| url::Url::parse(s).ok())
    {
        Some(id) => events::is_stored_join(&data.db, &id).await,
        None => Ok(false),
    }
}

/// Commits a transaction that queued deliveries, then wakes the delivery workers.
pub async fn commit_and_wake(data: &Data, txn: DatabaseTransaction) -> Result<(), Error> {
    txn.commit().await?;
    data.outbox_wake.notify_one();
    Ok(())
}

/// The community with this row id.
pub(crate) async fn community_by_id(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<community::Model, Error> {
    community::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

/// The person with this row id.
pub(crate) async fn person_by_id(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<person::Model, Error> {
    person::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}
