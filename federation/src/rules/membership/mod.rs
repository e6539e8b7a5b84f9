//! Membership of communities, shared by received `Follow`s and the local commands: joining
//! under each policy, approval with a stated reason, agreement to the code of conduct, welcomes
//! and departures.
//!
//! Following a community is asking to join it. Members are rows of `community_follower`.

pub mod admission;
pub mod agreement;
pub mod choices;
pub mod joining;

pub use admission::{admit, remove_member, JoinOutcome, DEFAULT_WELCOME};
pub use choices::{rules_version, JoinChoices};
pub use joining::request_join;
