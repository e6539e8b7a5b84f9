//! A post row as the object we publish.

use crate::protocol::{Note, Source, PUBLIC};
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
        let title = super::escape_html(&p.title);
        (
            Some(p.title.clone()),
            format!("<p><strong>{title}</strong></p>\n{}", p.content),
        )
    } else {
        (None, p.content.clone())
    };
    Note {
        id: p.ap_id.0.clone(),
        kind: "Note".into(),
        attributed_to: author.ap_id.0.clone(),
        to: vec![c.ap_id.0.clone(), public()],
        cc: vec![followers],
        audience: Some(c.ap_id.0.clone()),
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
        tag: p
            .tags
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default(),
        sensitive: Some(false),
        published: Some(p.published),
        updated: p.updated,
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

fn community_followers(c: &community::Model) -> Url {
    let mut u = c.ap_id.0.clone();
    let path = format!("{}/followers", u.path().trim_end_matches('/'));
    u.set_path(&path);
    u
}
