//! Community rules, shared by what we receive and the local commands.

pub mod participation;
pub mod posting;
