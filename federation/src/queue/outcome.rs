//! Recording what became of deliveries: delivered rows go, the others get their next attempt
//! (or are given up), a batch keeps the targets not yet recorded, and hosts' health is updated.

use super::backoff;
use crate::{Error, FederationContext};
use chrono::Utc;
use copse_entities::{
    delivery::{self, DeliveryStatus},
    delivery_batch, instance,
};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::NotSet,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use std::collections::BTreeMap;

/// The `last_error` of a delivery given up because its host is blocked.
pub const BLOCKED: &str = "domain is blocked";

/// What happened to one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// 2xx.
    Delivered,
    /// Worth trying again (network error, 5xx, 401, 408, 429), after at least this long.
    Retry(String, Option<std::time::Duration>),
    /// The receiver refused it for good (other 4xx) or it cannot be sent.
    Permanent(String),
    /// Not tried: an earlier delivery to the same host failed in this batch. It waits as long
    /// as its own next retry would (or as the host asked), without counting an attempt.
    Deferred(String, Option<std::time::Duration>),
    /// Not tried: the host is paused. It is kept, due now, for when the host is back.
    Held(String),
    /// Not tried and given up: the operator blocked the host.
    Blocked,
}

impl DeliveryOutcome {
    /// The outcome as `/metrics` counts it.
    pub fn counted(&self) -> crate::metrics::Delivery {
        use crate::metrics::Delivery;
        match self {
            DeliveryOutcome::Delivered => Delivery::Delivered,
            DeliveryOutcome::Retry(..) => Delivery::Retry,
            DeliveryOutcome::Permanent(_) => Delivery::Failed,
            DeliveryOutcome::Deferred(..) => Delivery::Deferred,
            DeliveryOutcome::Held(_) => Delivery::Held,
            DeliveryOutcome::Blocked => Delivery::Blocked,
        }
    }
}

/// Where a batch of first attempts stands after one part: its id and the targets not yet
/// attempted.
pub(super) struct BatchProgress<'a> {
    pub(super) id: i64,
    pub(super) rest: &'a [(String, String)],
}

impl BatchProgress<'_> {
    /// Deletes the batch once every target was attempted; else keeps the rest in it and renews
    /// the lease for the next part.
    async fn save(
        &self,
        ctx: &FederationContext,
        db: &impl ConnectionTrait,
        now: chrono::DateTime<Utc>,
    ) -> Result<(), Error> {
        if self.rest.is_empty() {
            delivery_batch::Entity::delete_by_id(self.id)
                .exec(db)
                .await?;
            return Ok(());
        }
        let until = now + chrono_wait(ctx.settings.lease);
        delivery_batch::Entity::update_many()
            .col_expr(
                delivery_batch::Column::Targets,
                Expr::value(serde_json::to_string(self.rest)?),
            )
            .col_expr(
                delivery_batch::Column::LockedUntil,
                Expr::value(Some(until)),
            )
            .filter(delivery_batch::Column::Id.eq(self.id))
            .exec(db)
            .await?;
        Ok(())
    }
}

/// Writes outcomes in one transaction: delivered rows go, the others get their next attempt,
/// and the hosts' health is updated. With `batch`, the deliveries were that batch's first
/// attempts, not stored yet: what was not delivered is stored now, and the batch keeps the
/// targets still to try.
pub(super) async fn record(
    ctx: &FederationContext,
    results: Vec<(delivery::Model, DeliveryOutcome)>,
    batch: Option<BatchProgress<'_>>,
) -> Result<(), Error> {
    let gate = ctx.queue_write_gate().await;
    let txn = crate::context::begin(&ctx.db).await?;
    let db = &txn;
    let now = Utc::now();
    let mut delivered = Vec::new();
    let mut unsent = Vec::new();
    // Per domain: did anything get through, and how many failed to connect or got 5xx.
    let mut health: BTreeMap<String, (bool, i32)> = BTreeMap::new();
    for (row, outcome) in results {
        ctx.metrics.delivery(outcome.counted());
        match &outcome {
            // The server answered, even if it refused this one: it is alive.
            DeliveryOutcome::Delivered | DeliveryOutcome::Permanent(_) => {
                health.entry(row.domain.clone()).or_default().0 = true;
            }
            DeliveryOutcome::Retry(..) => health.entry(row.domain.clone()).or_default().1 += 1,
            DeliveryOutcome::Deferred(..) | DeliveryOutcome::Held(_) | DeliveryOutcome::Blocked => {
            }
        }
        let Some(next) = next_state(&ctx.settings, now, row.attempts, outcome) else {
            delivered.push(row.id);
            continue;
        };
        if batch.is_some() {
            unsent.push(delivery::ActiveModel {
                id: NotSet,
                activity_id: Set(row.activity_id),
                inbox: Set(row.inbox),
                after_activity_id: Set(row.after_activity_id),
                domain: Set(row.domain),
                status: Set(next.status),
                attempts: Set(next.attempts),
                next_attempt_at: Set(next.at),
                locked_until: Set(None),
                last_error: Set(Some(next.error)),
                created_at: Set(row.created_at),
            });
        } else {
            set_outcome(db, row.id, next).await?;
        }
    }
    match &batch {
        None => {
            for chunk in delivered.chunks(1000) {
                delivery::Entity::delete_many()
                    .filter(delivery::Column::Id.is_in(chunk.iter().copied()))
                    .exec(db)
                    .await?;
            }
        }
        Some(progress) => {
            // Eleven bound values a row: a thousand rows stay under SQLite's limit.
            for chunk in unsent.chunks(1000) {
                delivery::Entity::insert_many(chunk.to_vec())
                    .exec(db)
                    .await?;
            }
            progress.save(ctx, db, now).await?;
        }
    }
    let mut answered = Vec::new();
    let mut failing = Vec::new();
    for (domain, (alive, failures)) in health {
        if alive {
            answered.push(domain);
        } else {
            note_failures(ctx, db, &domain, failures).await?;
            failing.push(domain);
        }
    }
    let fresh = note_alive(ctx, db, answered).await?;
    txn.commit().await?;
    drop(gate);
    let mut healthy = ctx.healthy.lock().unwrap_or_else(|e| e.into_inner());
    for domain in failing {
        healthy.remove(&domain);
    }
    for domain in fresh {
        healthy.insert(domain, std::time::Instant::now());
    }
    Ok(())
}

/// What a delivery that was not delivered becomes.
struct NextState {
    status: DeliveryStatus,
    attempts: i32,
    at: chrono::DateTime<Utc>,
    error: String,
}

/// The next state of a delivery after `outcome`, or `None` once it is delivered.
fn next_state(
    s: &crate::context::FederationSettings,
    now: chrono::DateTime<Utc>,
    attempts: i32,
    outcome: DeliveryOutcome,
) -> Option<NextState> {
    let later = |attempts: i32, after: Option<std::time::Duration>| {
        let wait = backoff(s.retry_initial, s.retry_max, attempts).max(after.unwrap_or_default());
        now + chrono_wait(wait)
    };
    let (status, attempts, at, error) = match outcome {
        DeliveryOutcome::Delivered => return None,
        DeliveryOutcome::Permanent(e) => (DeliveryStatus::Failed, attempts + 1, now, e),
        DeliveryOutcome::Deferred(e, after) => (
            DeliveryStatus::Pending,
            attempts,
            later(attempts + 1, after),
            e,
        ),
        DeliveryOutcome::Held(e) => (DeliveryStatus::Pending, attempts, now, e),
        DeliveryOutcome::Blocked => (DeliveryStatus::Failed, attempts, now, BLOCKED.to_string()),
        DeliveryOutcome::Retry(e, _) if attempts + 1 >= s.max_attempts => {
            (DeliveryStatus::Failed, attempts + 1, now, e)
        }
        DeliveryOutcome::Retry(e, after) => (
            DeliveryStatus::Pending,
            attempts + 1,
            later(attempts + 1, after),
            e,
        ),
    };
    Some(NextState {
        status,
        attempts,
        at,
        error,
    })
}

fn chrono_wait(wait: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1))
}

/// Writes what became of a delivery that was not delivered, and releases its lease.
async fn set_outcome(db: &impl ConnectionTrait, id: i64, next: NextState) -> Result<(), Error> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(next.status))
        .col_expr(delivery::Column::Attempts, Expr::value(next.attempts))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(next.at))
        .col_expr(delivery::Column::LastError, Expr::value(Some(next.error)))
        .col_expr(
            delivery::Column::LockedUntil,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(delivery::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks hosts that answered as healthy: clears their failures and pause. Hosts marked in the
/// last minute are skipped; the rest are written in one statement, since a first fan-out meets
/// hundreds of hosts in one batch. Returns the hosts written, to be remembered after commit.
async fn note_alive(
    ctx: &FederationContext,
    db: &impl ConnectionTrait,
    domains: Vec<String>,
) -> Result<Vec<String>, Error> {
    let fresh: Vec<String> = {
        let healthy = ctx.healthy.lock().unwrap_or_else(|e| e.into_inner());
        domains
            .into_iter()
            .filter(|d| {
                healthy
                    .get(d)
                    .is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(60))
            })
            .collect()
    };
    let now = Utc::now();
    // Seven columns a row, well under SQLite's bound-value limit.
    for chunk in fresh.chunks(1000) {
        instance::Entity::insert_many(chunk.iter().map(|domain| instance::ActiveModel {
            last_success_at: Set(Some(now)),
            ..instance::ActiveModel::for_domain(domain)
        }))
        .on_conflict(
            OnConflict::column(instance::Column::Domain)
                .update_columns([
                    instance::Column::FailureCount,
                    instance::Column::FailingSince,
                    instance::Column::PausedUntil,
                    instance::Column::LastSuccessAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    }
    Ok(fresh)
}

/// Counts failures against a host that did not answer; a host that has failed for longer than
/// `dead_after` is paused for `dead_pause`.
async fn note_failures(
    ctx: &FederationContext,
    db: &impl ConnectionTrait,
    domain: &str,
    failures: i32,
) -> Result<(), Error> {
    let s = &ctx.settings;
    let now = Utc::now();
    instance::Entity::insert(instance::ActiveModel {
        ..instance::ActiveModel::for_domain(domain)
    })
    .on_conflict_do_nothing_on([instance::Column::Domain])
    .exec(db)
    .await?;
    let Some(row) = instance::Entity::find()
        .filter(instance::Column::Domain.eq(domain))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let since = row.failing_since.unwrap_or(now);
    let dead_after = chrono::Duration::from_std(s.dead_after).unwrap_or(chrono::Duration::days(3));
    let pause = chrono::Duration::from_std(s.dead_pause).unwrap_or(chrono::Duration::days(1));
    let mut update = instance::Entity::update_many()
        .filter(instance::Column::Id.eq(row.id))
        .col_expr(
            instance::Column::FailureCount,
            Expr::value(row.failure_count.saturating_add(failures)),
        )
        .col_expr(instance::Column::FailingSince, Expr::value(Some(since)));
    if now - since >= dead_after {
        tracing::warn!("{domain} has failed since {since}; pausing deliveries to it");
        update = update.col_expr(
            instance::Column::PausedUntil,
            Expr::value(Some(now + pause)),
        );
    }
    update.exec(db).await?;
    Ok(())
}
