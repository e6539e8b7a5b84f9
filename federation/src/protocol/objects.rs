//! Content objects: the post (`Note` with a `name`), collections, and the source field.

use super::{first_id, Audience, IdOr};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

/// The markdown a post was written in (Lemmy reads it in preference to `content`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// The markdown text.
    pub content: String,
    /// `text/markdown`.
    pub media_type: String,
}

/// A post: sent as a `Note` with `name`, read as `Note`, `Page` or `Article`.
///
/// Mastodon shows only `Note` (and `Question`) as a full status; `Page`/`Article` are cut to a
/// title and a link. So we send a `Note` whose `content` opens with the title, with `name` set so
/// that Lemmy shows a titled post, and `source` so Lemmy's body is the markdown without the title.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    /// Object id.
    pub id: Url,
    /// `Note`, `Page` or `Article`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Author.
    #[serde(deserialize_with = "first_id")]
    pub attributed_to: Url,
    /// `to`, `cc` and the group it belongs to.
    #[serde(flatten)]
    pub audience: Audience,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// HTML content.
    #[serde(default)]
    pub content: Option<String>,
    /// `text/html`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Markdown source (Pleroma sends a plain string).
    #[serde(
        default,
        deserialize_with = "lenient_source",
        skip_serializing_if = "Option::is_none"
    )]
    pub source: Option<Source>,
    /// Parent, for replies.
    #[serde(
        default,
        deserialize_with = "super::opt_first_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub in_reply_to: Option<Url>,
    /// The thread (FEP-7888): for posts in our communities, a collection of the thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
    /// The conversation, as Mastodon names it (`ostatus:conversation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<serde_json::Value>,
    /// HTML page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<serde_json::Value>,
    /// Mentions and hashtags.
    #[serde(
        default,
        deserialize_with = "super::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tag: Vec<serde_json::Value>,
    /// Direct replies: Mastodon and GoToSocial fill a thread only from them. Read leniently,
    /// since only the shape we publish (`PagedCollection`) is relied on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<serde_json::Value>,
    /// Attachments. Lemmy sends a link post's URL as a `Link` with `href`.
    #[serde(
        default,
        deserialize_with = "super::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attachment: Vec<serde_json::Value>,
    /// Sensitive content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<bool>,
    /// When it was published.
    #[serde(default)]
    pub published: Option<DateTime<Utc>>,
    /// When it was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
}

/// An `OrderedCollection`, with its items inline or only a count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderedCollection<T> {
    /// Collection id.
    pub id: Url,
    /// `OrderedCollection`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Number of items.
    pub total_items: u64,
    /// Items, newest first; absent where only the count is public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered_items: Option<Vec<T>>,
}

impl Note {
    /// The link of a link post: the first `attachment` of type `Link` with an `http` or
    /// `https` `href`, as Lemmy sends it.
    pub fn link(&self) -> Option<Url> {
        self.attachment
            .iter()
            .filter(|a| a.get("type").and_then(serde_json::Value::as_str) == Some("Link"))
            .filter_map(|a| a.get("href").and_then(serde_json::Value::as_str))
            .filter_map(|h| Url::parse(h).ok())
            .find(|u| u.scheme() == "https" || u.scheme() == "http")
    }
}

/// A `Collection` of pages, as Mastodon publishes a status's `replies`: `first` is the first
/// page, embedded or by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PagedCollection {
    /// Collection id.
    pub id: Url,
    /// `Collection`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The first page.
    pub first: IdOr<CollectionPage>,
}

/// One page of a [`PagedCollection`]: item ids, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionPage {
    /// Page id.
    pub id: Url,
    /// `CollectionPage`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The collection.
    pub part_of: Url,
    /// The next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Url>,
    /// Item ids.
    #[serde(default)]
    pub items: Vec<Url>,
}

/// A `Collection` published by its count only, as Lemmy reads a group's followers: its parser
/// wants `type: Collection`, `totalItems` and an `items` array, which must be empty (it reads
/// no entries). Mastodon reads the count from `totalItems` whatever the type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountedCollection {
    /// Collection id.
    pub id: Url,
    /// `Collection`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Number of items.
    pub total_items: u64,
    /// Always empty: the entries are not published.
    #[serde(default)]
    pub items: Vec<serde_json::Value>,
}

/// Reads `source` as Lemmy's object or Pleroma's plain string; anything else reads as absent.
pub(super) fn lenient_source<'de, D>(d: D) -> Result<Option<Source>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(content)) => Some(Source {
            content,
            media_type: "text/plain".into(),
        }),
        Some(v @ serde_json::Value::Object(_)) => serde_json::from_value(v).ok(),
        _ => None,
    })
}

/// A community's outbox as Lemmy reads it: the latest activities inline, `first` paging on.
/// `T` is an activity; the server passes the stored JSON through unparsed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxCollection<T> {
    /// Collection id.
    pub id: Url,
    /// `OrderedCollection`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Number of activities.
    pub total_items: u64,
    /// The first page.
    pub first: Url,
    /// The latest activities, newest first.
    pub ordered_items: Vec<T>,
}

/// One page of a community's outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxPage<T> {
    /// Page id.
    pub id: Url,
    /// `OrderedCollectionPage`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The outbox.
    pub part_of: Url,
    /// The next page; `null` on the last.
    pub next: Option<Url>,
    /// Activities, newest first.
    pub ordered_items: Vec<T>,
}

/// A thread's collection (FEP-7888 `context`): the topic and its replies by id, oldest first,
/// held by the community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadCollection {
    /// Collection id.
    pub id: Url,
    /// `OrderedCollection`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The community.
    pub attributed_to: Url,
    /// The community (FEP-1b12).
    pub audience: Url,
    /// Number of posts.
    pub total_items: u64,
    /// The posts' ids.
    pub ordered_items: Vec<Url>,
}
