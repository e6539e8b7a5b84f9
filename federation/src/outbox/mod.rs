//! What Copse sends, and to whom: built here, queued in `queue`.

pub mod announce;
pub mod events;
pub mod notes;
pub mod partners;
pub mod posts;
pub mod profile;
pub mod reply_mentions;
