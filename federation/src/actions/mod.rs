//! The local commands the REST API and the command line call: each changes the database and
//! queues what it sends in one transaction.

pub mod bans;
pub mod events;
pub mod following;
pub mod membership;
pub mod partners;
pub mod posts;
pub mod profile;
