//! Bans from a community.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// A ban of a person from a community, until `expires_at` if set.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "community_ban")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The community.
    pub community_id: i64,
    /// The banned person.
    pub person_id: i64,
    /// Why.
    pub reason: Option<String>,
    /// When the ban ends by itself.
    pub expires_at: Option<DateTimeUtc>,
    /// The facilitator who banned (`person`).
    pub banned_by: i64,
    /// The id of the `Block` activity, for `Undo`.
    pub block_id: DbUrl,
    /// When.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
