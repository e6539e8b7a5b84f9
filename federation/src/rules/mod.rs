//! Community rules, shared by what we receive and the local commands: who may post, how people
//! join and take part, and the waiting list of events.

pub mod membership;
pub mod participation;
pub mod places;
pub mod posting;
pub mod withdrawals;
