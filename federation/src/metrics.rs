//! Counters of one instance's federation work since its process started. They live in the
//! federation context, not in statics, so each instance in a test process counts its own; the
//! server's `/metrics` endpoint reads them together with the queue figures from the database.

use std::sync::atomic::{AtomicU64, Ordering};

/// What became of delivery attempts, what the inbox did with requests, and what the inbox worker
/// did with stored activities.
#[derive(Debug, Default)]
pub struct Counters {
    deliveries: [AtomicU64; DELIVERY_OUTCOMES.len()],
    received: [AtomicU64; RECEIVED_RESULTS.len()],
    processed: [AtomicU64; PROCESSED_RESULTS.len()],
}

/// Labels of `copse_deliveries_total{outcome}`, in the order of the counters.
pub const DELIVERY_OUTCOMES: [&str; 6] = [
    "delivered",
    "retry",
    "failed",
    "deferred",
    "held",
    "blocked",
];
/// Labels of `copse_inbox_received_total{result}`.
pub const RECEIVED_RESULTS: [&str; 4] = ["stored", "duplicate", "ignored", "rejected"];
/// Labels of `copse_inbox_processed_total{result}`.
pub const PROCESSED_RESULTS: [&str; 3] = ["done", "retry", "failed"];

/// What became of one delivery attempt, as counted (the queue's outcome without its details).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Delivered.
    Delivered,
    /// To be tried again.
    Retry,
    /// Given up for good.
    Failed,
    /// Not tried: an earlier delivery to the same host failed.
    Deferred,
    /// Not tried: the host is paused.
    Held,
    /// Not tried and given up: the host is blocked.
    Blocked,
}

/// What the inbox answered one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Stored for processing.
    Stored,
    /// Seen before.
    Duplicate,
    /// Accepted and dropped without storing.
    Ignored,
    /// Refused.
    Rejected,
}

/// What the inbox worker did with one stored activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processed {
    /// Applied, or deliberately ignored.
    Done,
    /// Failed for a transient reason; tried again later.
    Retry,
    /// Failed for good.
    Failed,
}

impl Counters {
    /// Counts one delivery outcome.
    pub fn delivery(&self, outcome: Delivery) {
        let i = match outcome {
            Delivery::Delivered => 0,
            Delivery::Retry => 1,
            Delivery::Failed => 2,
            Delivery::Deferred => 3,
            Delivery::Held => 4,
            Delivery::Blocked => 5,
        };
        self.deliveries[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one inbox request by what the inbox answered.
    pub fn received(&self, result: Received) {
        let i = match result {
            Received::Stored => 0,
            Received::Duplicate => 1,
            Received::Ignored => 2,
            Received::Rejected => 3,
        };
        self.received[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one activity the inbox worker handled.
    pub fn processed(&self, result: Processed) {
        let i = match result {
            Processed::Done => 0,
            Processed::Retry => 1,
            Processed::Failed => 2,
        };
        self.processed[i].fetch_add(1, Ordering::Relaxed);
    }

    /// `(outcome, count)` for every delivery outcome.
    pub fn deliveries(&self) -> Vec<(&'static str, u64)> {
        read(&DELIVERY_OUTCOMES, &self.deliveries)
    }

    /// `(result, count)` for every inbox answer.
    pub fn received_counts(&self) -> Vec<(&'static str, u64)> {
        read(&RECEIVED_RESULTS, &self.received)
    }

    /// `(result, count)` for every inbox worker result.
    pub fn processed_counts(&self) -> Vec<(&'static str, u64)> {
        read(&PROCESSED_RESULTS, &self.processed)
    }
}

fn read(labels: &[&'static str], counters: &[AtomicU64]) -> Vec<(&'static str, u64)> {
    labels
        .iter()
        .zip(counters)
        .map(|(l, c)| (*l, c.load(Ordering::Relaxed)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_counted_under_their_own_label() {
        let c = Counters::default();
        c.delivery(Delivery::Delivered);
        c.delivery(Delivery::Delivered);
        c.delivery(Delivery::Blocked);
        c.delivery(Delivery::Retry);
        let d = c.deliveries();
        assert_eq!(d[0], ("delivered", 2));
        assert_eq!(d[1], ("retry", 1));
        assert_eq!(d[5], ("blocked", 1));
        c.processed(Processed::Failed);
        assert_eq!(c.processed_counts()[2], ("failed", 1));
        c.received(Received::Rejected);
        assert_eq!(c.received_counts()[3], ("rejected", 1));
    }
}
