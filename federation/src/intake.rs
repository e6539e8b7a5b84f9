//! The inbox pipeline, in SECURITY.md's order: everything that needs no network runs first
//! (Host, signature header, time window, digest, domain block, JSON, origins), then the signer's
//! key is fetched (cached, refetched once on failure), the signature verified, and the activity
//! stored durably before the caller answers 202. Processing happens later, in the inbox worker.

use crate::{
    fetch::{cached_actor, fetch_actor, upsert_actor_with_key},
    protocol::{domain_of, same_origin, Envelope},
    signatures::{self, PublicKey, RequestParts, SignatureError},
    Data, Error,
};
use chrono::Utc;
use copse_entities::{instance, received_activity, received_activity::InboxStatus, DbUrl};
use http::HeaderMap;
use sea_orm::{sea_query::Expr, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;

/// A request as it reached an inbox.
#[derive(Debug, Clone, Copy)]
pub struct IncomingRequest<'a> {
    /// `POST`.
    pub method: &'a str,
    /// Path and query, as signed.
    pub path_and_query: &'a str,
    /// Headers.
    pub headers: &'a HeaderMap,
    /// The whole body (already capped in size).
    pub body: &'a [u8],
}

/// What the inbox did with an activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// Stored for processing.
    Stored,
    /// Seen before: nothing new stored.
    Duplicate,
    /// Accepted and dropped without storing (a Delete from an actor we never knew).
    Ignored,
}

/// Runs the inbox checks and stores a verified activity.
pub async fn ingest(data: &Data, req: IncomingRequest<'_>) -> Result<Ingested, Error> {
    let result = check_and_store(data, req).await;
    data.metrics.received(counted(&result));
    result
}

/// An inbox answer as `/metrics` counts it.
fn counted(result: &Result<Ingested, Error>) -> crate::metrics::Received {
    use crate::metrics::Received;
    match result {
        Ok(Ingested::Stored) => Received::Stored,
        Ok(Ingested::Duplicate) => Received::Duplicate,
        Ok(Ingested::Ignored) => Received::Ignored,
        Err(_) => Received::Rejected,
    }
}

async fn check_and_store(data: &Data, req: IncomingRequest<'_>) -> Result<Ingested, Error> {
    let host = req
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if host != data.settings.domain.to_ascii_lowercase() {
        return Err(SignatureError::WrongHost.into());
    }
    let parts = RequestParts {
        method: req.method,
        path_and_query: req.path_and_query,
        headers: req.headers,
        body: Some(req.body),
    };
    let sig = signatures::precheck(&parts, Utc::now())?;
    // One look at the sender's instance row: blocked, and (below) paused.
    let sender = instance::Entity::find()
        .filter(instance::Column::Domain.eq(domain_of(&sig.key_id)))
        .one(&data.db)
        .await?;
    if sender.as_ref().is_some_and(|i| i.blocked) {
        return Err(Error::Forbidden("domain is blocked".into()));
    }

    let mut json: Value = serde_json::from_slice(req.body)?;
    crate::limits::clamp_remote(&mut json)?;
    let env: Envelope = serde_json::from_value(json.clone())
        .map_err(|e| Error::InvalidActivity(format!("not an activity: {e}")))?;
    if !same_origin(&sig.key_id, &env.actor) {
        return Err(SignatureError::KeyNotActors.into());
    }
    if !same_origin(&env.id, &env.actor) {
        return Err(Error::InvalidActivity(
            "activity id and actor are on different origins".into(),
        ));
    }
    if data.urls.is_local(&env.actor) || data.urls.is_local(&env.id) {
        return Err(Error::InvalidActivity(
            "activity claims to come from this instance".into(),
        ));
    }
    check_authorship(&env, &json)?;

    let cached = cached_actor(&data.db, &env.actor).await?;
    // Mastodon: a Delete from an actor we never knew needs no work and no fetch.
    if cached.is_none() && env.kind == "Delete" {
        return Ok(Ingested::Ignored);
    }
    let mut verified = false;
    if let Some(actor) = &cached {
        let (key_id, pem) = actor.key();
        if key_id == &sig.key_id {
            let key = data.public_key(key_id, pem)?;
            verified = signatures::verify(&sig, &parts, &key).is_ok();
        }
    }
    if !verified {
        // Unknown actor, a rotated key, or a bad signature: fetch the actor once and try again.
        let fresh = match fetch_actor(data, &env.actor).await {
            Ok(a) => a,
            Err(Error::Forbidden(m)) => return Err(Error::Forbidden(m)),
            Err(e) => {
                tracing::debug!("inbox: cannot fetch {}: {e}", env.actor);
                return Err(SignatureError::KeyUnavailable.into());
            }
        };
        let key = fresh.public_key();
        if key.id != sig.key_id {
            return Err(SignatureError::KeyNotActors.into());
        }
        signatures::verify(&sig, &parts, &PublicKey::from_pem(&key.public_key_pem)?)?;
        upsert_actor_with_key(&data.db, &fresh).await?;
    }

    // Ids go back out as the sender wrote them (see `ids`).
    crate::ids::remember(&data.db, &json, &env.actor).await?;
    let now = Utc::now();
    let row = received_activity::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(env.id.clone())),
        actor: Set(DbUrl(env.actor.clone())),
        kind: Set(env.kind.clone()),
        data: Set(json.to_string()),
        status: Set(InboxStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        received_at: Set(now),
    };
    if !data.store_received(row).await? {
        return Ok(Ingested::Duplicate);
    }
    // Hearing from a paused instance means it is back.
    if sender.is_some_and(|i| i.paused_until.is_some() || i.failure_count > 0) {
        instance::Entity::update_many()
            .col_expr(
                instance::Column::PausedUntil,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .col_expr(instance::Column::FailureCount, Expr::value(0))
            .col_expr(
                instance::Column::FailingSince,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .filter(instance::Column::Domain.eq(domain_of(&env.actor)))
            .exec(&data.db)
            .await?;
        data.healthy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&domain_of(&env.actor));
    }
    data.inbox_wake.notify_one();
    Ok(Ingested::Stored)
}

/// A `Create` or `Update` of a post embeds a post by its signer, on the signer's origin
/// (SECURITY.md T7), and whatever else a `Create`, `Update` or `Undo` embeds is the signer's
/// too, so on its origin (T6): refused before it is stored. The author of an event is left to
/// the worker, since a Mobilizon group sends its events with the organiser as the object's
/// `actor`.
fn check_authorship(env: &Envelope, json: &Value) -> Result<(), Error> {
    if !matches!(env.kind.as_str(), "Create" | "Update" | "Undo") {
        return Ok(());
    }
    let Some(object) = json.get("object").filter(|o| o.is_object()) else {
        return Ok(());
    };
    let kind = object.get("type").and_then(Value::as_str);
    let id = object
        .get("id")
        .and_then(Value::as_str)
        .and_then(|i| url::Url::parse(i).ok());
    let post = env.kind != "Undo" && matches!(kind, Some("Note" | "Page" | "Article" | "Question"));
    if post {
        let author = object
            .get("attributedTo")
            .cloned()
            .and_then(|a| crate::protocol::first_id(a).ok());
        if author.as_ref() != Some(&env.actor) {
            return Err(Error::InvalidActivity(
                "the post is not attributed to the signer".into(),
            ));
        }
        if !id.as_ref().is_some_and(|id| same_origin(id, &env.actor)) {
            return Err(Error::InvalidActivity(
                "the post and its author are on different origins".into(),
            ));
        }
    }
    // Lemmy: a moderator on one instance sends `Update{Group}` of a community on another.
    let moderators_update = env.kind == "Update" && kind == Some("Group");
    if !moderators_update && id.is_some_and(|id| !same_origin(&id, &env.actor)) {
        return Err(Error::InvalidActivity(
            "the embedded object is on another origin than its signer".into(),
        ));
    }
    Ok(())
}
