//! The durable outbox: one row per (activity, target inbox) still to be sent or given up.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// Where a delivery stands. A delivered row is deleted, so it has no status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DeliveryStatus {
    /// Not yet delivered; due at `next_attempt_at`.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Given up: a permanent 4xx or too many attempts.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// A queued delivery.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The `activity` row to send.
    pub activity_id: i64,
    /// The target inbox.
    pub inbox: DbUrl,
    /// The activity this one follows to the same inbox (the FEP-1b12 form of a topic, for its
    /// bare form): not sent while that one's delivery to this inbox is still pending.
    pub after_activity_id: Option<i64>,
    /// The target's origin (`instance.domain`).
    pub domain: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// When it is next due.
    pub next_attempt_at: DateTimeUtc,
    /// A worker holds it until then; after that another may take it (crash recovery).
    pub locked_until: Option<DateTimeUtc>,
    /// The last error, for operators.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
