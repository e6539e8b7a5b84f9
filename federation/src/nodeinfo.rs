//! Which software a remote server runs, from its NodeInfo (`/.well-known/nodeinfo`, then the
//! 2.x document it links), kept on its `instance` row and looked at again once a week.
//!
//! Copse sends each server the forms it reads ([`Reads`]): what it does not know about a server
//! it sends in every form, as before.

use crate::{fetch::check_not_blocked, protocol::domain_of, Data, Error};
use chrono::Utc;
use copse_entities::instance;
use sea_orm::{sea_query::OnConflict, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use url::Url;

/// Largest NodeInfo document read.
const MAX_BYTES: usize = 64 * 1024;
/// How long what a server runs is trusted before it is looked at again.
const RECHECK: chrono::Duration = chrono::Duration::days(7);

/// Microblogs: they show only an `Announce` of an object, as a boost. Mastodon and GoToSocial
/// answer an `Announce` of an activity with 400 (GoToSocial after fetching its inner id), so
/// they are not sent FEP-1b12 wrappers.
const MICROBLOGS: &[&str] = &[
    "mastodon",
    "gotosocial",
    "pleroma",
    "akkoma",
    "misskey",
    "sharkey",
    "firefish",
    "iceshrimp",
    "hometown",
    "glitchsoc",
];

/// Forum software that reads a post only from a person (`attributedTo` a `Person`), as Lemmy
/// does: events are sent to them as a person's `Create`, announced by the Group.
const THREADIVERSE: &[&str] = &["lemmy", "piefed", "mbin", "kbin"];

/// What a server reads, as far as Copse knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// Nothing known: it gets every form.
    Unknown,
    /// A microblog (Mastodon, GoToSocial...): no `Announce` of an activity.
    Microblog,
    /// Lemmy and its kin: FEP-1b12 wrappers, and events held by a person.
    Threadiverse,
    /// Anything else that told us (Mobilizon, Friendica, Copse...): the FEP-1b12 forms.
    GroupAware,
}

impl Reads {
    /// What a server running `software` reads.
    pub fn of(software: Option<&str>) -> Self {
        match software {
            None => Self::Unknown,
            Some(s) if MICROBLOGS.contains(&s) => Self::Microblog,
            Some(s) if THREADIVERSE.contains(&s) => Self::Threadiverse,
            Some(_) => Self::GroupAware,
        }
    }

    /// True when it reads an `Announce` whose object is an activity.
    pub fn wrapped_announces(self) -> bool {
        self != Self::Microblog
    }
}

/// What each of these inboxes' servers reads, by inbox.
pub async fn reads_of(
    db: &impl ConnectionTrait,
    inboxes: &BTreeSet<Url>,
) -> Result<BTreeMap<Url, Reads>, Error> {
    let domains: BTreeSet<String> = inboxes.iter().map(domain_of).collect();
    let mut known: BTreeMap<String, Reads> = BTreeMap::new();
    let all: Vec<String> = domains.into_iter().collect();
    for chunk in all.chunks(500) {
        let rows = instance::Entity::find()
            .filter(instance::Column::Domain.is_in(chunk.iter().cloned()))
            .filter(instance::Column::Software.is_not_null())
            .all(db)
            .await?;
        for r in rows {
            known.insert(r.domain, Reads::of(r.software.as_deref()));
        }
    }
    Ok(inboxes
        .iter()
        .map(|i| {
            let r = known.get(&domain_of(i)).copied().unwrap_or(Reads::Unknown);
            (i.clone(), r)
        })
        .collect())
}

/// Looks up what the server of `actor` runs, unless it was looked at within a week. Failures
/// are remembered as "checked, unknown"; nothing here stops the caller's work.
pub async fn learn(data: &Data, actor: &Url) {
    if data.urls.is_local(actor) {
        return;
    }
    let domain = domain_of(actor);
    if let Err(e) = learn_domain(data, actor, &domain).await {
        tracing::debug!("nodeinfo of {domain}: {e}");
    }
}

async fn learn_domain(data: &Data, actor: &Url, domain: &str) -> Result<(), Error> {
    let row = instance::Entity::find()
        .filter(instance::Column::Domain.eq(domain))
        .one(&data.db)
        .await?;
    let now = Utc::now();
    if row
        .as_ref()
        .and_then(|r| r.software_checked_at)
        .is_some_and(|t| now - t < RECHECK)
    {
        return Ok(());
    }
    let software = fetch_software(data, actor).await.unwrap_or_else(|e| {
        tracing::debug!("no nodeinfo at {domain}: {e}");
        None
    });
    instance::Entity::insert(instance::ActiveModel {
        software: Set(software),
        software_checked_at: Set(Some(now)),
        ..instance::ActiveModel::for_domain(domain)
    })
    .on_conflict(
        OnConflict::column(instance::Column::Domain)
            .update_columns([
                instance::Column::Software,
                instance::Column::SoftwareCheckedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&data.db)
    .await?;
    Ok(())
}

async fn fetch_software(data: &Data, actor: &Url) -> Result<Option<String>, Error> {
    let mut well_known = actor.clone();
    well_known.set_path("/.well-known/nodeinfo");
    well_known.set_query(None);
    well_known.set_fragment(None);
    let links = get_json(data, &well_known).await?;
    let href = links
        .get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|l| {
            l.get("rel")
                .and_then(Value::as_str)
                .is_some_and(|r| r.starts_with("http://nodeinfo.diaspora.software/ns/schema/2."))
        })
        .filter_map(|l| l.get("href").and_then(Value::as_str))
        .filter_map(|h| Url::parse(h).ok())
        .rfind(|h| crate::protocol::same_origin(h, actor))
        .ok_or(Error::NotFound)?;
    let doc = get_json(data, &href).await?;
    Ok(software_name(&doc))
}

/// `software.name` of a NodeInfo document, lower-case, when it is a short plain name.
pub fn software_name(doc: &Value) -> Option<String> {
    let name = doc
        .pointer("/software/name")?
        .as_str()?
        .trim()
        .to_ascii_lowercase();
    let plain = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    plain.then_some(name)
}

async fn get_json(data: &Data, url: &Url) -> Result<Value, Error> {
    crate::http::check_remote_url(url, data.settings.debug)?;
    check_not_blocked(&data.db, url).await?;
    let mut res = data
        .client
        .get(url.as_str())
        .header("Accept", "application/json")
        .send()
        .await?;
    if !res.status().is_success() {
        return Err(Error::Http(format!("{url} answered {}", res.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await? {
        if body.len() + chunk.len() > MAX_BYTES {
            return Err(Error::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(serde_json::from_slice(&body)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn software_names_are_read_plainly() {
        let doc = json!({ "software": { "name": "GoToSocial", "version": "0.17" } });
        assert_eq!(software_name(&doc).as_deref(), Some("gotosocial"));
        assert_eq!(
            software_name(&json!({ "software": { "name": "<b>x</b>" } })),
            None
        );
        assert_eq!(software_name(&json!({})), None);
    }

    #[test]
    fn servers_are_sorted_by_what_they_read() {
        assert_eq!(Reads::of(Some("mastodon")), Reads::Microblog);
        assert_eq!(Reads::of(Some("lemmy")), Reads::Threadiverse);
        assert_eq!(Reads::of(Some("mobilizon")), Reads::GroupAware);
        assert_eq!(Reads::of(None), Reads::Unknown);
        assert!(!Reads::Microblog.wrapped_announces());
        assert!(Reads::Unknown.wrapped_announces());
    }
}
