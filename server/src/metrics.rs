//! `GET /metrics` in Prometheus' text format, on a listener of its own (`[metrics]`): the
//! queues' depths and ages and the instances' states, read from the database (and so the same
//! from every process that shares it), and this process's own counters of deliveries and inbox
//! traffic, which live in its federation context.

use crate::{settings::Settings, AppState};
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};
use std::{fmt::Write, net::SocketAddr, time::Duration};
use tokio::task::JoinSet;

/// The metrics router: `GET /metrics` and nothing else.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(http_get_metrics))
        .with_state(state)
}

/// Starts the metrics listener when `[metrics] enabled`; returns the address it listens on.
pub fn spawn(
    tasks: &mut JoinSet<()>,
    config: &AppState,
    settings: &Settings,
) -> std::io::Result<Option<SocketAddr>> {
    if !settings.metrics.enabled {
        return Ok(None);
    }
    let listener = crate::listen(settings.metrics.bind)?;
    let addr = listener.local_addr()?;
    let timeout = Duration::from_secs(settings.http.header_read_timeout_seconds);
    tasks.spawn(crate::serve(listener, router(config.clone()), timeout));
    Ok(Some(addr))
}

async fn http_get_metrics(State(state): State<AppState>) -> Response {
    match render(&state).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!("metrics: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

/// One metric family: its name, help, type, and `(labels, value)` samples.
struct Family<'a> {
    name: &'a str,
    help: &'a str,
    kind: &'a str,
    samples: Vec<(String, f64)>,
}

impl Family<'_> {
    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind);
        for (labels, value) in &self.samples {
            let _ = writeln!(out, "{}{{{labels}}} {value}", self.name);
        }
    }
}

fn label(key: &str, value: &str) -> String {
    format!("{key}=\"{value}\"")
}

/// The queues at one moment, read from the database: what `/metrics` exposes and the admin's
/// queue page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    /// Deliveries still to make, those in batches not yet attempted included.
    pub outbox: i64,
    /// Received activities not yet applied.
    pub inbox: i64,
    /// When the oldest waiting delivery was queued.
    pub oldest_outbox: Option<DateTime<Utc>>,
    /// When the oldest waiting received activity arrived.
    pub oldest_inbox: Option<DateTime<Utc>>,
    /// Deliveries given up and kept.
    pub failed_outbox: i64,
    /// Received activities that could not be applied.
    pub failed_inbox: i64,
}

/// The queues' depths, oldest items and failures at `now`.
pub async fn backlog(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Backlog, DbErr> {
    let q = Queries::new(db.get_database_backend());
    Ok(Backlog {
        outbox: q.count(db, &q.pending_deliveries, now).await? + q.batch_targets(db).await?,
        inbox: q.count(db, &q.pending_inbox, now).await?,
        oldest_outbox: earliest(
            q.time(db, &q.oldest_delivery, now).await?,
            q.time(db, &q.oldest_batch, now).await?,
        ),
        oldest_inbox: q.time(db, &q.oldest_inbox, now).await?,
        failed_outbox: q.count(db, &q.failed_deliveries, now).await?,
        failed_inbox: q.count(db, &q.failed_inbox, now).await?,
    })
}

/// The whole exposition: database figures at this moment, then this process's counters.
pub async fn render(state: &AppState) -> Result<String, DbErr> {
    let db = &state.db;
    let now = Utc::now();
    let q = Queries::new(db.get_database_backend());
    let b = backlog(db, now).await?;
    let age = |t: Option<DateTime<Utc>>| {
        t.map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
            .unwrap_or(0.0)
    };
    let due_outbox = earliest(
        q.time(db, &q.due_delivery, now).await?,
        q.time(db, &q.due_batch, now).await?,
    );
    let c = &state.metrics;
    let counter = |counts: Vec<(&str, u64)>, key: &str| {
        counts
            .into_iter()
            .map(|(l, n)| (label(key, l), n as f64))
            .collect()
    };
    let families = [
        Family {
            name: "copse_queue_depth",
            help: "Items waiting: deliveries still to make (outbox), received activities not yet applied (inbox).",
            kind: "gauge",
            samples: vec![
                (label("queue", "outbox"), b.outbox as f64),
                (label("queue", "inbox"), b.inbox as f64),
            ],
        },
        Family {
            name: "copse_queue_oldest_age_seconds",
            help: "Age of the oldest waiting item, retries included; 0 when the queue is empty.",
            kind: "gauge",
            samples: vec![
                (label("queue", "outbox"), age(b.oldest_outbox)),
                (label("queue", "inbox"), age(b.oldest_inbox)),
            ],
        },
        Family {
            name: "copse_queue_lag_seconds",
            help: "How long the most overdue item has been due (paused instances left out); 0 when none is.",
            kind: "gauge",
            samples: vec![
                (label("queue", "outbox"), age(due_outbox)),
                (
                    label("queue", "inbox"),
                    age(q.time(db, &q.due_inbox, now).await?),
                ),
            ],
        },
        Family {
            name: "copse_queue_failed",
            help: "Items given up and kept: failed deliveries, activities that could not be applied.",
            kind: "gauge",
            samples: vec![
                (label("queue", "outbox"), b.failed_outbox as f64),
                (label("queue", "inbox"), b.failed_inbox as f64),
            ],
        },
        Family {
            name: "copse_instances",
            help: "Remote instances: paused as dead, blocked by the operator, failing since their last success.",
            kind: "gauge",
            samples: vec![
                (
                    label("state", "paused"),
                    q.count(db, &q.paused, now).await? as f64,
                ),
                (
                    label("state", "blocked"),
                    q.count(db, &q.blocked, now).await? as f64,
                ),
                (
                    label("state", "failing"),
                    q.count(db, &q.failing, now).await? as f64,
                ),
            ],
        },
        Family {
            name: "copse_deliveries_total",
            help: "Delivery attempts by this process since it started, by outcome.",
            kind: "counter",
            samples: counter(c.deliveries(), "outcome"),
        },
        Family {
            name: "copse_inbox_received_total",
            help: "Inbox requests to this process since it started, by what was done with them.",
            kind: "counter",
            samples: counter(c.received_counts(), "result"),
        },
        Family {
            name: "copse_inbox_processed_total",
            help: "Received activities this process's inbox workers handled since it started, by result.",
            kind: "counter",
            samples: counter(c.processed_counts(), "result"),
        },
    ];
    let mut out = String::new();
    for f in &families {
        f.write(&mut out);
    }
    Ok(out)
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The statements behind the figures; `{now}` is the one bound value.
struct Queries {
    backend: DatabaseBackend,
    pending_deliveries: String,
    pending_inbox: String,
    failed_deliveries: String,
    failed_inbox: String,
    oldest_delivery: String,
    oldest_batch: String,
    oldest_inbox: String,
    due_delivery: String,
    due_batch: String,
    due_inbox: String,
    paused: String,
    blocked: String,
    failing: String,
}

impl Queries {
    fn new(backend: DatabaseBackend) -> Self {
        let s = |sql: &str| sql.to_string();
        let not_paused = "domain NOT IN (SELECT domain FROM instance WHERE paused_until > {now})";
        Self {
            backend,
            pending_deliveries: s("SELECT COUNT(*) FROM delivery WHERE status = 'pending'"),
            pending_inbox: s("SELECT COUNT(*) FROM received_activity WHERE status = 'pending'"),
            failed_deliveries: s("SELECT COUNT(*) FROM delivery WHERE status = 'failed'"),
            failed_inbox: s("SELECT COUNT(*) FROM received_activity WHERE status = 'failed'"),
            oldest_delivery: s("SELECT MIN(created_at) FROM delivery WHERE status = 'pending'"),
            oldest_batch: s("SELECT MIN(created_at) FROM delivery_batch"),
            oldest_inbox: s(
                "SELECT MIN(received_at) FROM received_activity WHERE status = 'pending'",
            ),
            due_delivery: format!(
                "SELECT MIN(next_attempt_at) FROM delivery WHERE status = 'pending' \
                 AND next_attempt_at <= {{now}} AND {not_paused}"
            ),
            due_batch: s(
                "SELECT MIN(next_attempt_at) FROM delivery_batch WHERE next_attempt_at <= {now}",
            ),
            due_inbox: s(
                "SELECT MIN(next_attempt_at) FROM received_activity WHERE status = 'pending' \
                 AND next_attempt_at <= {now}",
            ),
            paused: s("SELECT COUNT(*) FROM instance WHERE paused_until > {now}"),
            blocked: s("SELECT COUNT(*) FROM instance WHERE blocked"),
            failing: s("SELECT COUNT(*) FROM instance WHERE failure_count > 0"),
        }
    }

    fn statement(&self, sql: &str, now: DateTime<Utc>) -> Statement {
        let placeholder = match self.backend {
            DatabaseBackend::Postgres => "$1",
            _ => "?1",
        };
        let values: Vec<Value> = if sql.contains("{now}") {
            vec![now.into()]
        } else {
            Vec::new()
        };
        Statement::from_sql_and_values(self.backend, sql.replace("{now}", placeholder), values)
    }

    async fn count(
        &self,
        db: &impl ConnectionTrait,
        sql: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, DbErr> {
        let row = db.query_one_raw(self.statement(sql, now)).await?;
        Ok(match row {
            Some(r) => r.try_get_by_index::<i64>(0)?,
            None => 0,
        })
    }

    async fn time(
        &self,
        db: &impl ConnectionTrait,
        sql: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, DbErr> {
        let row = db.query_one_raw(self.statement(sql, now)).await?;
        Ok(match row {
            Some(r) => r.try_get_by_index::<Option<DateTime<Utc>>>(0)?,
            None => None,
        })
    }

    /// Deliveries of batches not yet attempted: each target gets the batch's own activity and
    /// every one of `then_activities` (both JSON arrays).
    async fn batch_targets(&self, db: &impl ConnectionTrait) -> Result<i64, DbErr> {
        let sql = match self.backend {
            DatabaseBackend::Postgres => {
                "SELECT CAST(COALESCE(SUM(json_array_length(CAST(targets AS json)) \
                   * (1 + COALESCE(json_array_length(CAST(then_activities AS json)), 0))), 0) \
                   AS BIGINT) FROM delivery_batch"
            }
            _ => {
                "SELECT COALESCE(SUM(json_array_length(targets) \
                   * (1 + COALESCE(json_array_length(then_activities), 0))), 0) FROM delivery_batch"
            }
        };
        self.count(db, sql, Utc::now()).await
    }
}
