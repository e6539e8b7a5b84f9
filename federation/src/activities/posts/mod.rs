//! Posts received from anywhere: topics and replies (a Mastodon mention, a reply, or an
//! FEP-1b12 `Create` with `audience`), edits and deletions by their authors.
//!
//! Content accepted into a local community is announced to its followers; refused content is
//! not, and its author gets one direct note saying why.

use crate::store::posts::post_by_ap_id;
use crate::{
    fetch::{cached_actor, fetch_json, ActorRef},
    protocol::{same_origin, Audience, Note, PUBLIC},
    Data, Error,
};
use copse_entities::{community, post, received_activity};
use sea_orm::ConnectionTrait;
use serde_json::Value;
use url::Url;

mod create;
mod delete;
mod refusals;
mod update;

pub use create::verify_create;
pub use delete::{verify_announced_delete, verify_delete};
pub use update::verify_update;

/// How far up a reply chain unknown parents are fetched before the reply is given up on.
pub const MAX_PARENT_DEPTH: usize = 8;

pub(super) fn is_public(audiences: &[&Audience]) -> bool {
    audiences
        .iter()
        .any(|a| a.recipients().any(|u| u.as_str() == PUBLIC))
}

/// The local community an incoming note is addressed to: `audience`, `to`, `cc` or a mention.
pub(super) async fn addressed_community(
    db: &impl ConnectionTrait,
    note: &Note,
    activity_audience: Option<&Url>,
) -> Result<Option<community::Model>, Error> {
    let mentions: Vec<Url> = note
        .tag
        .iter()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("Mention"))
        .filter_map(|t| t.get("href").and_then(Value::as_str))
        .filter_map(|h| Url::parse(h).ok())
        .collect();
    let candidates = activity_audience
        .into_iter()
        .chain(note.audience.group.iter())
        .chain(note.audience.recipients())
        .chain(mentions.iter());
    for u in candidates {
        if u.as_str() == PUBLIC {
            continue;
        }
        if let Some(ActorRef::Community(c)) = cached_actor(db, u).await? {
            if c.local {
                return Ok(Some(c));
            }
        }
    }
    Ok(None)
}

/// The nearest stored post up a reply chain, fetching unknown parents from their origin up to
/// [`MAX_PARENT_DEPTH`] levels.
pub(super) async fn known_ancestor(data: &Data, first: &Url) -> Result<Option<post::Model>, Error> {
    let mut next = first.clone();
    for _ in 0..MAX_PARENT_DEPTH {
        if let Some(p) = post_by_ap_id(&data.db, &next).await? {
            return Ok(Some(p));
        }
        if data.urls.is_local(&next) {
            return Ok(None);
        }
        let doc = match fetch_json(data, &next).await {
            Ok(doc) => doc,
            Err(Error::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        match doc
            .get("inReplyTo")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok())
        {
            Some(parent) => next = parent,
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// Checks that the signer wrote the note, and that note and author share an origin.
pub(super) fn verify_authorship(
    row: &received_activity::Model,
    actor: &Url,
    note: &Note,
) -> Result<(), Error> {
    if actor != &row.actor.0 || &note.attributed_to != actor {
        return Err(Error::InvalidActivity(
            "note author is not the signer".into(),
        ));
    }
    if !same_origin(&note.id, actor) {
        return Err(Error::InvalidActivity(
            "note and author are on different origins".into(),
        ));
    }
    Ok(())
}
