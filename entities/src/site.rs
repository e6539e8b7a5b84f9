//! The instance itself: its application actor's keys (one row).

use sea_orm::entity::prelude::*;

/// The instance actor.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "site")]
pub struct Model {
    /// Always 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// PEM public key.
    pub public_key_pem: String,
    /// PEM private key.
    pub private_key_pem: String,
    /// When the instance was first started.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
