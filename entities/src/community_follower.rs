//! Who follows which community: remote people following our communities, and our people
//! following remote communities.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// A follow of a community by a person.
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
    /// When the follow was made.
    pub published: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
