//! Storing the activities we send and queueing their first attempts, in the caller's
//! transaction, as `delivery_batch` rows of up to [`TARGETS_PER_BATCH`] inboxes. Several forms
//! of one thing (both Announce forms of a topic) share their batches: each inbox gets them in
//! order over one connection.

use crate::{
    protocol::{domain_of, WithContext},
    urls::Urls,
    Error,
};
use chrono::Utc;
use copse_entities::{activity, delivery_batch, instance, DbUrl};
use sea_orm::{ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use url::Url;

/// Inboxes in one `delivery_batch` row: one claim's worth with the default `claim_batch`.
pub const TARGETS_PER_BATCH: usize = 256;

/// An activity we send: a protocol struct with our JSON-LD context. Its JSON is made only
/// here, when it is stored.
pub trait Outgoing: Send + Sync {
    /// The activity's JSON as it is stored and sent.
    fn to_json(&self) -> Result<Value, serde_json::Error>;
}

impl<T: Serialize + Send + Sync> Outgoing for WithContext<T> {
    fn to_json(&self) -> Result<Value, serde_json::Error> {
        serde_json::to_value(self)
    }
}

/// One activity to send and the inboxes it goes to.
#[derive(Clone)]
pub struct Form<'a> {
    /// The activity.
    pub activity: &'a dyn Outgoing,
    /// The community it is about, for its outbox.
    pub community_id: Option<i64>,
    /// Whether it is public (shown in outboxes).
    pub public: bool,
    /// Its target inboxes, shared inboxes already substituted.
    pub inboxes: BTreeSet<Url>,
}

/// Stores an activity we send and queues one delivery per distinct inbox (shared inboxes
/// already substituted by the caller), in batches of a host's inboxes side by side. Local and
/// blocked inboxes are skipped. Call inside the transaction of the local change, then wake the
/// workers after commit.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    urls: &Urls,
    activity: &dyn Outgoing,
    community_id: Option<i64>,
    public: bool,
    inboxes: impl IntoIterator<Item = Url>,
) -> Result<activity::Model, Error> {
    let form = Form {
        activity,
        community_id,
        public,
        inboxes: inboxes.into_iter().collect(),
    };
    let mut rows = enqueue_in_order(db, urls, vec![form]).await?;
    rows.pop()
        .ok_or_else(|| Error::InvalidActivity("nothing stored".into()))
}

/// Like [`enqueue`] for several activities at once, which every inbox they share gets in the
/// order given, from one batch over one connection (a later one only once the earlier ones to
/// that inbox are no longer pending). Returns the stored activities in that order.
pub async fn enqueue_in_order(
    db: &impl ConnectionTrait,
    urls: &Urls,
    forms: Vec<Form<'_>>,
) -> Result<Vec<activity::Model>, Error> {
    let now = Utc::now();
    let mut stored = Vec::with_capacity(forms.len());
    for form in &forms {
        stored.push(store(db, urls, form, now).await?);
    }
    let remote = |f: &Form<'_>| f.inboxes.iter().any(|u| !urls.is_local(u));
    if !forms.iter().any(remote) {
        return Ok(stored);
    }
    let blocked: BTreeSet<String> = instance::Entity::find()
        .filter(instance::Column::Blocked.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.domain)
        .collect();
    // Each target's activities, in order; targets that get the same ones share batches.
    let mut sequences: BTreeMap<Url, Vec<i64>> = BTreeMap::new();
    for (form, row) in forms.iter().zip(&stored) {
        for inbox in &form.inboxes {
            if !urls.is_local(inbox) && !blocked.contains(&domain_of(inbox)) {
                sequences.entry(inbox.clone()).or_default().push(row.id);
            }
        }
    }
    let mut by_sequence: BTreeMap<Vec<i64>, Vec<(String, String)>> = BTreeMap::new();
    for (inbox, sequence) in sequences {
        let domain = domain_of(&inbox);
        by_sequence
            .entry(sequence)
            .or_default()
            .push((String::from(inbox), domain));
    }
    let mut batches = Vec::new();
    for (sequence, mut targets) in by_sequence {
        let Some((&first, then)) = sequence.split_first() else {
            continue;
        };
        let then = match then {
            [] => None,
            ids => Some(serde_json::to_string(ids)?),
        };
        targets.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        for chunk in targets.chunks(TARGETS_PER_BATCH) {
            batches.push(delivery_batch::ActiveModel {
                id: NotSet,
                activity_id: Set(first),
                targets: Set(serde_json::to_string(chunk)?),
                then_activities: Set(then.clone()),
                next_attempt_at: Set(now),
                locked_until: Set(None),
                created_at: Set(now),
            });
        }
    }
    // Six bound values a row: a thousand rows stay under SQLite's limit.
    for chunk in batches.chunks(1000) {
        delivery_batch::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    Ok(stored)
}

/// Stores one activity we send.
async fn store(
    db: &impl ConnectionTrait,
    urls: &Urls,
    form: &Form<'_>,
    now: chrono::DateTime<Utc>,
) -> Result<activity::Model, Error> {
    let mut json = form.activity.to_json()?;
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
    let post_id = super::about::post_about(db, &json).await?;
    // Remote ids are sent as their servers wrote them (see `ids`).
    crate::ids::restore(db, urls, &mut json).await?;
    Ok(activity::Entity::insert(activity::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(ap_id)),
        kind: Set(kind),
        actor: Set(DbUrl(actor)),
        community_id: Set(form.community_id),
        post_id: Set(post_id),
        data: Set(json.to_string()),
        public: Set(form.public),
        published: Set(now),
    })
    .exec_with_returning(db)
    .await?)
}
