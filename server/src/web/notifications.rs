//! The notifications page and the count in the header.

use super::session::SignedIn;
use crate::error::ApiError;
use copse_entities::notification;
use copse_federation::Data;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// How many notifications the person has not read.
pub async fn unread_count(data: &Data, s: &SignedIn) -> Result<u64, ApiError> {
    Ok(notification::Entity::find()
        .filter(notification::Column::PersonId.eq(s.person.id))
        .filter(notification::Column::ReadAt.is_null())
        .count(&data.db)
        .await?)
}
