//! A community of practice: a `Group` actor, local or a cached remote one.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// A community (`Group`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "community")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// ActivityPub id.
    #[sea_orm(unique)]
    pub ap_id: DbUrl,
    /// `preferredUsername`, the handle.
    pub name: String,
    /// Display title.
    pub title: String,
    /// Sanitised HTML summary.
    pub summary: Option<String>,
    /// The group's inbox.
    pub inbox: DbUrl,
    /// The shared inbox of its server.
    pub shared_inbox: Option<DbUrl>,
    /// The key id of its public key.
    pub key_id: DbUrl,
    /// PEM public key.
    pub public_key_pem: String,
    /// PEM private key, local communities only.
    pub private_key_pem: Option<String>,
    /// True for communities of this instance.
    pub local: bool,
    /// Follows wait for a coordinator.
    pub manually_approves_followers: bool,
    /// Listed in directories.
    pub discoverable: bool,
    /// The local person who created it.
    pub creator_id: Option<i64>,
    /// When the community was created.
    pub published: DateTimeUtc,
    /// When a remote community was last fetched.
    pub fetched_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
