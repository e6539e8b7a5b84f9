//! Text of received content: titles from Mastodon's first lines, plain text of HTML, the tags
//! kept.

use crate::{
    html::{sanitize_html, unescape_html},
    protocol::Note,
};
use serde_json::{json, Value};
use url::Url;

/// Longest title kept, in characters.
const TITLE_MAX: usize = 200;

/// The text of an HTML fragment, tags dropped and entities decoded.
pub fn text_of(html: &str) -> String {
    unescape_html(&ammonia::Builder::empty().clean(html).to_string())
}

/// Drops the leading `@mentions` Mastodon puts before the text.
pub fn strip_mentions(text: &str) -> &str {
    let mut text = text.trim();
    while text.starts_with('@') {
        text = text
            .split_once(char::is_whitespace)
            .map(|(_, r)| r.trim_start())
            .unwrap_or("");
    }
    text
}

fn clip_title(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= TITLE_MAX {
        return text.to_string();
    }
    let mut t: String = text.chars().take(TITLE_MAX - 1).collect();
    t.push('…');
    t
}

/// Title and body of a topic posted by mentioning the community, as Lemmy reads it: the first
/// line, mentions stripped, is the title; the rest is the body. `html` is already sanitised.
pub fn split_title(html: &str) -> (String, String) {
    let mut rest = html.trim().to_string();
    for _ in 0..8 {
        let cut = ["<br>", "<br/>", "<br />", "</p>"]
            .iter()
            .filter_map(|m| rest.find(m).map(|i| (i, m.len())))
            .min();
        let (first, after) = match cut {
            Some((i, len)) => (
                rest[..i].to_string(),
                rest[i + len..].trim_start().to_string(),
            ),
            None => (rest.clone(), String::new()),
        };
        let title = strip_mentions(&text_of(&first)).to_string();
        if !title.is_empty() {
            // Whatever followed the cut, reopened as a paragraph and re-balanced.
            let reopened = if after.starts_with("<p") {
                after
            } else {
                format!("<p>{after}")
            };
            let body = sanitize_html(&reopened).replace("<p></p>", "");
            let body = if text_of(&body).trim().is_empty() {
                String::new()
            } else {
                body
            };
            return (clip_title(&title), body);
        }
        if after.is_empty() {
            break;
        }
        rest = after;
    }
    ("Untitled".into(), String::new())
}

/// Title and HTML body of a received topic: `name` when it has one (Lemmy, Mbin, PieFed),
/// else the first line (Mastodon).
pub fn title_and_body(note: &Note) -> (String, String) {
    let html = crate::limits::sanitize_html_within(
        note.content.as_deref().unwrap_or_default(),
        crate::limits::MAX_CONTENT,
    );
    if let Some(name) = note.name.as_ref().filter(|n| !n.trim().is_empty()) {
        let name = clip_title(&text_of(name));
        // Our own posts open with the title for Mastodon; do not show it twice.
        let body = crate::objects::strip_title_heading(&html, &name);
        return (name, body);
    }
    split_title(&html)
}

/// Title and HTML body of a received post as stored: a topic's from [`title_and_body`], a
/// reply's body alone (replies have no title).
pub fn stored_text(note: &Note, reply: bool) -> (String, String) {
    if !reply {
        return title_and_body(note);
    }
    let body = crate::limits::sanitize_html_within(
        note.content.as_deref().unwrap_or_default(),
        crate::limits::MAX_CONTENT,
    );
    (String::new(), body)
}

/// The mentions and hashtags of a note, kept as `tag` objects (other tags are dropped).
pub fn tags_of(tags: &[Value]) -> Option<String> {
    let kept: Vec<Value> = tags
        .iter()
        .filter_map(|t| {
            let kind = t.get("type")?.as_str()?;
            if kind != "Mention" && kind != "Hashtag" {
                return None;
            }
            let href = Url::parse(t.get("href")?.as_str()?).ok()?;
            if href.scheme() != "https" && href.scheme() != "http" {
                return None;
            }
            let name: String = t.get("name")?.as_str()?.chars().take(200).collect();
            Some(json!({ "type": kind, "href": href, "name": name }))
        })
        .collect();
    (!kept.is_empty()).then(|| Value::Array(kept).to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::html::sanitize_html;
    use serde_json::json;

    #[test]
    fn mastodon_mention_becomes_a_titled_topic() {
        let html = r#"<p><span class="h-card"><a href="https://copse.example/c/london" class="u-url mention">@<span>london</span></a></span> Sharing budgets openly<br>We tried it in Hackney.</p><p>Second paragraph.</p>"#;
        let (title, body) = split_title(&sanitize_html(html));
        assert_eq!(title, "Sharing budgets openly");
        assert!(body.starts_with("<p>We tried it in Hackney.</p>"), "{body}");
        assert!(body.contains("Second paragraph."), "{body}");
    }

    #[test]
    fn a_mention_on_its_own_line_is_skipped() {
        let html = "<p>@london</p><p>Title here</p><p>Body</p>";
        let (title, body) = split_title(html);
        assert_eq!(title, "Title here");
        assert_eq!(body, "<p>Body</p>");
    }

    #[test]
    fn long_titles_are_clipped() {
        let html = format!("<p>{}</p>", "a".repeat(500));
        let (title, body) = split_title(&html);
        assert_eq!(title.chars().count(), TITLE_MAX);
        assert!(body.is_empty());
    }

    #[test]
    fn only_mentions_and_hashtags_are_kept() {
        let tags = vec![
            json!({"type": "Mention", "href": "https://a.example/u/x", "name": "@x@a.example"}),
            json!({"type": "Hashtag", "href": "https://a.example/tags/cop", "name": "#cop"}),
            json!({"type": "Emoji", "name": ":x:"}),
            json!({"type": "Mention", "href": "javascript:alert(1)", "name": "@y"}),
        ];
        let kept: Vec<Value> = serde_json::from_str(&tags_of(&tags).unwrap()).unwrap();
        assert_eq!(kept.len(), 2);
    }
}
