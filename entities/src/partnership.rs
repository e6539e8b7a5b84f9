//! Partner communities: one community following another, on this server or any other.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// What a community does with the topics and events of a partner it follows.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum ShareMode {
    /// Nothing by itself: coordinators share one at a time.
    #[sea_orm(string_value = "off")]
    Off,
    /// Each new topic and event waits in a queue for a coordinator.
    #[sea_orm(string_value = "queue")]
    Queue,
    /// Each new topic and event is shared at once.
    #[sea_orm(string_value = "auto")]
    Auto,
}

/// A community (`follower_id`) following another (`followed_id`): a partnership once accepted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partnership")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The community that follows.
    pub follower_id: i64,
    /// The community followed.
    pub followed_id: i64,
    /// The `Follow` activity's id.
    pub follow_id: DbUrl,
    /// Waiting for the followed community's answer.
    pub pending: bool,
    /// What the follower shares of what the followed community publishes.
    pub share: ShareMode,
    /// The local coordinator who asked (`person`), when asked from here.
    pub requested_by: Option<i64>,
    /// When it was asked.
    pub created_at: DateTimeUtc,
    /// When it was accepted.
    pub accepted_at: Option<DateTimeUtc>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
