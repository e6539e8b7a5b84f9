//! What every received activity's handler needs: the stored activity, its signer as a person,
//! and marking it ignored.

use crate::{
    fetch::{cached_actor, ActorRef},
    queue::inbox::mark_ignored,
    Data, Error,
};
use copse_entities::{person, received_activity};
use serde_json::Value;
use url::Url;

/// The stored activity, as received.
pub fn received_json(row: &received_activity::Model) -> Result<Value, Error> {
    Ok(serde_json::from_str(&row.data)?)
}

/// Marks a received activity ignored, saying why, in a transaction of its own.
pub async fn ignore(data: &Data, row: &received_activity::Model, why: &str) -> Result<(), Error> {
    let txn = crate::context::begin(&data.db).await?;
    mark_ignored(&txn, row.id, why).await?;
    txn.commit().await?;
    Ok(())
}

/// The person who signed an activity; anything else is refused.
pub async fn signer_person(data: &Data, actor: &Url) -> Result<person::Model, Error> {
    match cached_actor(&data.db, actor).await? {
        Some(ActorRef::Person(p)) => Ok(p),
        _ => Err(Error::InvalidActivity(
            "only people post, edit and react".into(),
        )),
    }
}
