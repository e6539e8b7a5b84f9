//! Who follows which community: remote people following our communities, and our people
//! following remote communities.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// A member's role in a community.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A member.
    #[sea_orm(string_value = "member")]
    Member,
    /// Moderates: removes content, bans, handles reports.
    #[sea_orm(string_value = "facilitator")]
    Facilitator,
    /// Runs the community: settings, roles, and everything a facilitator does.
    #[sea_orm(string_value = "coordinator")]
    Coordinator,
}

/// A follow of a community by a person: following a community is being (or asking to be) a
/// member of it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "community_follower")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The community followed.
    pub community_id: i64,
    /// The follower.
    pub person_id: i64,
    /// The id of the `Follow` activity, echoed in `Accept`.
    pub follow_id: DbUrl,
    /// Waiting for an `Accept`.
    pub pending: bool,
    /// The member's role.
    pub role: Role,
    /// Why they asked to join (approval communities).
    pub reason: Option<String>,
    /// Shown in the member directory: a local member's choice, a remote member's
    /// `discoverable`.
    pub listed: bool,
    /// When the follow was made.
    pub published: DateTimeUtc,
    /// When they agreed to the community's code of conduct.
    pub rules_agreed_at: Option<DateTimeUtc>,
    /// The version of the rules they agreed to (see `rules_version` in the federation crate).
    pub rules_version: Option<String>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
