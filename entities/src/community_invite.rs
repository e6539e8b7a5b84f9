//! Invitations to invite-only communities.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// An invitation of an actor (by id) to a community.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "community_invite")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The community.
    pub community_id: i64,
    /// The invited actor's id.
    pub invitee: DbUrl,
    /// The coordinator who invited (`person`).
    pub invited_by: i64,
    /// When.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
