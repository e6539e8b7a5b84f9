//! A remote id as its server wrote it, where parsing it as a URL changes it (an empty path
//! gains `/`, a host is lower-cased, a default port dropped): what Copse sends in its place.

use sea_orm::entity::prelude::*;

/// One remote id whose parsed form differs from what its server wrote.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "remote_id")]
pub struct Model {
    /// The id as `url` serialises it, as it is stored everywhere else.
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub parsed: String,
    /// The id byte for byte as received.
    #[sea_orm(column_type = "Text")]
    pub raw: String,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
