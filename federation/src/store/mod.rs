//! Row lookups and writes shared by what we receive, what we send and the local commands.

pub mod events;
pub mod lookup;
pub mod members;
pub mod modlog;
pub mod notifications;
pub mod partners;
pub mod posts;
pub mod tree;
