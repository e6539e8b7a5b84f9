//! Fetching remote documents and actors: signed GETs by the instance actor, with the checks of
//! SECURITY.md (scheme, addresses, content type, size, id equals URL), and the actor cache.

use crate::{
    protocol::{domain_of, same_origin, AnyActor, AP_CONTENT_TYPE},
    Data, Error,
};
use chrono::Utc;
use copse_entities::{community, instance, person, DbUrl};
use sea_orm::{sea_query::OnConflict, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use url::Url;

/// Largest document we fetch.
const MAX_FETCH_BYTES: usize = 1024 * 1024;
/// Remote actors older than this are refetched when next needed.
const ACTOR_REFRESH: chrono::Duration = chrono::Duration::hours(24);

/// Content types an ActivityPub document may be served with.
fn is_ap_content_type(ct: &str) -> bool {
    let ct = ct.to_ascii_lowercase();
    let main = ct.split(';').next().unwrap_or_default().trim();
    main == "application/activity+json"
        || (main == "application/ld+json" && ct.contains("https://www.w3.org/ns/activitystreams"))
}

/// Refuses hosts the operator blocked.
pub async fn check_not_blocked(db: &impl ConnectionTrait, url: &Url) -> Result<(), Error> {
    let blocked = instance::Entity::find()
        .filter(instance::Column::Domain.eq(domain_of(url)))
        .filter(instance::Column::Blocked.eq(true))
        .one(db)
        .await?;
    match blocked {
        Some(_) => Err(Error::Forbidden("domain is blocked".into())),
        None => Ok(()),
    }
}

/// GETs a remote ActivityPub document, signed by the instance actor.
pub async fn fetch_json(data: &Data, url: &Url) -> Result<Value, Error> {
    // `Host.example.` and `host.example` are one host: ask for it, and compare ids, without the
    // trailing dot (the URL parser has already lower-cased it).
    let mut normal = url.clone();
    if let Some(host) = url.host_str().filter(|h| h.ends_with('.')) {
        normal
            .set_host(Some(host.trim_end_matches('.')))
            .map_err(|e| Error::Url(e.to_string()))?;
    }
    let url = &normal;
    let doc = fetch_once(data, url).await?;
    let id = doc
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| Url::parse(s).ok())
        .ok_or_else(|| Error::InvalidActivity("fetched document has no id".into()))?;
    if &id == url {
        return Ok(doc);
    }
    // A document may live at another URL than its id on the same origin; fetch it from its id
    // once. Another origin is refused: it could claim anything.
    if !same_origin(&id, url) {
        return Err(Error::InvalidActivity(
            "fetched id is on another origin".into(),
        ));
    }
    let again = fetch_once(data, &id).await?;
    match again.get("id").and_then(Value::as_str) {
        Some(s) if s == id.as_str() => Ok(again),
        _ => Err(Error::InvalidActivity(
            "fetched id does not match its URL".into(),
        )),
    }
}

async fn fetch_once(data: &Data, url: &Url) -> Result<Value, Error> {
    crate::http::check_remote_url(url, data.settings.debug)?;
    if data.urls.is_local(url) {
        return Err(Error::InvalidActivity(
            "refusing to fetch a local URL".into(),
        ));
    }
    check_not_blocked(&data.db, url).await?;
    let signed = data.instance_key.sign("GET", url, None, Utc::now())?;
    let mut res = data
        .client
        .get(url.as_str())
        .header("Accept", AP_CONTENT_TYPE)
        .header("Date", signed.date)
        .header("Signature", signed.signature)
        .send()
        .await?;
    let status = res.status();
    if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
        return Err(Error::NotFound);
    }
    if !status.is_success() {
        return Err(Error::Http(format!("{url} answered {status}")));
    }
    let ct = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .unwrap_or_default();
    if !is_ap_content_type(ct) {
        return Err(Error::InvalidActivity(format!(
            "{url} served {ct:?}, not ActivityPub"
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await? {
        if body.len() + chunk.len() > MAX_FETCH_BYTES {
            return Err(Error::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let mut doc = serde_json::from_slice(&body)?;
    crate::limits::clamp_remote(&mut doc)?;
    // Ids go back out as their server wrote them (see `ids`).
    crate::ids::remember(&data.db, &doc, url).await?;
    Ok(doc)
}

/// A known actor: a person-like actor or a community.
#[derive(Debug, Clone, PartialEq)]
pub enum ActorRef {
    /// A `person` row.
    Person(person::Model),
    /// A `community` row.
    Community(community::Model),
}

impl ActorRef {
    /// The actor id.
    pub fn ap_id(&self) -> &Url {
        match self {
            Self::Person(p) => &p.ap_id.0,
            Self::Community(c) => &c.ap_id.0,
        }
    }

    /// The key id and PEM public key.
    pub fn key(&self) -> (&Url, &str) {
        match self {
            Self::Person(p) => (&p.key_id.0, &p.public_key_pem),
            Self::Community(c) => (&c.key_id.0, &c.public_key_pem),
        }
    }

    /// When a remote actor was last fetched.
    pub fn fetched_at(&self) -> chrono::DateTime<Utc> {
        match self {
            Self::Person(p) => p.fetched_at,
            Self::Community(c) => c.fetched_at,
        }
    }

    /// Where to deliver to it: its shared inbox if it has one, else its inbox.
    pub fn delivery_inbox(&self) -> &Url {
        match self {
            Self::Person(p) => p.shared_inbox.as_ref().unwrap_or(&p.inbox),
            Self::Community(c) => c.shared_inbox.as_ref().unwrap_or(&c.inbox),
        }
    }
}

/// Looks an actor up in the database, without fetching.
pub async fn cached_actor(db: &impl ConnectionTrait, id: &Url) -> Result<Option<ActorRef>, Error> {
    let key = DbUrl(id.clone());
    if let Some(p) = person::Entity::find()
        .filter(person::Column::ApId.eq(key.clone()))
        .one(db)
        .await?
    {
        return Ok(Some(ActorRef::Person(p)));
    }
    Ok(community::Entity::find()
        .filter(community::Column::ApId.eq(key))
        .one(db)
        .await?
        .map(ActorRef::Community))
}

/// Fetches an actor document and checks that it is consistent: its id is the URL asked for and
/// its key belongs to it.
pub async fn fetch_actor(data: &Data, id: &Url) -> Result<AnyActor, Error> {
    let doc = fetch_json(data, id).await?;
    let actor = AnyActor::from_json(doc)?;
    let key = actor.public_key();
    if &key.owner != actor.id() || !same_origin(&key.id, actor.id()) {
        return Err(Error::InvalidActivity(
            "actor key belongs to someone else".into(),
        ));
    }
    Ok(actor)
}

/// Stores (or refreshes) a remote actor. A remote update always wins (never insert-or-ignore),
/// except for the key of an actor already known: a key that changed on an ordinary refetch is
/// not taken (GoToSocial refuses such a swap too, gotosocial#3198). A rotated key is taken
/// only by [`upsert_actor_with_key`], once a signature has proved it.
pub async fn upsert_actor(db: &impl ConnectionTrait, actor: &AnyActor) -> Result<ActorRef, Error> {
    upsert(db, actor, false).await
}

/// Like [`upsert_actor`], taking the actor's key as fetched: for the inbox, after the fetched
/// key verified a request the stored one did not.
pub async fn upsert_actor_with_key(
    db: &impl ConnectionTrait,
    actor: &AnyActor,
) -> Result<ActorRef, Error> {
    upsert(db, actor, true).await
}

async fn upsert(
    db: &impl ConnectionTrait,
    actor: &AnyActor,
    new_key: bool,
) -> Result<ActorRef, Error> {
    let now = Utc::now();
    match actor {
        AnyActor::Person(p) => {
            let row = person::ActiveModel {
                ap_id: Set(DbUrl(p.id.clone())),
                name: Set(p.preferred_username.clone()),
                display_name: Set(p.name.clone()),
                avatar: Set(p
                    .avatar()
                    .map(|u| u.to_string())
                    .filter(|u| u.len() <= crate::limits::MAX_AVATAR_URL)),
                summary: Set(p
                    .summary
                    .as_deref()
                    .map(|s| crate::limits::sanitize_html_within(s, crate::limits::MAX_SUMMARY))),
                inbox: Set(DbUrl(p.inbox.clone())),
                shared_inbox: Set(p
                    .endpoints
                    .as_ref()
                    .and_then(|e| e.shared_inbox.clone())
                    .map(DbUrl)),
                key_id: Set(DbUrl(p.public_key.id.clone())),
                public_key_pem: Set(p.public_key.public_key_pem.clone()),
                private_key_pem: Set(None),
                local: Set(false),
                published: Set(p.published.unwrap_or(now)),
                fetched_at: Set(now),
                // Mastodon leaves it out for accounts that never chose, and lists none of them.
                discoverable: Set(p.discoverable.unwrap_or(false)),
                ..Default::default()
            };
            person::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(person::Column::ApId)
                        .update_columns([
                            person::Column::Name,
                            person::Column::DisplayName,
                            person::Column::Avatar,
                            person::Column::Summary,
                            person::Column::Inbox,
                            person::Column::SharedInbox,
                            person::Column::FetchedAt,
                            person::Column::Discoverable,
                        ])
                        .update_columns(
                            new_key
                                .then_some([person::Column::KeyId, person::Column::PublicKeyPem])
                                .into_iter()
                                .flatten(),
                        )
                        .to_owned(),
                )
                .exec(db)
                .await?;
        }
        AnyActor::Group(g) => {
            let row = community::ActiveModel {
                ap_id: Set(DbUrl(g.id.clone())),
                name: Set(g.preferred_username.clone()),
                title: Set(g
                    .name
                    .clone()
                    .unwrap_or_else(|| g.preferred_username.clone())),
                summary: Set(g
                    .summary
                    .as_deref()
                    .map(|s| crate::limits::sanitize_html_within(s, crate::limits::MAX_SUMMARY))),
                inbox: Set(DbUrl(g.inbox.clone())),
                shared_inbox: Set(g
                    .endpoints
                    .as_ref()
                    .and_then(|e| e.shared_inbox.clone())
                    .map(DbUrl)),
                key_id: Set(DbUrl(g.public_key.id.clone())),
                public_key_pem: Set(g.public_key.public_key_pem.clone()),
                private_key_pem: Set(None),
                local: Set(false),
                manually_approves_followers: Set(g.manually_approves_followers),
                discoverable: Set(g.discoverable.unwrap_or(true)),
                published: Set(g.published.unwrap_or(now)),
                fetched_at: Set(now),
                // A server names a parent only among its own communities (`store::tree`).
                parent_ap_id: Set(g
                    .parent
                    .clone()
                    .filter(|p| crate::protocol::same_origin(p, &g.id) && p != &g.id)
                    .map(DbUrl)),
                ..Default::default()
            };
            community::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(community::Column::ApId)
                        .update_columns([
                            community::Column::Name,
                            community::Column::Title,
                            community::Column::Summary,
                            community::Column::Inbox,
                            community::Column::SharedInbox,
                            community::Column::ManuallyApprovesFollowers,
                            community::Column::Discoverable,
                            community::Column::FetchedAt,
                            community::Column::ParentApId,
                        ])
                        .update_columns(
                            new_key
                                .then_some([
                                    community::Column::KeyId,
                                    community::Column::PublicKeyPem,
                                ])
                                .into_iter()
                                .flatten(),
                        )
                        .to_owned(),
                )
                .exec(db)
                .await?;
        }
    }
    let stored = cached_actor(db, actor.id()).await?.ok_or(Error::NotFound)?;
    if let ActorRef::Person(p) = &stored {
        crate::store::members::follow_discoverable(db, p).await?;
    }
    Ok(stored)
}

/// Returns an actor from the cache, fetching it when unknown or stale.
pub async fn resolve_actor(data: &Data, id: &Url) -> Result<ActorRef, Error> {
    if let Some(found) = cached_actor(&data.db, id).await? {
        let local = matches!(&found, ActorRef::Person(p) if p.local)
            || matches!(&found, ActorRef::Community(c) if c.local);
        if local || Utc::now() - found.fetched_at() < ACTOR_REFRESH {
            return Ok(found);
        }
        // Stale: refresh, but keep using the old copy if the origin is unreachable.
        return match fetch_actor(data, id).await {
            Ok(fresh) => upsert_actor(&data.db, &fresh).await,
            Err(Error::NotFound) => Err(Error::NotFound),
            Err(_) => Ok(found),
        };
    }
    let fresh = fetch_actor(data, id).await?;
    upsert_actor(&data.db, &fresh).await
}

/// Fetches the communities above a remote community that this server does not know yet, up to
/// `depth` of them, so that pages can name them; one that cannot be fetched stays unnamed.
pub async fn resolve_parents(data: &Data, c: &community::Model, depth: usize) {
    let mut at = c.clone();
    for _ in 0..depth {
        let Some(parent) = at.parent_ap_id.clone().filter(|_| !at.local) else {
            return;
        };
        match resolve_actor(data, &parent.0).await {
            Ok(ActorRef::Community(p)) => at = p,
            _ => return,
        }
    }
}

/// Resolves `name@domain` (optionally with a leading `@` or `acct:`) through WebFinger.
pub async fn webfinger(data: &Data, handle: &str) -> Result<ActorRef, Error> {
    let jrd = webfinger_document(data, handle).await?;
    let href = jrd
        .get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|l| {
            l.get("rel").and_then(Value::as_str) == Some("self")
                && l.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(is_ap_content_type_loose)
        })
        .and_then(|l| l.get("href").and_then(Value::as_str))
        .ok_or(Error::NotFound)?;
    resolve_actor(data, &Url::parse(href)?).await
}

/// The "follow from your own server" address for `handle`'s server: its WebFinger
/// `http://ostatus.org/schema/1.0/subscribe` template (Mastodon, GoToSocial, Pleroma,
/// Friendica and Misskey publish one) with `{uri}` filled in with `what`.
pub async fn remote_interaction(data: &Data, handle: &str, what: &str) -> Result<Url, Error> {
    let jrd = webfinger_document(data, handle).await?;
    let template = jrd
        .get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|l| {
            l.get("rel").and_then(Value::as_str) == Some("http://ostatus.org/schema/1.0/subscribe")
        })
        .and_then(|l| l.get("template").and_then(Value::as_str))
        .filter(|t| t.contains("{uri}"))
        .ok_or(Error::NotFound)?;
    let filled: String = url::form_urlencoded::byte_serialize(what.as_bytes()).collect();
    let url = Url::parse(&template.replace("{uri}", &filled))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Url(format!("{url} is not a web address")));
    }
    Ok(url)
}

/// The WebFinger document of `name@domain`.
async fn webfinger_document(data: &Data, handle: &str) -> Result<Value, Error> {
    let handle = handle
        .trim()
        .trim_start_matches("acct:")
        .trim_start_matches('@');
    let (name, domain) = handle
        .rsplit_once('@')
        .ok_or_else(|| Error::Url(format!("{handle} is not name@domain")))?;
    let bad_name = |c: char| c.is_whitespace() || c.is_control() || "/?#@".contains(c);
    if name.is_empty() || name.contains(bad_name) || !is_host_and_port(domain) {
        return Err(Error::Url(format!("{handle} is not name@domain")));
    }
    let scheme = if data.settings.debug { "http" } else { "https" };
    let mut url = Url::parse(&format!("{scheme}://{domain}/.well-known/webfinger"))?;
    url.query_pairs_mut()
        .append_pair("resource", &format!("acct:{name}@{domain}"));
    if data.urls.is_local(&url) {
        return Err(Error::NotFound);
    }
    crate::http::check_remote_url(&url, data.settings.debug)?;
    check_not_blocked(&data.db, &url).await?;
    let res = data
        .client
        .get(url.as_str())
        .header("Accept", "application/jrd+json, application/json")
        .send()
        .await?;
    if res.status() == reqwest::StatusCode::NOT_FOUND {
        return Err(Error::NotFound);
    }
    if !res.status().is_success() {
        return Err(Error::Http(format!("webfinger answered {}", res.status())));
    }
    let bytes = res.bytes().await?;
    if bytes.len() > MAX_FETCH_BYTES {
        return Err(Error::TooLarge);
    }
    Ok(serde_json::from_slice(&bytes)?)
}

/// True for a plain `host` or `host:port`: a DNS name or IP literal, nothing a URL would read
/// as a path, query, fragment or user.
fn is_host_and_port(domain: &str) -> bool {
    if domain.is_empty() || domain.len() > 255 {
        return false;
    }
    if domain
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "/?#@\\%".contains(c))
    {
        return false;
    }
    let (host, port) = match domain.rsplit_once(':') {
        Some((h, _)) if !h.ends_with(']') && h.contains(':') => (domain, None),
        Some((h, p)) => (h, Some(p)),
        None => (domain, None),
    };
    if port.is_some_and(|p| {
        p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.parse::<u16>().is_err()
    }) {
        return false;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok();
    }
    host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    })
}

fn is_ap_content_type_loose(ct: &str) -> bool {
    ct.starts_with("application/activity+json") || ct.starts_with("application/ld+json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_activitypub_content_types_are_accepted() {
        assert!(is_ap_content_type("application/activity+json"));
        assert!(is_ap_content_type(
            "application/activity+json; charset=utf-8"
        ));
        assert!(is_ap_content_type(
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
        ));
        assert!(!is_ap_content_type("application/json"));
        assert!(!is_ap_content_type("text/html"));
        assert!(!is_ap_content_type("application/ld+json"));
    }

    #[test]
    fn handle_domains_are_plain_hosts() {
        for ok in [
            "example.org",
            "alpha.localhost:8080",
            "xn--bcher-kva.example",
            "bücher.example",
            "[::1]:443",
            "10.0.0.1",
        ] {
            assert!(is_host_and_port(ok), "{ok}");
        }
        for bad in [
            "",
            "example.org/path",
            "example.org?x=1",
            "example.org#f",
            "user@example.org",
            "exa mple.org",
            "example.org:",
            "example.org:99999",
            "example.org:80a",
            "example..org",
            "-example.org",
            "example.org\\x",
            "ex%41mple.org",
            "[::1",
            "::1",
        ] {
            assert!(!is_host_and_port(bad), "{bad}");
        }
    }
}
