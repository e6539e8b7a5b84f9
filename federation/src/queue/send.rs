//! Sending one activity: the signing keys of local actors, the body signed once for all its
//! inboxes, and the POST to one inbox or to one host's inboxes in turn. Both the batches of first
//! attempts ([`super::batch`]) and the retries ([`super::delivery`]) send through here.

use super::DeliveryOutcome;
use crate::{signatures::SigningKey, urls::Urls, Error, FederationContext};
use chrono::Utc;
use copse_entities::{activity, community, delivery, person, DbUrl};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::sync::Arc;
use url::Url;

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

/// An activity ready to send, shared by all of its deliveries, or why there is none.
pub(super) type Payload = Result<Outgoing, String>;

pub(super) async fn payload_of(
    ctx: &FederationContext,
    activity: Option<activity::Model>,
) -> Payload {
    let a = activity.ok_or_else(|| "activity is gone".to_string())?;
    let key = signing_key(ctx, &a.actor.0)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Outgoing::new(bytes::Bytes::from(a.data), key))
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
