//! Activities we receive (`verify` then effects) and the domain events that make us send them.

pub mod account_deletion;
pub mod announce;
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
pub mod votes;
mod withdrawals;
pub mod worker;

pub use crate::outbox::posts::post_published;
pub use follow::{follow_community, unfollow_community};

pub use crate::queue::commit_and_wake;
