//! Which hosts the outbox must not send to right now: those the operator blocked (their queued
//! deliveries are given up) and those paused as dead (theirs wait).

use crate::Error;
use chrono::{DateTime, Utc};
use copse_entities::instance;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::BTreeSet;

/// The blocked and the paused hosts, read once for a part of a batch or a claim of retries.
#[derive(Debug, Default)]
pub struct Withheld {
    blocked: BTreeSet<String>,
    paused: BTreeSet<String>,
}

/// Why a host gets no delivery now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withholding {
    /// Blocked by the operator: its deliveries are given up.
    Blocked,
    /// Paused as dead: its deliveries wait for it.
    Paused,
}

impl Withheld {
    /// Reads the hosts that are blocked or paused at `now`.
    pub async fn load(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Self, Error> {
        let rows: Vec<(String, bool)> = instance::Entity::find()
            .select_only()
            .column(instance::Column::Domain)
            .column(instance::Column::Blocked)
            .filter(
                Condition::any()
                    .add(instance::Column::Blocked.eq(true))
                    .add(instance::Column::PausedUntil.gt(now)),
            )
            .into_tuple()
            .all(db)
            .await?;
        let mut out = Self::default();
        for (domain, blocked) in rows {
            if blocked {
                out.blocked.insert(domain);
            } else {
                out.paused.insert(domain);
            }
        }
        Ok(out)
    }

    /// Whether deliveries to `domain` are withheld, and why.
    pub fn of(&self, domain: &str) -> Option<Withholding> {
        if self.blocked.contains(domain) {
            Some(Withholding::Blocked)
        } else if self.paused.contains(domain) {
            Some(Withholding::Paused)
        } else {
            None
        }
    }
}
