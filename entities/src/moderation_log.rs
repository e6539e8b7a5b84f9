//! Every membership and moderation decision: who, what, when, why.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// One recorded decision.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moderation_log")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The community.
    pub community_id: i64,
    /// Who decided (actor id; the community itself for automatic decisions).
    pub moderator: DbUrl,
    /// What: `approve`, `decline`, `invite`, `remove`, `role`, `ban`, `unban`, `join`, `leave`.
    pub action: String,
    /// Whom or what it concerned (actor or object id).
    pub target: DbUrl,
    /// Why, or the detail (a new role, say).
    pub reason: Option<String>,
    /// When.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
