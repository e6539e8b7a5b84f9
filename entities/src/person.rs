//! A person actor, local (with a private key) or a cached remote one.

use crate::DbUrl;
use sea_orm::entity::prelude::*;

/// A `Person` (or other non-group actor such as `Service` or `Application`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// ActivityPub id.
    #[sea_orm(unique)]
    pub ap_id: DbUrl,
    /// `preferredUsername`.
    pub name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Sanitised HTML bio.
    pub summary: Option<String>,
    /// The markdown a local person wrote their bio in, for editing it again.
    pub summary_source: Option<String>,
    /// Avatar image URL, as the person's server publishes it.
    pub avatar: Option<String>,
    /// Personal inbox.
    pub inbox: DbUrl,
    /// Shared inbox, when the server has one.
    pub shared_inbox: Option<DbUrl>,
    /// The key id of its public key.
    pub key_id: DbUrl,
    /// PEM public key.
    pub public_key_pem: String,
    /// PEM private key, local actors only.
    pub private_key_pem: Option<String>,
    /// True for accounts of this instance.
    pub local: bool,
    /// When the actor was created.
    pub published: DateTimeUtc,
    /// When a remote actor was last fetched.
    pub fetched_at: DateTimeUtc,
    /// The actor lets itself be listed in directories (Mastodon's `discoverable`); decides
    /// whether a remote member shows in a community's member directory.
    pub discoverable: bool,
    /// When the account was deleted at its server (a `Delete` of the actor, confirmed by a
    /// 404 or 410 for it).
    pub deleted_at: Option<DateTimeUtc>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
