//! A signed-in browser: the cookie's hash, whose it is, and the token its forms carry.

use sea_orm::entity::prelude::*;

/// A browser session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "web_session")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// SHA-256 (hex) of the session cookie; the cookie itself is never stored.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// Whose session.
    pub local_user_id: i64,
    /// The CSRF token every form of this session carries.
    pub csrf_token: String,
    /// When the person signed in.
    pub created_at: DateTimeUtc,
    /// When the session ends unless renewed.
    pub expires_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
