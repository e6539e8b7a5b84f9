//! A reaction to a post: a `Like` or an FEP-c0e0 `EmojiReact`.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// The emoji stored for a plain `Like`.
pub const LIKE: &str = "♥";

/// What is stored for a `Dislike` (a Lemmy downvote): counted as a dislike, not as a
/// reaction. The angle brackets keep it apart from every emoji, since reactions carrying `<` or
/// `>` are refused.
pub const DISLIKE: &str = "<dislike>";

/// One person's reaction to one post.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reaction")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Id of the `Like` or `EmojiReact` activity (its `Undo` names it).
    #[sea_orm(unique)]
    pub ap_id: DbUrl,
    /// The post.
    pub post_id: i64,
    /// Who reacted.
    pub person_id: i64,
    /// The emoji, or [`LIKE`] for a `Like`.
    pub emoji: String,
    /// When.
    pub published: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
