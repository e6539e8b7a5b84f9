//! A failed sign-in, kept a short while so that limits per account and per address hold across
//! every server process of an instance.

use sea_orm::entity::prelude::*;

/// One failed sign-in.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_failure")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What is limited: `account:NAME` or `address:IP`.
    pub key: String,
    /// When it failed.
    pub at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
