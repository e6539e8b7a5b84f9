//! What a community shares of its partners' topics and events: the community announces the
//! original, attributed to its author and its community.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// Where a share stands.
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
pub enum ShareStatus {
    /// Waiting in the queue for a coordinator.
    #[sea_orm(string_value = "queued")]
    Queued,
    /// Announced to the community's followers.
    #[sea_orm(string_value = "shared")]
    Shared,
    /// A coordinator chose not to share it.
    #[sea_orm(string_value = "dismissed")]
    Dismissed,
}

/// A partner's post, shared (or waiting to be) in a community of this server.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_share")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The local community that shares.
    pub community_id: i64,
    /// The partner's topic or event (`post`).
    pub post_id: i64,
    /// Queued, shared or dismissed.
    pub status: ShareStatus,
    /// The coordinator who decided (`person`); none when shared automatically.
    pub decided_by: Option<i64>,
    /// The `Announce` that shared it.
    pub announce_id: Option<DbUrl>,
    /// When it was queued or shared.
    pub created_at: DateTimeUtc,
    /// When it was shared.
    pub shared_at: Option<DateTimeUtc>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
