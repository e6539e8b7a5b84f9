//! The inbox worker: processes stored activities. Each activity's effects and its `done` mark
//! commit in one transaction, so a crash never applies an activity twice or loses it.

use super::{backoff, claim_statement, delivery::BLOCKED, hosts::Withholding};
use crate::{metrics::Processed, protocol::domain_of, Data, Error, FederationContext};
use activitypub_federation::config::FederationConfig;
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

/// Processes received activities until none are due, then waits to be woken (or polls).
pub async fn run_worker(config: FederationConfig<FederationContext>) {
    loop {
        let data = config.to_request_data();
        match work_once(&data).await {
            Ok(0) => {
                tokio::select! {
                    _ = data.inbox_wake.notified() => {}
                    _ = tokio::time::sleep(data.settings.poll_interval) => {}
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!("inbox worker: {e}");
                tokio::time::sleep(data.settings.poll_interval).await;
            }
        }
    }
}

/// Claims a batch of due activities and processes each. Returns how many were claimed.
pub async fn work_once(data: &Data) -> Result<usize, Error> {
    let s = &data.settings;
    let stmt = claim_statement(
        &data.db,
        "received_activity",
        " AND status = 'pending'",
        Utc::now(),
        s.lease,
        64,
    );
    let rows = received_activity::Entity::find()
        .from_raw_sql(stmt)
        .all(&data.db)
        .await?;
    let n = rows.len();
    if n == 0 {
        return Ok(0);
    }
    // An activity stored before its sender's domain was blocked is not applied.
    let withheld = super::hosts::Withheld::load(&data.db, Utc::now()).await?;
    for row in rows {
        let data = data.reset_request_count();
        if withheld.of(&domain_of(&row.actor.0)) == Some(Withholding::Blocked) {
            match mark_ignored(&data.db, row.id, BLOCKED).await {
                Ok(()) => data.metrics.processed(Processed::Done),
                Err(e) => tracing::debug!("inbox: {} not marked: {e}", row.ap_id),
            }
            continue;
        }
        let result = crate::activities::receive(&data, &row).await;
        match result {
            Ok(()) => data.metrics.processed(Processed::Done),
            Err(e) => fail(&data, &row, &e).await?,
        }
    }
    Ok(n)
}

async fn fail(data: &Data, row: &received_activity::Model, e: &Error) -> Result<(), Error> {
    let s = &data.settings;
    let attempts = row.attempts + 1;
    let transient = matches!(e, Error::Http(_) | Error::Db(_));
    let retry = transient && attempts < s.max_attempts;
    data.metrics.processed(if retry {
        Processed::Retry
    } else {
        Processed::Failed
    });
    let (status, next) = if retry {
        let wait = backoff(s.retry_initial, s.retry_max, attempts);
        (
            InboxStatus::Pending,
            Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1)),
        )
    } else {
        (InboxStatus::Failed, Utc::now())
    };
    tracing::info!("inbox: {} {} not applied: {e}", row.kind, row.ap_id);
    received_activity::Entity::update_many()
        .col_expr(received_activity::Column::Status, Expr::value(status))
        .col_expr(received_activity::Column::Attempts, Expr::value(attempts))
        .col_expr(received_activity::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            received_activity::Column::LastError,
            Expr::value(Some(e.to_string())),
        )
        .col_expr(
            received_activity::Column::LockedUntil,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(received_activity::Column::Id.eq(row.id))
        .filter(received_activity::Column::Status.eq(InboxStatus::Pending))
        .exec(&data.db)
        .await?;
    Ok(())
}
