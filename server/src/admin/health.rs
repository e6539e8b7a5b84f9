//! Queue health for the admin: remote instances paused as dead (deliveries to them wait), and
//! the backlog of the outbox and the inbox.

use crate::metrics::{backlog, Backlog};
use chrono::{DateTime, Utc};
use copse_entities::instance;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// The queues and the paused instances at one moment.
#[derive(Debug, Clone)]
pub struct QueueHealth {
    /// When it was read.
    pub now: DateTime<Utc>,
    /// Instances paused at `now`, the soonest to be tried again first (at most 500).
    pub paused: Vec<instance::Model>,
    /// The queues' depths and oldest items.
    pub backlog: Backlog,
}

/// Reads the queue health now.
pub async fn queue_health(db: &impl ConnectionTrait) -> Result<QueueHealth, DbErr> {
    let now = Utc::now();
    let paused = instance::Entity::find()
        .filter(instance::Column::PausedUntil.gt(now))
        .filter(instance::Column::Blocked.eq(false))
        .order_by_asc(instance::Column::PausedUntil)
        .limit(500)
        .all(db)
        .await?;
    Ok(QueueHealth {
        now,
        paused,
        backlog: backlog(db, now).await?,
    })
}
