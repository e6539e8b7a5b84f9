//! The inbox queue's rows (`received_activity`): marking one processed. The worker that
//! processes them is `activities::worker`.

use crate::Error;
use chrono::Utc;
use copse_entities::{received_activity, received_activity::InboxStatus};
use sea_orm::{sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// Marks an activity processed. Call inside the transaction that applies its effects; fails if
/// another worker already did, so the caller's transaction rolls back.
pub async fn mark_done(db: &impl ConnectionTrait, id: i64) -> Result<(), Error> {
    mark(db, id, InboxStatus::Done, None).await
}

/// Marks an activity as received but deliberately not acted on (an unsupported type, say).
pub async fn mark_ignored(db: &impl ConnectionTrait, id: i64, why: &str) -> Result<(), Error> {
    mark(db, id, InboxStatus::Done, Some(format!("ignored: {why}"))).await
}

async fn mark(
    db: &impl ConnectionTrait,
    id: i64,
    status: InboxStatus,
    note: Option<String>,
) -> Result<(), Error> {
    let res = received_activity::Entity::update_many()
        .col_expr(received_activity::Column::Status, Expr::value(status))
        .col_expr(received_activity::Column::LastError, Expr::value(note))
        .col_expr(
            received_activity::Column::LockedUntil,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(received_activity::Column::Id.eq(id))
        .filter(received_activity::Column::Status.eq(InboxStatus::Pending))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::InvalidActivity(
            "activity was already processed".into(),
        ));
    }
    Ok(())
}
