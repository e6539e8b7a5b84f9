//! A post in a community (a topic), local or received.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// A titled post.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "post")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// ActivityPub id.
    #[sea_orm(unique)]
    pub ap_id: DbUrl,
    /// The community it belongs to.
    pub community_id: i64,
    /// The author (`person`).
    pub author_id: i64,
    /// Title.
    pub title: String,
    /// Sanitised HTML body.
    pub content: String,
    /// Markdown source, when known.
    pub source: Option<String>,
    /// True for posts made on this instance.
    pub local: bool,
    /// When it was published.
    pub published: DateTimeUtc,
    /// When it was last edited.
    pub updated: Option<DateTimeUtc>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
