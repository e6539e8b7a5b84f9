//! Size caps on remote input. Every document that reaches us from another server (an inbox POST
//! or a fetch) goes through [`clamp_remote`] before anything of it is read or stored, so that no
//! stored field or list grows past the caps FEDERATION.md lists, and no text carries NUL (which
//! PostgreSQL cannot store in a text column).

use crate::Error;
use serde_json::{Map, Value};

/// Characters kept of a post, event or reply body (`content`, `contentMap`, `source.content`).
pub const MAX_CONTENT: usize = 50_000;
/// Characters kept of a summary: a content warning, or an actor's or community's description.
pub const MAX_SUMMARY: usize = 10_000;
/// Characters kept of a report's text (a `Flag`'s `content` or `summary`).
pub const MAX_REPORT: usize = 5_000;
/// Characters kept of a name: a title, a display name, a tag or attachment name, a place and
/// the parts of its address.
pub const MAX_NAME: usize = 500;
/// Longest `preferredUsername`; a longer one is refused, as a cut one would name someone else.
pub const MAX_USERNAME: usize = 255;
/// Entries kept of `tag` (hashtags, mentions, emoji).
pub const MAX_TAGS: usize = 100;
/// Entries kept of `attachment`.
pub const MAX_ATTACHMENTS: usize = 20;
/// Longest URL stored for an avatar; a longer one is dropped.
pub const MAX_AVATAR_URL: usize = 2_048;
/// Longest other string (ids, URLs, keys, unknown fields); a document with a longer one is
/// refused, as cutting an id or a URL would change what it points at.
pub const MAX_OTHER: usize = 8_192;

/// Keys whose values are address parts, capped like names.
const ADDRESS_KEYS: [&str; 5] = [
    "streetAddress",
    "addressLocality",
    "addressRegion",
    "postalCode",
    "addressCountry",
];

/// Strips NUL from every string and key, cuts text fields and lists to their caps, and refuses
/// a document whose other strings are too long or whose `preferredUsername` is.
pub fn clamp_remote(doc: &mut Value) -> Result<(), Error> {
    clamp_value(doc, None, false)
}

fn clamp_value(v: &mut Value, cap: Option<usize>, html: bool) -> Result<(), Error> {
    match v {
        Value::String(s) => clamp_string(s, cap, html),
        Value::Array(items) => {
            for item in items {
                clamp_value(item, cap, html)?;
            }
            Ok(())
        }
        Value::Object(map) => clamp_object(map),
        _ => Ok(()),
    }
}

fn clamp_object(map: &mut Map<String, Value>) -> Result<(), Error> {
    if map.keys().any(|k| k.contains('\0')) {
        let taken = std::mem::take(map);
        *map = taken
            .into_iter()
            .map(|(k, v)| (k.replace('\0', ""), v))
            .collect();
    }
    let report = map.get("type").and_then(Value::as_str) == Some("Flag");
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "tag" => truncate_list(value, MAX_TAGS),
            "attachment" => truncate_list(value, MAX_ATTACHMENTS),
            _ => {}
        }
        let (cap, html) = match key.as_str() {
            "content" | "summary" if report => (Some(MAX_REPORT), false),
            "content" | "contentMap" => (Some(MAX_CONTENT), true),
            "summary" | "summaryMap" => (Some(MAX_SUMMARY), true),
            "name" | "nameMap" => (Some(MAX_NAME), false),
            k if ADDRESS_KEYS.contains(&k) => (Some(MAX_NAME), false),
            "preferredUsername" => {
                if value
                    .as_str()
                    .is_some_and(|s| s.chars().count() > MAX_USERNAME)
                {
                    return Err(Error::InvalidActivity(format!(
                        "preferredUsername is longer than {MAX_USERNAME} characters"
                    )));
                }
                (None, false)
            }
            _ => (None, false),
        };
        match (cap, value) {
            // `contentMap` and friends: one text per language.
            (Some(cap), Value::Object(langs)) if key.ends_with("Map") => {
                for text in langs.values_mut() {
                    clamp_value(text, Some(cap), html)?;
                }
            }
            (Some(cap), v @ Value::String(_)) => clamp_value(v, Some(cap), html)?,
            (_, v) => clamp_value(v, None, false)?,
        }
    }
    Ok(())
}

fn truncate_list(v: &mut Value, max: usize) {
    if let Value::Array(items) = v {
        items.truncate(max);
    }
}

fn clamp_string(s: &mut String, cap: Option<usize>, html: bool) -> Result<(), Error> {
    if s.contains('\0') {
        *s = s.replace('\0', "");
    }
    match cap {
        Some(cap) => {
            cut(s, cap, html);
            Ok(())
        }
        None if s.len() > MAX_OTHER && s.chars().count() > MAX_OTHER => Err(
            Error::InvalidActivity(format!("a field is longer than {MAX_OTHER} characters")),
        ),
        None => Ok(()),
    }
}

/// Cuts `s` to at most `cap` characters, on a character boundary. For HTML the cut also drops
/// a tag left open at the end; the caller sanitises the result, which closes open elements.
pub fn cut(s: &mut String, cap: usize, html: bool) {
    let Some((at, _)) = s.char_indices().nth(cap) else {
        return;
    };
    s.truncate(at);
    if html {
        if let Some(open) = s.rfind('<') {
            if !s[open..].contains('>') {
                s.truncate(open);
            }
        }
    }
}

/// Sanitises remote HTML into at most `cap` characters. Sanitising can lengthen it (links gain
/// a `rel`, entities are escaped), so an over-long result is cut shorter and sanitised again.
pub fn sanitize_html_within(html: &str, cap: usize) -> String {
    let mut budget = cap;
    for _ in 0..8 {
        let mut cut_html = html.to_string();
        cut(&mut cut_html, budget, true);
        let clean = crate::html::sanitize_html(&cut_html);
        let len = clean.chars().count();
        if len <= cap {
            return clean;
        }
        // Shrink in proportion to the growth, and by at least one character.
        budget = (budget * cap / len).min(budget - 1);
    }
    let mut text = crate::html::plain_text(html);
    cut(&mut text, cap / 6, false);
    crate::html::escape_html(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let mut s = "é".repeat(10);
        cut(&mut s, 4, false);
        assert_eq!(s, "éééé");
        let mut short = "abc".to_string();
        cut(&mut short, 4, false);
        assert_eq!(short, "abc");
    }

    #[test]
    fn a_tag_left_open_by_the_cut_is_dropped() {
        let mut s = "<p>one</p><a href=\"https://example.org/".to_string();
        cut(&mut s, 30, true);
        assert_eq!(s, "<p>one</p>");
    }

    #[test]
    fn remote_documents_are_clamped() {
        let mut doc = json!({
            "type": "Create",
            "actor": "https://example.org/u/a\u{0}",
            "object": {
                "type": "Note",
                "content": "x".repeat(MAX_CONTENT + 10),
                "contentMap": { "en": "y".repeat(MAX_CONTENT + 10) },
                "summary": "s".repeat(MAX_SUMMARY * 2),
                "name": "n\u{0}".repeat(MAX_NAME),
                "source": { "content": "m".repeat(MAX_CONTENT + 1), "mediaType": "text/markdown" },
                "tag": (0..500).map(|i| json!({ "type": "Hashtag", "name": format!("#t{i}") })).collect::<Vec<_>>(),
                "attachment": (0..50).map(|_| json!({ "type": "Document" })).collect::<Vec<_>>(),
                "location": { "type": "Place", "address": { "streetAddress": "a".repeat(9_000) } }
            }
        });
        clamp_remote(&mut doc).unwrap();
        let o = &doc["object"];
        assert_eq!(doc["actor"], "https://example.org/u/a");
        assert_eq!(o["content"].as_str().unwrap().len(), MAX_CONTENT);
        assert_eq!(o["contentMap"]["en"].as_str().unwrap().len(), MAX_CONTENT);
        assert_eq!(o["summary"].as_str().unwrap().len(), MAX_SUMMARY);
        assert_eq!(o["name"].as_str().unwrap(), "n".repeat(MAX_NAME));
        assert_eq!(o["source"]["content"].as_str().unwrap().len(), MAX_CONTENT);
        assert_eq!(o["tag"].as_array().unwrap().len(), MAX_TAGS);
        assert_eq!(o["attachment"].as_array().unwrap().len(), MAX_ATTACHMENTS);
        assert_eq!(
            o["location"]["address"]["streetAddress"]
                .as_str()
                .unwrap()
                .len(),
            MAX_NAME
        );
    }

    #[test]
    fn sanitised_html_stays_within_the_cap() {
        let html = "<a href=\"https://example.org/\">x</a>&amp;".repeat(1_000);
        let clean = sanitize_html_within(&html, 5_000);
        assert!(clean.chars().count() <= 5_000, "{}", clean.len());
        assert!(clean.chars().count() > 4_000, "{}", clean.len());
        assert_eq!(crate::html::sanitize_html(&clean), clean);
    }

    #[test]
    fn report_text_has_its_own_cap() {
        let mut doc = json!({ "type": "Flag", "content": "r".repeat(MAX_CONTENT) });
        clamp_remote(&mut doc).unwrap();
        assert_eq!(doc["content"].as_str().unwrap().len(), MAX_REPORT);
    }

    #[test]
    fn long_ids_and_usernames_are_refused() {
        let long_id = format!("https://example.org/{}", "a".repeat(MAX_OTHER));
        assert!(clamp_remote(&mut json!({ "id": long_id })).is_err());
        let long_name = "u".repeat(MAX_USERNAME + 1);
        assert!(clamp_remote(&mut json!({ "preferredUsername": long_name })).is_err());
        assert!(clamp_remote(&mut json!({ "preferredUsername": "ok" })).is_ok());
    }
}
