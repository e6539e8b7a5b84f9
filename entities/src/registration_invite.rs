//! An invitation link to create an account, made by an admin.

use sea_orm::entity::prelude::*;

/// An invitation to sign up.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registration_invite")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// SHA-256 (hex) of the link's token.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The admin's local account row.
    pub created_by: i64,
    /// Who it is for, as the admin noted it.
    pub note: Option<String>,
    /// When it was made.
    pub created_at: DateTimeUtc,
    /// When it stops working; `None` for never.
    pub expires_at: Option<DateTimeUtc>,
    /// How many accounts it may make; `None` for any number.
    pub max_uses: Option<i32>,
    /// How many accounts it has made.
    pub uses: i32,
    /// When it was last used.
    pub used_at: Option<DateTimeUtc>,
    /// When an admin revoked it.
    pub revoked_at: Option<DateTimeUtc>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
