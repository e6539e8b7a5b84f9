//! Copse database models: plain sea-orm entities, one module per table.

pub mod activity;
pub mod api_token;
pub mod community;
pub mod community_ban;
pub mod community_follower;
pub mod community_invite;
pub mod delivery;
pub mod delivery_batch;
pub mod event;
pub mod event_participant;
pub mod instance;
pub mod local_user;
pub mod media;
pub mod moderation_log;
pub mod notification;
pub mod partner_share;
pub mod partnership;
pub mod person;
pub mod post;
pub mod reaction;
pub mod received_activity;
pub mod registration_invite;
pub mod remote_id;
pub mod report;
pub mod sign_in_failure;
pub mod site;
pub mod web_session;

use sea_orm::DeriveValueType;
use std::{fmt, str::FromStr};
use url::Url;

/// A URL stored as text: ActivityPub ids, inboxes, key ids.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, DeriveValueType, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(value_type = "String", column_type = "Text")]
pub struct DbUrl(pub Url);

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl FromStr for DbUrl {
    type Err = url::ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Url::parse(s).map(DbUrl)
    }
}

impl From<Url> for DbUrl {
    fn from(url: Url) -> Self {
        DbUrl(url)
    }
}

impl From<DbUrl> for Url {
    fn from(url: DbUrl) -> Self {
        url.0
    }
}

impl std::ops::Deref for DbUrl {
    type Target = Url;

    fn deref(&self) -> &Url {
        &self.0
    }
}
