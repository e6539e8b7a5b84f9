//! A post in a community, local or received: a topic (no parent) or a reply in its thread.

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
    /// The post it answers; none for a topic.
    pub parent_id: Option<i64>,
    /// The topic whose thread it is in; none for a topic.
    pub topic_id: Option<i64>,
    /// For a topic: when it or its thread last changed (topic lists sort by it).
    pub last_activity: Option<DateTimeUtc>,
    /// A locked topic accepts no new replies.
    pub locked: bool,
    /// A pinned topic is in the community's `featured` collection.
    pub pinned: bool,
    /// Deleted by its author: served as a `Tombstone`, body gone.
    pub deleted: bool,
    /// Removed by a facilitator.
    pub removed: bool,
    /// Mentions and hashtags, as the JSON array of `tag` objects.
    #[sea_orm(column_type = "Text", nullable)]
    pub tags: Option<String>,
    /// The link of a link post (Lemmy's `attachment` of type `Link`).
    #[sea_orm(nullable)]
    pub url: Option<DbUrl>,
}

impl Model {
    /// The topic of this post's thread: itself, or the one it replies within.
    pub fn thread_id(&self) -> i64 {
        self.topic_id.unwrap_or(self.id)
    }

    /// Still shown: neither deleted nor removed.
    pub fn visible(&self) -> bool {
        !self.deleted && !self.removed
    }
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
