//! A post row as the object we publish.

use crate::protocol::{Note, Source, PUBLIC};
use copse_entities::{community, person, post};
use url::Url;

/// The wire form of a post: a `Note` whose `content` opens with the title (Mastodon shows
/// `content` only), with `name` for Lemmy's title and `source` for Lemmy's body.
pub fn note_of(p: &post::Model, c: &community::Model, author: &person::Model) -> Note {
    let followers = community_followers(c);
    let title = super::escape_html(&p.title);
    Note {
        id: p.ap_id.0.clone(),
        kind: "Note".into(),
        attributed_to: author.ap_id.0.clone(),
        to: vec![c.ap_id.0.clone(), public()],
        cc: vec![followers],
        audience: Some(c.ap_id.0.clone()),
        name: Some(p.title.clone()),
        content: Some(format!("<p><strong>{title}</strong></p>\n{}", p.content)),
        media_type: Some("text/html".into()),
        source: p.source.as_ref().map(|s| Source {
            content: s.clone(),
            media_type: "text/markdown".into(),
        }),
        in_reply_to: None,
        url: Some(serde_json::Value::String(p.ap_id.0.to_string())),
        tag: Vec::new(),
        sensitive: Some(false),
        published: Some(p.published),
        updated: p.updated,
    }
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
