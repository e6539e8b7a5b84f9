//! An image a local person uploaded (their avatar), served from `/media/{key}.{ext}`.

use sea_orm::entity::prelude::*;

/// An uploaded image.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "media")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The random name in its URL (32 hex digits).
    #[sea_orm(unique)]
    pub key: String,
    /// Who uploaded it.
    pub person_id: i64,
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`, from the file's first bytes.
    pub content_type: String,
    /// The file.
    #[sea_orm(column_type = "Blob")]
    pub bytes: Vec<u8>,
    /// When it was uploaded.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
