//! A report (a `Flag` from any server, or from a local member) waiting in a community's
//! moderation queue.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// Where a report stands.
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
pub enum ReportStatus {
    /// Waiting for a facilitator.
    #[sea_orm(string_value = "open")]
    Open,
    /// Acted upon.
    #[sea_orm(string_value = "resolved")]
    Resolved,
    /// Looked at; nothing to do.
    #[sea_orm(string_value = "dismissed")]
    Dismissed,
}

/// One report, about a post or a person, in one community.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "report")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Id of the `Flag` (a generated one for local reports).
    pub ap_id: DbUrl,
    /// The community whose queue it is in.
    pub community_id: i64,
    /// Who reported: a person, or a server's instance actor (Mastodon).
    pub reporter: DbUrl,
    /// The post reported, if one was.
    pub post_id: Option<i64>,
    /// The person reported, if known.
    pub person_id: Option<i64>,
    /// Why, in the reporter's words.
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    /// Open, resolved or dismissed.
    pub status: ReportStatus,
    /// Who resolved it.
    pub resolver: Option<DbUrl>,
    /// What they said.
    #[sea_orm(column_type = "Text", nullable)]
    pub resolution: Option<String>,
    /// When it arrived.
    pub created_at: DateTimeUtc,
    /// When it was resolved.
    pub resolved_at: Option<DateTimeUtc>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
