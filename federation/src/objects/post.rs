//! A post row as the object we publish.

use crate::protocol::{Audience, CollectionPage, IdOr, Note, PagedCollection, Source, PUBLIC};
use copse_entities::{community, person, post};
use serde_json::{json, Value};
use url::Url;

/// The wire form of a post.
///
/// A topic is a `Note` whose `content` opens with the title (Mastodon shows `content` only),
/// with `name` for Lemmy's title and `source` for Lemmy's body. A reply is a plain `Note` with
/// `inReplyTo`. Posts in our own communities carry `context`, the thread's collection.
pub fn note_of(
    p: &post::Model,
    c: &community::Model,
    author: &person::Model,
    parent: Option<&Url>,
) -> Note {
    let followers = community_followers(c);
    let (name, content) = if p.topic_id.is_none() {
        (
            Some(p.title.clone()),
            format!("{}\n{}", super::title_heading(&p.title), p.content),
        )
    } else {
        (None, p.content.clone())
    };
    let tag: Vec<Value> = p
        .tags
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    // The people a post mentions are addressed too, as Mastodon addresses them.
    let mentioned = tag
        .iter()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("Mention"))
        .filter_map(|t| t.get("href").and_then(Value::as_str))
        .filter_map(|h| Url::parse(h).ok())
        .filter(|h| h != &c.ap_id.0);
    let cc = std::iter::once(followers).chain(mentioned).collect();
    Note {
        id: p.ap_id.0.clone(),
        kind: "Note".into(),
        attributed_to: author.ap_id.0.clone(),
        audience: Audience::new(vec![c.ap_id.0.clone(), public()], cc).in_group(c.ap_id.0.clone()),
        name,
        content: Some(content),
        media_type: Some("text/html".into()),
        source: p.source.as_ref().map(|s| Source {
            content: s.clone(),
            media_type: "text/markdown".into(),
        }),
        in_reply_to: parent.cloned(),
        context: c
            .local
            .then(|| Value::String(thread_context(c, p.thread_id()).to_string())),
        conversation: None,
        url: Some(Value::String(p.ap_id.0.to_string())),
        tag,
        // Only the first page's id: the post at its own id embeds the page itself.
        replies: p
            .local
            .then(|| serde_json::to_value(replies_of(p, None)).ok())
            .flatten(),
        // Lemmy reads a link post's URL from a `Link` attachment, and sends it so.
        attachment: p
            .url
            .iter()
            .map(|u| json!({ "type": "Link", "href": u.0.as_str() }))
            .collect(),
        sensitive: Some(false),
        published: Some(p.published),
        updated: p.updated,
    }
}

/// The `replies` collection of a local post (its direct replies), at `/post/{id}/replies`.
pub fn replies_id(p: &post::Model) -> Url {
    let mut u = p.ap_id.0.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.set_path(&format!("/post/{}/replies", p.id));
    u
}

/// A page of a post's replies: `?page=true`, then `&after=<row id>` for the pages after.
pub fn replies_page_id(p: &post::Model, after: Option<i64>) -> Url {
    let mut u = replies_id(p);
    match after {
        Some(a) => u.set_query(Some(&format!("page=true&after={a}"))),
        None => u.set_query(Some("page=true")),
    }
    u
}

/// A page of a post's replies holding `items`, with `next_after` the row id the next page
/// starts after, when there is one.
pub fn replies_page(
    p: &post::Model,
    after: Option<i64>,
    items: Vec<Url>,
    next_after: Option<i64>,
) -> CollectionPage {
    CollectionPage {
        id: replies_page_id(p, after),
        kind: "CollectionPage".into(),
        part_of: replies_id(p),
        next: next_after.map(|a| replies_page_id(p, Some(a))),
        items,
    }
}

/// A post's `replies` collection in Mastodon's shape: the first page embedded when given,
/// else named by id.
pub fn replies_of(p: &post::Model, first: Option<CollectionPage>) -> PagedCollection {
    PagedCollection {
        id: replies_id(p),
        kind: "Collection".into(),
        first: match first {
            Some(page) => IdOr::Object(Box::new(page)),
            None => IdOr::Id(replies_page_id(p, None)),
        },
    }
}

/// What a deleted or removed post dereferences to.
pub fn tombstone_of(p: &post::Model) -> Value {
    json!({
        "id": p.ap_id,
        "type": "Tombstone",
        "formerType": "Note",
        "deleted": p.updated,
    })
}

/// The collection of a thread in one of our communities (FEP-7888 `context`).
pub fn thread_context(c: &community::Model, topic_id: i64) -> Url {
    let mut u = c.ap_id.0.clone();
    u.set_path(&format!("/post/{topic_id}/context"));
    u
}

/// The public collection as a URL.
pub fn public() -> Url {
    #[allow(clippy::expect_used)]
    Url::parse(PUBLIC).expect("constant URL parses")
}

/// What happens in a community, addressed as Lemmy addresses it: to the public, cc the
/// community, which is also the audience (FEP-1b12).
pub fn in_community(community: &Url) -> Audience {
    Audience::new(vec![public()], vec![community.clone()]).in_group(community.clone())
}

fn community_followers(c: &community::Model) -> Url {
    let mut u = c.ap_id.0.clone();
    let path = format!("{}/followers", u.path().trim_end_matches('/'));
    u.set_path(&path);
    u
}
