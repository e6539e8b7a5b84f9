//! The durable outbox's workers. `enqueue` (see [`super::enqueue`]) writes activities and
//! their targets in the caller's transaction; `run_worker` claims a batch, signs each delivery
//! at send time and records the outcomes ([`super::outcome`]). What a batch does not deliver
//! becomes one `delivery` row per inbox, retried with backoff or given up on a permanent 4xx.

use super::{
    batch, claim_statement,
    hosts::{Withheld, Withholding},
    outcome::record,
    send::{payload_of, send_to_host, Payload},
};
use crate::{Error, FederationContext};
use chrono::Utc;
use copse_entities::{activity, delivery, delivery_batch};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use super::outcome::{DeliveryOutcome, BLOCKED};

/// Claims and sends due deliveries until none are left, then waits to be woken (or polls).
/// Runs until the task is aborted.
pub async fn run_worker(ctx: FederationContext) {
    let mut rounds = Rounds::new(&ctx);
    loop {
        match rounds.next(&ctx).await {
            Ok(0) => {
                tokio::select! {
                    _ = ctx.outbox_wake.notified() => {}
                    _ = tokio::time::sleep(ctx.settings.poll_interval) => {}
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!("delivery worker: {e}");
                tokio::time::sleep(ctx.settings.poll_interval).await;
            }
        }
    }
}

/// Sends one claim's worth of deliveries and records the outcomes: a batch of first attempts
/// if one is due, else due retries. Returns how many deliveries it handled.
pub async fn work_once(ctx: &FederationContext) -> Result<usize, Error> {
    work_in_order(ctx, false, &batch::permits(ctx), false).await
}

/// The order of a delivery worker's rounds: every other round looks for due retries before new
/// batches, so that a stream of big fan-outs cannot hold back the retries of a host that has
/// come back until every batch is sent.
#[derive(Debug)]
pub struct Rounds {
    retries_first: bool,
    permits: batch::Permits,
    detach: bool,
}

impl Rounds {
    /// A worker's rounds, with its own `delivery_concurrency` hosts in flight. A round returns
    /// before hosts that are slow to answer have (see [`batch`]).
    pub fn new(ctx: &FederationContext) -> Self {
        Self {
            retries_first: false,
            permits: batch::permits(ctx),
            detach: true,
        }
    }

    /// The same rounds, each returning only once all it sent is recorded.
    pub fn waiting(ctx: &FederationContext) -> Self {
        Self {
            detach: false,
            ..Self::new(ctx)
        }
    }

    /// Runs one round, like [`work_once`] but taking turns at what it looks at first.
    pub async fn next(&mut self, ctx: &FederationContext) -> Result<usize, Error> {
        let retries_first = self.retries_first;
        self.retries_first = !retries_first;
        work_in_order(ctx, retries_first, &self.permits, self.detach).await
    }
}

async fn work_in_order(
    ctx: &FederationContext,
    retries_first: bool,
    permits: &batch::Permits,
    detach: bool,
) -> Result<usize, Error> {
    if retries_first {
        let sent = send_due_retries(ctx, permits).await?;
        if sent > 0 {
            return Ok(sent);
        }
    }
    if let Some(batch) = claim_first_attempts(ctx).await? {
        // Let another worker take the next batch meanwhile.
        ctx.outbox_wake.notify_one();
        let forms = forms_of(ctx, &batch).await?;
        return batch::send_batch(ctx, batch, forms, permits, detach).await;
    }
    if retries_first {
        return Ok(0);
    }
    send_due_retries(ctx, permits).await
}

/// Claims due retries (and deliveries held for a host that is back), sends them and records
/// the outcomes.
async fn send_due_retries(
    ctx: &FederationContext,
    permits: &batch::Permits,
) -> Result<usize, Error> {
    let s = &ctx.settings;
    let now = Utc::now();
    let stmt = claim_statement(
        &ctx.db,
        "delivery",
        " AND status = 'pending' \
         AND domain NOT IN (SELECT domain FROM instance WHERE paused_until > {now} AND NOT blocked) \
         AND (after_activity_id IS NULL OR NOT EXISTS (SELECT 1 FROM delivery AS earlier \
           WHERE earlier.activity_id = delivery.after_activity_id \
           AND earlier.inbox = delivery.inbox AND earlier.status = 'pending'))",
        now,
        s.lease,
        s.claim_batch,
    );
    let rows = {
        let _gate = ctx.queue_write_gate().await;
        delivery::Entity::find()
            .from_raw_sql(stmt)
            .all(&ctx.db)
            .await?
    };
    if rows.is_empty() {
        return Ok(0);
    }
    // Let another worker take a new batch or more retries meanwhile: these may wait on slow
    // hosts for up to the request timeout.
    ctx.outbox_wake.notify_one();
    let ids: BTreeSet<i64> = rows.iter().map(|r| r.activity_id).collect();
    let activities = activity::Entity::find()
        .filter(activity::Column::Id.is_in(ids))
        .all(&ctx.db)
        .await?;
    let mut payloads: HashMap<i64, Payload> = HashMap::new();
    for a in activities {
        payloads.insert(a.id, payload_of(ctx, Some(a)).await);
    }
    // Rows of a host blocked since they were queued are claimed too, and given up here.
    let withheld = Withheld::load(&ctx.db, now).await?;
    let (blocked, rows): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|r| withheld.of(&r.domain) == Some(Withholding::Blocked));
    let rows = rows
        .into_iter()
        .map(|r| {
            let payload = payloads
                .get(&r.activity_id)
                .cloned()
                .unwrap_or_else(|| Err("activity is gone".into()));
            (r, payload)
        })
        .collect();
    let mut results = send_all(ctx, rows, permits).await;
    results.extend(blocked.into_iter().map(|r| (r, DeliveryOutcome::Blocked)));
    let handled = results.len();
    record(ctx, results, None).await?;
    Ok(handled)
}

/// A batch's activities in the order each target gets them, each with its payload: its own,
/// then those of `then_activities`.
async fn forms_of(
    ctx: &FederationContext,
    batch: &delivery_batch::Model,
) -> Result<Vec<(i64, Payload)>, Error> {
    let mut ids = vec![batch.activity_id];
    if let Some(then) = &batch.then_activities {
        match serde_json::from_str::<Vec<i64>>(then) {
            Ok(then) => ids.extend(then),
            Err(e) => tracing::warn!("delivery batch {}: unreadable later forms: {e}", batch.id),
        }
    }
    let mut rows: HashMap<i64, activity::Model> = activity::Entity::find()
        .filter(activity::Column::Id.is_in(ids.iter().copied()))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let mut forms = Vec::with_capacity(ids.len());
    for id in ids {
        forms.push((id, payload_of(ctx, rows.remove(&id)).await));
    }
    Ok(forms)
}

/// Claims the oldest due batch of first attempts, if any.
async fn claim_first_attempts(
    ctx: &FederationContext,
) -> Result<Option<delivery_batch::Model>, Error> {
    let stmt = claim_statement(
        &ctx.db,
        "delivery_batch",
        "",
        Utc::now(),
        ctx.settings.lease,
        1,
    );
    let _gate = ctx.queue_write_gate().await;
    Ok(delivery_batch::Entity::find()
        .from_raw_sql(stmt)
        .one(&ctx.db)
        .await?)
}

/// Sends deliveries with one task per host, so signing runs on every core of the runtime while
/// each host gets its deliveries one after another over one kept-alive connection (one TLS
/// handshake, not one per delivery).
async fn send_all(
    ctx: &FederationContext,
    rows: Vec<(delivery::Model, Payload)>,
    permits: &batch::Permits,
) -> Vec<(delivery::Model, DeliveryOutcome)> {
    let mut by_host: BTreeMap<String, Vec<(delivery::Model, Payload)>> = BTreeMap::new();
    for (row, payload) in rows {
        by_host
            .entry(row.domain.clone())
            .or_default()
            .push((row, payload));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (_, host_rows) in by_host {
        let ctx = ctx.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            send_to_host(&ctx, host_rows).await
        });
    }
    let mut results = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok(r) = done {
            results.extend(r);
        }
    }
    results
}
