//! Activities we receive (`verify` then effects) and the domain events that make us send them.

pub mod follow;
pub mod membership;
pub mod post;

use crate::{queue::inbox::mark_ignored, Data, Error};
use copse_entities::received_activity;
use sea_orm::DatabaseTransaction;
use serde_json::Value;

pub use follow::{follow_community, unfollow_community};
pub use post::post_published;

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
        ("Follow", _) => follow::receive_follow(data, row, serde_json::from_value(json)?).await,
        ("Undo", "Follow" | "") => {
            follow::receive_undo_follow(data, row, serde_json::from_value(json)?).await
        }
        ("Accept", _) => follow::receive_accept(data, row, serde_json::from_value(json)?).await,
        ("Reject", _) => follow::receive_reject(data, row, serde_json::from_value(json)?).await,
        ("Announce", _) => post::receive_announce(data, row, serde_json::from_value(json)?).await,
        ("Create", "Note") => receive_direct_note(data, row, serde_json::from_value(json)?).await,
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

/// A note addressed to a community. A direct one from a pending applicant is their reason for
/// joining; topics and replies are not handled yet.
async fn receive_direct_note(
    data: &Data,
    row: &received_activity::Model,
    create: crate::protocol::CreateNote,
) -> Result<(), Error> {
    if create.actor != row.actor.0 || create.object.attributed_to != create.actor {
        return Err(Error::InvalidActivity(
            "note author is not the signer".into(),
        ));
    }
    let Some(crate::fetch::ActorRef::Person(author)) =
        crate::fetch::cached_actor(&data.db, &create.actor).await?
    else {
        return Err(Error::InvalidActivity("notes are written by people".into()));
    };
    let txn = crate::context::begin(&data.db).await?;
    if membership::take_reason(&txn, &create.object, &author).await? {
        crate::queue::inbox::mark_done(&txn, row.id).await?;
    } else {
        mark_ignored(&txn, row.id, "notes to communities are not handled yet").await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Commits a transaction that queued deliveries, then wakes the delivery workers.
pub async fn commit_and_wake(data: &Data, txn: DatabaseTransaction) -> Result<(), Error> {
    txn.commit().await?;
    data.outbox_wake.notify_one();
    Ok(())
}
