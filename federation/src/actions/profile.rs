//! Profile and settings changes made here: stored, then sent as `Update{Person}` or
//! `Update{Group}` (`outbox/profile.rs`).

use crate::outbox::profile::{community_updated, person_updated};
use crate::{queue::commit_and_wake, Data, Error};
use copse_entities::{community, person};
use sea_orm::EntityTrait;

/// Stores a local person's new display name and bio (HTML, already rendered and sanitised) and
/// sends the `Update{Person}`.
pub async fn update_profile(
    data: &Data,
    p: &person::Model,
    display_name: Option<String>,
    summary: Option<String>,
) -> Result<person::Model, Error> {
    let txn = crate::context::begin(&data.db).await?;
    let row = person::Entity::update(person::ActiveModel {
        id: sea_orm::Set(p.id),
        display_name: sea_orm::Set(display_name),
        summary: sea_orm::Set(summary),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    if row.display_name != p.display_name || row.summary != p.summary {
        person_updated(&txn, data, &row).await?;
    }
    commit_and_wake(data, txn).await?;
    Ok(row)
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
    commit_and_wake(data, txn).await?;
    Ok(after)
}
