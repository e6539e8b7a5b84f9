//! The moderation log.

use crate::Error;
use chrono::Utc;
use copse_entities::{
    community::{self},
    moderation_log, DbUrl,
};
use sea_orm::{ActiveValue::NotSet, ConnectionTrait, EntityTrait, Set};
use url::Url;

/// Records a decision in the moderation log.
pub async fn log(
    db: &impl ConnectionTrait,
    community: &community::Model,
    moderator: &Url,
    action: &str,
    target: &Url,
    reason: Option<String>,
) -> Result<(), Error> {
    moderation_log::Entity::insert(moderation_log::ActiveModel {
        id: NotSet,
        community_id: Set(community.id),
        moderator: Set(DbUrl(moderator.clone())),
        action: Set(action.into()),
        target: Set(DbUrl(target.clone())),
        reason: Set(reason),
        created_at: Set(Utc::now()),
    })
    .exec(db)
    .await?;
    Ok(())
}
