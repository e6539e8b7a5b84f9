//! Activities we receive, one file per activity (grouped by object): each `verify`s, then
//! applies its effects in the inbox worker's transaction (`receive.rs`, `worker.rs`).

pub mod account_deletion;
pub mod announce;
pub mod events;
pub mod flag;
pub mod follow;
pub mod partners;
pub mod posts;
pub mod profile_update;
pub mod reactions;
pub(crate) mod receive;
pub mod remote_moderation;
pub mod votes;
pub mod worker;

pub use crate::queue::commit_and_wake;
