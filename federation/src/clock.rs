//! The time as Copse sees it. It follows the system clock until a test fixes it, so that
//! reminders can be tested at the right moment without sleeping.

use chrono::{DateTime, Utc};
use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

/// Milliseconds since the epoch, or [`SYSTEM`] to follow the system clock.
const SYSTEM: i64 = i64::MIN;

/// One instance's clock, shared by its clones.
#[derive(Debug, Clone)]
pub struct Clock(Arc<AtomicI64>);

impl Default for Clock {
    fn default() -> Self {
        Self(Arc::new(AtomicI64::new(SYSTEM)))
    }
}

impl Clock {
    /// The current time.
    pub fn now(&self) -> DateTime<Utc> {
        match self.0.load(Ordering::SeqCst) {
            SYSTEM => Utc::now(),
            ms => DateTime::from_timestamp_millis(ms).unwrap_or_else(Utc::now),
        }
    }

    /// Fixes the clock at `at` (tests).
    pub fn set(&self, at: DateTime<Utc>) {
        self.0.store(at.timestamp_millis(), Ordering::SeqCst);
    }

    /// Follows the system clock again.
    pub fn follow_system(&self) {
        self.0.store(SYSTEM, Ordering::SeqCst);
    }
}
