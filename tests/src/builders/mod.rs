//! Builders the scenario tests share: communities and members, posts and mentions, events and
//! their answers, activity bodies, and waits on what an instance received or still has queued.
//! Each test builds its own world from these, so one test checks one behaviour.

pub mod activities;
pub mod communities;
pub mod events;
pub mod posts;

use std::time::Duration;

/// How long a test waits for something that should happen.
pub const T: Duration = Duration::from_secs(20);
