//! Activities this instance sent: dereferenceable at their id, listed in outboxes, and the
//! payload the delivery queue signs and sends.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// A sent activity.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// ActivityPub id (unique: a new activity never reuses an id).
    #[sea_orm(unique)]
    pub ap_id: DbUrl,
    /// The activity type, e.g. `Announce`.
    pub kind: String,
    /// The actor that sent it (and signs its deliveries).
    pub actor: DbUrl,
    /// The community whose outbox lists it, if any.
    pub community_id: Option<i64>,
    /// The stored post (or event) it is about, if any: left out of the outbox once the post is
    /// gone, and served with the post as it is now.
    pub post_id: Option<i64>,
    /// The JSON-LD document as sent.
    #[sea_orm(column_type = "Text")]
    pub data: String,
    /// Shown to anyone (false for direct or followers-only activities).
    pub public: bool,
    /// When it was sent.
    pub published: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
