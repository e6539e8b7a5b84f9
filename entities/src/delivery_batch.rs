//! The first attempt of a fan-out: up to 256 target inboxes of one activity (and of the
//! activities that follow it to the same targets) in one row. A
//! worker claims the row, sends to its targets, and writes what was not delivered as
//! `delivery` rows, which retry one by one.

use sea_orm::entity::prelude::*;

/// A queued batch of first deliveries.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery_batch")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The `activity` row to send.
    pub activity_id: i64,
    /// The targets not yet attempted, as a JSON array of `[inbox, domain]` pairs, a host's
    /// inboxes next to each other.
    #[sea_orm(column_type = "Text")]
    pub targets: String,
    /// The activities each target gets after `activity_id`, in order, over the same
    /// connection, as a JSON array of `activity` ids (both forms of a topic); `NULL` for none.
    #[sea_orm(column_type = "Text", nullable)]
    pub then_activities: Option<String>,
    /// When it is due (when it was queued).
    pub next_attempt_at: DateTimeUtc,
    /// A worker holds it until then; after that another may take it (crash recovery).
    pub locked_until: Option<DateTimeUtc>,
    /// When it was queued.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
