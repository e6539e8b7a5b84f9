//! Row lookups by key, each named for the key it takes.

use crate::Error;
use copse_entities::{community, person, DbUrl};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use url::Url;

/// The community with this row id.
pub async fn community_by_row_id(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<community::Model, Error> {
    community::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

/// The person with this row id.
pub async fn person_by_row_id(db: &impl ConnectionTrait, id: i64) -> Result<person::Model, Error> {
    person::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

/// The local community with this ActivityPub id.
pub async fn local_community_by_ap_id(
    db: &impl ConnectionTrait,
    id: &Url,
) -> Result<community::Model, Error> {
    community::Entity::find()
        .filter(community::Column::ApId.eq(DbUrl(id.clone())))
        .filter(community::Column::Local.eq(true))
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}
