//! The durable inbox: every verified incoming activity, stored before we answer 2xx.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// Where processing of a received activity stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum InboxStatus {
    /// Stored, not yet processed.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Processed; its effects committed in the same transaction.
    #[sea_orm(string_value = "done")]
    Done,
    /// Refused or failed for good (see `last_error`).
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// A received activity; its unique `ap_id` is the replay guard.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "received_activity")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Activity id.
    #[sea_orm(unique)]
    pub ap_id: DbUrl,
    /// The verified signer's actor id.
    pub actor: DbUrl,
    /// The activity type.
    pub kind: String,
    /// The JSON as received.
    #[sea_orm(column_type = "Text")]
    pub data: String,
    /// Where it stands.
    pub status: InboxStatus,
    /// Processing attempts (transient failures are retried).
    pub attempts: i32,
    /// When it is next due.
    pub next_attempt_at: DateTimeUtc,
    /// A worker holds it until then.
    pub locked_until: Option<DateTimeUtc>,
    /// The last error.
    pub last_error: Option<String>,
    /// When it arrived.
    pub received_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
