//! An account on this instance: its person actor and its API token.

use sea_orm::entity::prelude::*;

/// A local account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "local_user")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Its `person` row.
    #[sea_orm(unique)]
    pub person_id: i64,
    /// Instance administrator.
    pub admin: bool,
    /// SHA-256 (hex) of the bearer token; the token itself is never stored.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// When the account was created.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
