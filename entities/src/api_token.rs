//! A named API token a person made in their settings.

use sea_orm::entity::prelude::*;

/// An API token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_token")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Whose token.
    pub local_user_id: i64,
    /// The name its owner gave it ("phone", "calendar script").
    pub name: String,
    /// SHA-256 (hex) of the token; the token itself is shown once and never stored.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// When it was made.
    pub created_at: DateTimeUtc,
    /// When it was last used.
    pub last_used_at: Option<DateTimeUtc>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
