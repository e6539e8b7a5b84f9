//! Profile and settings changes made here: stored, then sent as `Update{Person}` or
//! `Update{Group}` (`outbox/profile.rs`).

use crate::outbox::profile::{community_updated, group_changed, person_updated};
use crate::{queue::commit_and_wake, Data, Error};
use chrono::Utc;
use copse_entities::{community, community_follower, media, person};
use sea_orm::{sea_query::Expr, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, Set};

/// An avatar image the server has checked: its type and its bytes.
#[derive(Debug, Clone)]
pub struct NewAvatar {
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    pub content_type: &'static str,
    /// The file extension of that type (`png`, `jpg`, `gif`, `webp`).
    pub extension: &'static str,
    /// The file.
    pub bytes: Vec<u8>,
}

/// What happens to the avatar.
#[derive(Debug, Clone, Default)]
pub enum AvatarChange {
    /// It stays.
    #[default]
    Keep,
    /// It goes.
    Remove,
    /// A new one replaces it.
    Set(NewAvatar),
}

/// A local person's new profile, checked by the server: display name, bio (HTML, already
/// rendered and sanitised), avatar, and whether they are listed in member directories.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    /// The name shown instead of the handle.
    pub display_name: Option<String>,
    /// The bio as sanitised HTML.
    pub summary: Option<String>,
    /// The markdown it was rendered from.
    pub summary_source: Option<String>,
    /// The avatar.
    pub avatar: AvatarChange,
    /// Listed in the member directories of their communities; `None` leaves it.
    pub discoverable: Option<bool>,
}

/// Stores a local person's new profile and sends the `Update{Person}` when what other servers
/// show of them changed. A new avatar replaces the person's earlier uploads; choosing to be
/// listed (or not) applies to every community they belong to.
pub async fn update_profile(
    data: &Data,
    p: &person::Model,
    change: ProfileChange,
) -> Result<person::Model, Error> {
    let txn = crate::context::begin(&data.db).await?;
    let avatar = match change.avatar {
        AvatarChange::Keep => p.avatar.clone(),
        AvatarChange::Remove => {
            remove_uploads(&txn, p.id).await?;
            None
        }
        AvatarChange::Set(img) => {
            remove_uploads(&txn, p.id).await?;
            let key = uuid::Uuid::new_v4().simple().to_string();
            media::Entity::insert(media::ActiveModel {
                id: NotSet,
                key: Set(key.clone()),
                person_id: Set(p.id),
                content_type: Set(img.content_type.to_string()),
                bytes: Set(img.bytes),
                created_at: Set(Utc::now()),
            })
            .exec(&txn)
            .await?;
            Some(
                data.urls
                    .media(&format!("{key}.{}", img.extension))
                    .to_string(),
            )
        }
    };
    let discoverable = change.discoverable.unwrap_or(p.discoverable);
    let row = person::Entity::update(person::ActiveModel {
        id: Set(p.id),
        display_name: Set(change.display_name),
        summary: Set(change.summary),
        summary_source: Set(change.summary_source),
        avatar: Set(avatar),
        discoverable: Set(discoverable),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    if change.discoverable.is_some() {
        community_follower::Entity::update_many()
            .col_expr(
                community_follower::Column::Listed,
                Expr::value(discoverable),
            )
            .filter(community_follower::Column::PersonId.eq(p.id))
            .exec(&txn)
            .await?;
    }
    if row.display_name != p.display_name
        || row.summary != p.summary
        || row.avatar != p.avatar
        || row.discoverable != p.discoverable
    {
        person_updated(&txn, data, &row).await?;
    }
    commit_and_wake(data, txn).await?;
    Ok(row)
}

async fn remove_uploads(txn: &impl sea_orm::ConnectionTrait, person_id: i64) -> Result<(), Error> {
    media::Entity::delete_many()
        .filter(media::Column::PersonId.eq(person_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Applies a settings change that the server has checked and built, and federates it.
pub async fn update_community(
    data: &Data,
    before: &community::Model,
    row: community::ActiveModel,
    by: Option<&person::Model>,
) -> Result<community::Model, Error> {
    let txn = crate::context::begin(&data.db).await?;
    let after = community::Entity::update(row).exec(&txn).await?;
    community_updated(&txn, data, before, &after, by).await?;
    if before.parent_ap_id != after.parent_ap_id {
        // The parents' documents count their sub-communities.
        for id in [&before.parent_ap_id, &after.parent_ap_id]
            .into_iter()
            .flatten()
        {
            let parent = community::Entity::find()
                .filter(community::Column::ApId.eq(id.clone()))
                .one(&txn)
                .await?;
            if let Some(p) = parent.filter(|p| p.local) {
                group_changed(&txn, data, &p, None).await?;
            }
        }
    }
    commit_and_wake(data, txn).await?;
    Ok(after)
}
