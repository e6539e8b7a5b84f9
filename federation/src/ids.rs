//! Remote ids byte for byte. Ids are kept as parsed URLs, and parsing changes some of them: an
//! empty path gains `/` (`http://mbp.test:18490` becomes `http://mbp.test:18490/`), a host is
//! lower-cased, a default port dropped. A server that compares ids as strings (microblog.pub's
//! actor id is its bare origin) then takes its own actor for someone else. So what a remote
//! server wrote is remembered where parsing changes it, and everything Copse sends or serves
//! carries the id as it was written.
//!
//! Only ids on the origin of the document they came in (the signer's, or the fetched URL's) are
//! remembered, so no server can change how another server's ids are written.

use crate::{protocol::same_origin, urls::Urls, Error};
use copse_entities::remote_id;
use sea_orm::{sea_query::OnConflict, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use url::Url;

/// At most this many strings of one document are looked at.
const MAX_STRINGS: usize = 512;

fn is_http(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// The URL strings of a document, at most [`MAX_STRINGS`], leaving out `@context` (vocabulary
/// URLs, not ids).
fn url_strings(doc: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    let mut stack = vec![doc];
    while let Some(v) = stack.pop() {
        if out.len() >= MAX_STRINGS {
            break;
        }
        match v {
            Value::String(s) if is_http(s) => out.push(s.as_str()),
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(o) => stack.extend(
                o.iter()
                    .filter(|(k, _)| k.as_str() != "@context")
                    .map(|(_, v)| v),
            ),
            _ => {}
        }
    }
    out
}

/// The URLs of a document from `origin`, on that origin, that parsing changes: parsed form and
/// the form as written.
pub fn changed_by_parsing(doc: &Value, origin: &Url) -> BTreeMap<String, String> {
    url_strings(doc)
        .into_iter()
        .filter_map(|raw| {
            let parsed = Url::parse(raw).ok()?;
            (parsed.as_str() != raw && same_origin(&parsed, origin))
                .then(|| (parsed.to_string(), raw.to_string()))
        })
        .collect()
}

/// Remembers how a document from `origin` writes its ids, where parsing changes them.
pub async fn remember(db: &impl ConnectionTrait, doc: &Value, origin: &Url) -> Result<(), Error> {
    let changed = changed_by_parsing(doc, origin);
    if changed.is_empty() {
        return Ok(());
    }
    let rows = changed
        .into_iter()
        .map(|(parsed, raw)| remote_id::ActiveModel {
            parsed: sea_orm::Set(parsed),
            raw: sea_orm::Set(raw),
        });
    remote_id::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(remote_id::Column::Parsed)
                .update_column(remote_id::Column::Raw)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Writes the remote ids in a document we send or serve as their servers wrote them. Returns
/// whether anything changed.
pub async fn restore(
    db: &impl ConnectionTrait,
    urls: &Urls,
    doc: &mut Value,
) -> Result<bool, Error> {
    let base = urls.base().as_str();
    let candidates: BTreeSet<String> = url_strings(doc)
        .into_iter()
        .filter(|s| !s.starts_with(base) && *s != crate::protocol::PUBLIC)
        .map(str::to_string)
        .collect();
    if candidates.is_empty() {
        return Ok(false);
    }
    let raw: BTreeMap<String, String> = remote_id::Entity::find()
        .filter(remote_id::Column::Parsed.is_in(candidates))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.parsed, r.raw))
        .collect();
    if raw.is_empty() {
        return Ok(false);
    }
    let mut stack = vec![doc];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => {
                if let Some(r) = raw.get(s.as_str()) {
                    *s = r.clone();
                }
            }
            Value::Array(a) => stack.extend(a.iter_mut()),
            Value::Object(o) => stack.extend(
                o.iter_mut()
                    .filter(|(k, _)| k.as_str() != "@context")
                    .map(|(_, v)| v),
            ),
            _ => {}
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_ids_on_the_documents_origin_that_parsing_changes_are_kept() {
        let origin = Url::parse("http://mbp.test:18490").unwrap();
        let doc = json!({
            "id": "http://mbp.test:18490",
            "inbox": "http://mbp.test:18490/inbox",
            "publicKey": { "owner": "http://mbp.test:18490" },
            "cc": ["https://Other.example"],
            "content": "see http://mbp.test:18490 <b>here</b>",
            "@context": ["http://mbp.test:18490"],
        });
        let changed = changed_by_parsing(&doc, &origin);
        assert_eq!(
            changed.into_iter().collect::<Vec<_>>(),
            [(
                "http://mbp.test:18490/".to_string(),
                "http://mbp.test:18490".to_string()
            )]
        );
    }
}
