//! Sending a batch of first attempts. Every host of the batch gets its own task, at most
//! `delivery_concurrency` of a worker's at once; outcomes are recorded `claim_batch` at a time as
//! they come back, whichever hosts they are from. Once every host of the batch has started and
//! [`STRAGGLERS_AFTER`] has passed, the worker leaves the hosts still in flight to a task of their
//! own and takes the next batch: a host that accepts connections and never answers holds its own
//! deliveries for the request timeout, not the batches after it.

use super::{
    hosts::{Withheld, Withholding},
    outcome::{record, BatchProgress},
    send::{send_to_host, Payload},
    DeliveryOutcome,
};
use crate::{Error, FederationContext};
use chrono::Utc;
use copse_entities::{
    delivery::{self, DeliveryStatus},
    delivery_batch, DbUrl,
};
use std::{collections::BTreeMap, sync::Arc};
use tokio::sync::{watch, Semaphore};

/// How long a worker waits, once every host of a batch has started, for the last answers before
/// it leaves them to finish on their own. Hosts answer in well under this; it spares a task for
/// batches whose hosts all answer promptly.
pub const STRAGGLERS_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// A worker's hosts in flight: shared by every batch it sends, so the hosts a batch leaves behind
/// still count against `delivery_concurrency`.
pub type Permits = Arc<Semaphore>;

/// New permits for one worker.
pub fn permits(ctx: &FederationContext) -> Permits {
    Arc::new(Semaphore::new(ctx.settings.delivery_concurrency.max(1)))
}

type Outcomes = Vec<(delivery::Model, DeliveryOutcome)>;

/// Sends a batch's targets and returns how many deliveries it handled. Each target gets the
/// batch's `forms` (its own activity, then those of `then_activities`) one after another on its
/// host's connection; a later form not sent because an earlier one failed is stored to follow
/// that one's retry. With `detach`, returns once every host has started and
/// [`STRAGGLERS_AFTER`] has passed; the hosts still in flight then finish (and are recorded) on
/// their own task. Without, returns when all are recorded. The batch row keeps the targets not
/// yet recorded with all their forms, so a crash resends at most those.
pub(super) async fn send_batch(
    ctx: &FederationContext,
    batch: delivery_batch::Model,
    forms: Vec<(i64, Payload)>,
    permits: &Permits,
    detach: bool,
) -> Result<usize, Error> {
    let targets: Vec<(String, String)> = match serde_json::from_str(&batch.targets) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!("delivery batch {} is unreadable, dropped: {e}", batch.id);
            Vec::new()
        }
    };
    let now = Utc::now();
    let withheld = Withheld::load(&ctx.db, now).await?;
    let mut pending: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut by_host: BTreeMap<String, Vec<(delivery::Model, Payload)>> = BTreeMap::new();
    let mut done: Outcomes = Vec::new();
    let mut handled = 0;
    for (inbox, domain) in targets {
        let Ok(url) = inbox.parse::<url::Url>() else {
            continue;
        };
        let mut after = None;
        let rows = forms.iter().map(|(activity_id, payload)| {
            let row = delivery::Model {
                id: 0,
                activity_id: *activity_id,
                inbox: DbUrl(url.clone()),
                after_activity_id: after.replace(*activity_id),
                domain: domain.clone(),
                status: DeliveryStatus::Pending,
                attempts: 0,
                next_attempt_at: now,
                locked_until: None,
                last_error: None,
                created_at: batch.created_at,
            };
            (row, payload.clone())
        });
        let rows: Vec<_> = rows.collect();
        handled += rows.len();
        match withheld.of(&domain) {
            Some(Withholding::Blocked) => {
                done.extend(rows.into_iter().map(|(r, _)| (r, DeliveryOutcome::Blocked)))
            }
            Some(Withholding::Paused) => done.extend(
                rows.into_iter()
                    .map(|(r, _)| (r, DeliveryOutcome::Held("instance paused".into()))),
            ),
            None => {
                pending
                    .entry(domain.clone())
                    .or_default()
                    .push((inbox, domain.clone()));
                by_host.entry(domain).or_default().extend(rows);
            }
        }
    }
    let hosts = by_host.len();
    let (started_tx, mut started) = watch::channel(0usize);
    let started_tx = Arc::new(started_tx);
    let mut tasks = tokio::task::JoinSet::new();
    for (domain, rows) in by_host {
        let ctx = ctx.clone();
        let permits = permits.clone();
        let started_tx = started_tx.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            started_tx.send_modify(|n| *n += 1);
            (domain, send_to_host(&ctx, rows).await)
        });
    }
    let mut sending = Sending {
        ctx: ctx.clone(),
        batch_id: batch.id,
        step: (ctx.settings.claim_batch as usize).max(1),
        tasks,
        pending,
        done,
    };
    let stragglers = async {
        if !detach {
            return std::future::pending().await;
        }
        let _ = started.wait_for(|n| *n >= hosts).await.map(|_| ());
        tokio::time::sleep(STRAGGLERS_AFTER).await;
    };
    tokio::pin!(stragglers);
    loop {
        tokio::select! {
            biased;
            next = sending.tasks.join_next() => match next {
                Some(joined) => sending.take(joined).await?,
                None => {
                    sending.flush().await?;
                    return Ok(handled);
                }
            },
            _ = &mut stragglers => break,
        }
    }
    tokio::spawn(async move {
        if let Err(e) = sending.finish().await {
            tracing::warn!("delivery batch: {e}");
        }
    });
    Ok(handled)
}

/// A batch being sent: its host tasks and the outcomes not yet recorded.
struct Sending {
    ctx: FederationContext,
    batch_id: i64,
    step: usize,
    tasks: tokio::task::JoinSet<(String, Outcomes)>,
    /// Targets not yet recorded, by host: what the batch row keeps.
    pending: BTreeMap<String, Vec<(String, String)>>,
    /// Outcomes back and not yet recorded.
    done: Outcomes,
}

impl Sending {
    /// Takes a host's outcomes, recording once `step` of them are back.
    async fn take(
        &mut self,
        joined: Result<(String, Outcomes), tokio::task::JoinError>,
    ) -> Result<(), Error> {
        // A host task that panicked leaves its targets in the batch row for the next claim.
        if let Ok((domain, outcomes)) = joined {
            self.pending.remove(&domain);
            self.done.extend(outcomes);
        }
        if self.done.len() >= self.step {
            self.flush().await?;
        }
        Ok(())
    }

    /// Records the outcomes back; the batch row keeps the targets still pending, or goes.
    async fn flush(&mut self) -> Result<(), Error> {
        if self.done.is_empty() && !self.pending.is_empty() {
            return Ok(());
        }
        let rest: Vec<(String, String)> = self.pending.values().flatten().cloned().collect();
        let progress = BatchProgress {
            id: self.batch_id,
            rest: &rest,
        };
        record(&self.ctx, std::mem::take(&mut self.done), Some(progress)).await
    }

    /// Waits for the hosts still in flight and records them.
    async fn finish(mut self) -> Result<(), Error> {
        while let Some(joined) = self.tasks.join_next().await {
            self.take(joined).await?;
        }
        self.flush().await
    }
}
