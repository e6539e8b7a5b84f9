//! The federation settings the server hands over from its configuration.

use std::time::Duration;

/// The federation settings the server hands over from its configuration.
#[derive(Debug, Clone)]
pub struct FederationSettings {
    /// `host[:port]` this instance is reached at.
    pub domain: String,
    /// Development mode: http URLs, explicit ports, local addresses and `*.localhost` names.
    pub debug: bool,
    /// Largest inbox body accepted.
    pub max_body_bytes: usize,
    /// Concurrent deliveries per worker.
    pub delivery_concurrency: usize,
    /// Rows a worker claims at once.
    pub claim_batch: u64,
    /// How long a claimed row stays with its worker before another may take it.
    pub lease: Duration,
    /// First retry delay; doubles on every attempt.
    pub retry_initial: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Attempts before a delivery is given up.
    pub max_attempts: i32,
    /// An instance failing for this long counts as dead and is paused.
    pub dead_after: Duration,
    /// How long a dead instance is paused before it is tried again.
    pub dead_pause: Duration,
    /// How often idle workers look for due rows written by other processes.
    pub poll_interval: Duration,
    /// Timeout of every outgoing request.
    pub request_timeout: Duration,
    /// How long before an event starts its participants get a reminder.
    pub reminder_lead: Duration,
    /// A PEM file of certificate authorities trusted besides the system's, for peers behind a
    /// private CA.
    pub extra_roots_file: Option<std::path::PathBuf>,
    /// Notification mail is sent from this instance (the pages offer the choice of it).
    pub mail: bool,
}

impl FederationSettings {
    /// Settings for a domain with the documented defaults.
    pub fn new(domain: impl Into<String>, debug: bool) -> Self {
        Self {
            domain: domain.into(),
            debug,
            max_body_bytes: 1024 * 1024,
            delivery_concurrency: 32,
            claim_batch: 256,
            lease: Duration::from_secs(60),
            retry_initial: Duration::from_secs(60),
            retry_max: Duration::from_secs(12 * 3600),
            max_attempts: 16,
            dead_after: Duration::from_secs(3 * 24 * 3600),
            dead_pause: Duration::from_secs(24 * 3600),
            poll_interval: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            reminder_lead: Duration::from_secs(24 * 3600),
            extra_roots_file: None,
            mail: false,
        }
    }
}
