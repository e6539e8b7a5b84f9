//! Activities we receive (`verify` then effects) and the domain events that make us send them.

pub mod account_deletion;
pub mod announce;
pub mod discussion;
pub mod event_forms;
pub mod events;
pub mod flag;
pub mod follow;
pub mod member_choices;
pub mod membership;
pub mod posts;
pub mod profile;
pub mod reactions;
pub(crate) mod receive;
mod refusals;
pub mod remote_moderation;
mod reply_mentions;
pub mod votes;
mod withdrawals;
pub mod worker;

use crate::{Data, Error};
use sea_orm::DatabaseTransaction;

pub use crate::outbox::posts::post_published;
pub use follow::{follow_community, unfollow_community};

/// Commits a transaction that queued deliveries, then wakes the delivery workers.
pub async fn commit_and_wake(data: &Data, txn: DatabaseTransaction) -> Result<(), Error> {
    txn.commit().await?;
    data.outbox_wake.notify_one();
    Ok(())
}
