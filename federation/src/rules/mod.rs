//! Community rules, shared by what we receive and the local commands.

pub mod posting;
