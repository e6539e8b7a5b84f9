//! The durable outbox. `enqueue` writes an activity and its targets in the caller's
//! transaction, as batches of up to `TARGETS_PER_BATCH` inboxes; `run_worker` claims a batch,
//! signs each delivery at send time and records the outcomes. What a batch does not deliver
//! becomes one `delivery` row per inbox, retried with backoff or given up on a permanent 4xx.

use super::{
    backoff, batch, claim_statement,
    hosts::{Withheld, Withholding},
};
use crate::{protocol::domain_of, signatures::SigningKey, urls::Urls, Error, FederationContext};
use chrono::Utc;
use copse_entities::{
    activity, community,
    delivery::{self, DeliveryStatus},
    delivery_batch, instance, person, DbUrl,
};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::NotSet,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use serde_json::Value;
use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
};
use url::Url;

/// The `last_error` of a delivery given up because its host is blocked.
pub const BLOCKED: &str = "domain is blocked";

/// Inboxes in one `delivery_batch` row: one claim's worth with the default `claim_batch`.
pub const TARGETS_PER_BATCH: usize = 256;

/// Stores an activity we send and queues one delivery per distinct inbox (shared inboxes
/// already substituted by the caller), in batches of a host's inboxes side by side. Local and
/// blocked inboxes are skipped. Call inside the transaction of the local change, then wake the
/// workers after commit.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    urls: &Urls,
    json: &Value,
    community_id: Option<i64>,
    public: bool,
    inboxes: impl IntoIterator<Item = Url>,
) -> Result<activity::Model, Error> {
    enqueue_after(
        db,
        urls,
        json,
        community_id,
        public,
        inboxes,
        chrono::Duration::zero(),
    )
    .await
}

/// [`enqueue`], with the first attempts due only `after` from now.
pub async fn enqueue_after(
    db: &impl ConnectionTrait,
    urls: &Urls,
    json: &Value,
    community_id: Option<i64>,
    public: bool,
    inboxes: impl IntoIterator<Item = Url>,
    after: chrono::Duration,
) -> Result<activity::Model, Error> {
    let ap_id: Url = json
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::InvalidActivity("activity without id".into()))?
        .parse()?;
    let actor: Url = json
        .get("actor")
        .or_else(|| json.get("attributedTo"))
        .and_then(Value::as_str)
        .ok_or_else(|| Error::InvalidActivity("activity without actor".into()))?
        .parse()?;
    let kind = json
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("Activity")
        .to_string();
    let now = Utc::now();
    let post_id = super::about::post_about(db, json).await?;
    // Remote ids are sent as their servers wrote them (see `ids`).
    let mut restored = json.clone();
    crate::ids::restore(db, urls, &mut restored).await?;
    let row = activity::Entity::insert(activity::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(ap_id)),
        kind: Set(kind),
        actor: Set(DbUrl(actor)),
        community_id: Set(community_id),
        post_id: Set(post_id),
        data: Set(restored.to_string()),
        public: Set(public),
        published: Set(now),
    })
    .exec_with_returning(db)
    .await?;

    let targets: BTreeSet<Url> = inboxes.into_iter().filter(|u| !urls.is_local(u)).collect();
    if targets.is_empty() {
        return Ok(row);
    }
    let blocked: BTreeSet<String> = instance::Entity::find()
        .filter(instance::Column::Blocked.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.domain)
        .collect();
    let mut rows: Vec<(String, String)> = targets
        .into_iter()
        .filter_map(|inbox| {
            let domain = domain_of(&inbox);
            (!blocked.contains(&domain)).then(|| (String::from(inbox), domain))
        })
        .collect();
    if rows.is_empty() {
        return Ok(row);
    }
    rows.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    let batches = rows
        .chunks(TARGETS_PER_BATCH)
        .map(|chunk| {
            Ok(delivery_batch::ActiveModel {
                id: NotSet,
                activity_id: Set(row.id),
                targets: Set(serde_json::to_string(chunk)?),
                next_attempt_at: Set(now + after),
                locked_until: Set(None),
                created_at: Set(now),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    // Five bound values a row: a thousand rows stay under SQLite's limit.
    for chunk in batches.chunks(1000) {
        delivery_batch::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    Ok(row)
}

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

/// Returns the signing key of a local actor, reading it from the database once.
pub async fn signing_key(ctx: &FederationContext, actor: &Url) -> Result<SigningKey, Error> {
    if actor == &ctx.urls.instance_actor() {
        return Ok(ctx.instance_key.clone());
    }
    if let Some(k) = ctx.signing_keys.read().await.get(actor) {
        return Ok(k.clone());
    }
    let key = DbUrl(actor.clone());
    let pem = match person::Entity::find()
        .filter(person::Column::ApId.eq(key.clone()))
        .one(&ctx.db)
        .await?
    {
        Some(p) => p.private_key_pem,
        None => community::Entity::find()
            .filter(community::Column::ApId.eq(key))
            .one(&ctx.db)
            .await?
            .and_then(|c| c.private_key_pem),
    }
    .ok_or_else(|| Error::Crypto(format!("no private key for {actor}")))?;
    let signing = SigningKey::from_pem(Urls::key_id(actor), &pem)?;
    ctx.signing_keys
        .write()
        .await
        .insert(actor.clone(), signing.clone());
    Ok(signing)
}

/// An activity ready to go to any number of inboxes: its body, the body's `Digest` header
/// (hashed once for all of them) and the key that signs it.
#[derive(Clone)]
pub struct Outgoing {
    /// The activity's JSON.
    pub body: bytes::Bytes,
    /// The body's `Digest` header.
    pub digest: Arc<str>,
    /// The actor's key.
    pub key: SigningKey,
}

impl Outgoing {
    /// Prepares a body for sending, signed with `key`.
    pub fn new(body: bytes::Bytes, key: SigningKey) -> Self {
        let digest = crate::signatures::digest_header(&body).into();
        Self { body, digest, key }
    }
}

/// The headers of a delivery signed as `signed`, besides `Host`, `User-Agent` and
/// `Content-Length`, which the delivery client adds.
pub fn headers(signed: &crate::signatures::SignedHeaders) -> [(&'static str, &str); 5] {
    [
        ("Content-Type", crate::protocol::AP_CONTENT_TYPE),
        ("Accept", crate::protocol::AP_CONTENT_TYPE),
        ("Date", &signed.date),
        ("Digest", signed.digest.as_deref().unwrap_or_default()),
        ("Signature", &signed.signature),
    ]
}

/// Signs and POSTs one activity to one inbox.
pub async fn send(ctx: &FederationContext, out: &Outgoing, inbox: &Url) -> DeliveryOutcome {
    if let Err(e) = crate::http::check_remote_url(inbox, ctx.settings.debug) {
        return DeliveryOutcome::Permanent(e.to_string());
    }
    let signed = match out
        .key
        .sign_with_digest("POST", inbox, Some(&out.digest), Utc::now())
    {
        Ok(s) => s,
        Err(e) => return DeliveryOutcome::Permanent(e.to_string()),
    };
    let headers = headers(&signed);
    match ctx.deliveries.post(inbox, &headers, &out.body).await {
        Err(e) if e.is_permanent() => DeliveryOutcome::Permanent(format!("request failed: {e}")),
        Err(e) => DeliveryOutcome::Retry(format!("request failed: {e}"), None),
        Ok(answer) => {
            let code = answer.status;
            if (200..300).contains(&code) {
                return DeliveryOutcome::Delivered;
            }
            let msg = format!("{inbox} answered {code}");
            // Like Mastodon: 4xx is final except 401 (key not yet known), 408 and 429.
            if (400..500).contains(&code) && ![401, 408, 429].contains(&code) {
                DeliveryOutcome::Permanent(msg)
            } else {
                let after = answer
                    .retry_after
                    .and_then(|v| crate::http::retry_after(&v, Utc::now()));
                DeliveryOutcome::Retry(msg, after)
            }
        }
    }
}

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
        let activity = activity::Entity::find_by_id(batch.activity_id)
            .one(&ctx.db)
            .await?;
        let payload = payload_of(ctx, activity).await;
        return batch::send_batch(ctx, batch, payload, permits, detach).await;
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
         AND domain NOT IN (SELECT domain FROM instance WHERE paused_until > {now} AND NOT blocked)",
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

/// An activity ready to send, shared by all of its deliveries, or why there is none.
pub(super) type Payload = Result<Outgoing, String>;

async fn payload_of(ctx: &FederationContext, activity: Option<activity::Model>) -> Payload {
    let a = activity.ok_or_else(|| "activity is gone".to_string())?;
    let key = signing_key(ctx, &a.actor.0)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Outgoing::new(bytes::Bytes::from(a.data), key))
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

/// Sends one host's deliveries in turn. Once the host fails to answer (or answers 5xx), the
/// rest are put back for the next attempt unsent: waiting out a timeout once per delivery
/// would hold the whole batch.
pub(super) async fn send_to_host(
    ctx: &FederationContext,
    rows: Vec<(delivery::Model, Payload)>,
) -> Vec<(delivery::Model, DeliveryOutcome)> {
    let mut out = Vec::with_capacity(rows.len());
    let mut failing: Option<(String, Option<std::time::Duration>)> = None;
    for (row, payload) in rows {
        let outcome = match (&failing, payload) {
            (Some((why, after)), _) => {
                DeliveryOutcome::Deferred(format!("not tried: {why}"), *after)
            }
            (None, Ok(out)) => send(ctx, &out, &row.inbox.0).await,
            (None, Err(e)) => DeliveryOutcome::Permanent(e),
        };
        if let DeliveryOutcome::Retry(why, after) = &outcome {
            failing.get_or_insert_with(|| (why.clone(), *after));
        }
        out.push((row, outcome));
    }
    out
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
        ctx.metrics.delivery(&outcome);
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
            // Ten bound values a row: a thousand rows stay under SQLite's limit.
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
            id: NotSet,
            domain: Set(domain.clone()),
            blocked: Set(false),
            failure_count: Set(0),
            failing_since: Set(None),
            paused_until: Set(None),
            last_success_at: Set(Some(now)),
            ..Default::default()
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
        id: NotSet,
        domain: Set(domain.to_string()),
        blocked: Set(false),
        failure_count: Set(0),
        failing_since: Set(None),
        paused_until: Set(None),
        last_success_at: Set(None),
        ..Default::default()
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
