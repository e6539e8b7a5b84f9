//! Durable queues in the database: the outbox (one `delivery` row per activity and inbox) and
//! the inbox (`received_activity` rows, written by [`writer`]). Rows are claimed with a lease,
//! so several processes can share a queue and a crashed worker's rows are taken up again once
//! the lease runs out.

pub mod about;
pub mod audience;
pub mod batch;
pub mod delivery;
pub mod enqueue;
pub mod hosts;
pub mod inbox;
pub mod outcome;
pub mod send;
pub mod writer;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseBackend, DatabaseConnection, Statement, Value};
use std::time::Duration;

pub use enqueue::{enqueue, enqueue_in_order, Form, Outgoing, TARGETS_PER_BATCH};
pub use outcome::DeliveryOutcome;

/// Placeholder `n` (1-based) in the backend's syntax.
fn ph(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        // Numbered, so that the order of appearance does not matter.
        _ => format!("?{n}"),
    }
}

/// Builds the statement that claims up to `limit` due rows of `table` for `lease`, returning
/// them. `extra_filter` starts with ` AND `. PostgreSQL skips rows other workers hold (`FOR UPDATE SKIP LOCKED`); SQLite has one
/// writer at a time, so the UPDATE alone is atomic.
pub(crate) fn claim_statement(
    db: &DatabaseConnection,
    table: &str,
    extra_filter: &str,
    now: DateTime<Utc>,
    lease: Duration,
    limit: u64,
) -> Statement {
    let backend = db.get_database_backend();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let lock = if backend == DatabaseBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE {table} SET locked_until = {p1} WHERE id IN (\
           SELECT id FROM {table} WHERE next_attempt_at <= {p2} \
           AND (locked_until IS NULL OR locked_until < {p3}){extra_filter} \
           ORDER BY next_attempt_at, id LIMIT {p4}{lock}) RETURNING *",
        p1 = ph(backend, 1),
        p2 = ph(backend, 2),
        p3 = ph(backend, 3),
        p4 = ph(backend, 4),
        extra_filter = extra_filter.replace("{now}", &ph(backend, 5)),
    );
    let mut values: Vec<Value> = vec![until.into(), now.into(), now.into(), (limit as i64).into()];
    if extra_filter.contains("{now}") {
        values.push(now.into());
    }
    Statement::from_sql_and_values(backend, sql, values)
}

/// Exponential backoff: `initial * 2^(attempts-1)`, capped.
pub fn backoff(initial: Duration, max: Duration, attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 30) as u32 - 1;
    initial.saturating_mul(2u32.saturating_pow(exp)).min(max)
}

/// Commits a transaction that queued deliveries, then wakes the delivery workers.
pub async fn commit_and_wake(
    data: &crate::Data,
    txn: sea_orm::DatabaseTransaction,
) -> Result<(), crate::Error> {
    txn.commit().await?;
    data.outbox_wake.notify_one();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Duration::from_secs;
        assert_eq!(backoff(s(60), s(3600), 1), s(60));
        assert_eq!(backoff(s(60), s(3600), 2), s(120));
        assert_eq!(backoff(s(60), s(3600), 6), s(1920));
        assert_eq!(backoff(s(60), s(3600), 7), s(3600));
        assert_eq!(backoff(s(60), s(3600), 40), s(3600));
    }
}
