//! Conversions between database rows and wire objects, and the HTML sanitiser every remote text
//! passes through before it is stored.

mod community;
pub mod event;
mod person;
mod post;

pub use community::group_of;
pub use person::{instance_actor, person_of};
pub use post::{
    note_of, public, replies_id, replies_of, replies_page, replies_page_id, thread_context,
    tombstone_of,
};

/// Cleans HTML from anywhere: no scripts, event handlers, `javascript:` links, iframes or
/// styles; links get `rel="nofollow noopener noreferrer"`. The classes of mentions and
/// hashtags (`h-card`, `u-url mention`, `mention hashtag`) stay, as Mastodon keeps them.
pub fn sanitize_html(html: &str) -> String {
    ammonia::Builder::default()
        .link_rel(Some("nofollow noopener noreferrer"))
        .add_allowed_classes("a", &["mention", "hashtag", "u-url"])
        .add_allowed_classes("span", &["h-card"])
        .clean(html)
        .to_string()
}

/// The heading a topic's or an event's `content` opens with: Mastodon and GoToSocial show only
/// `content` (an Event's `summary` becomes the content warning), never `name`.
pub fn title_heading(title: &str) -> String {
    format!("<p><strong>{}</strong></p>", escape_html(title))
}

/// Sanitised `html` without a leading [`title_heading`] of `title`, so that a post or event
/// that opens with its title (ours do) does not show it twice once stored.
pub fn strip_title_heading(html: &str, title: &str) -> String {
    let heading = title_heading(title);
    // Sanitising writes quotes in text unescaped, so the heading is looked for in both forms.
    let sanitised = sanitize_html(&heading);
    for h in [&heading, &sanitised] {
        if let Some(rest) = html.strip_prefix(h.as_str()) {
            return rest.trim_start().to_string();
        }
    }
    html.to_string()
}

/// The text of an HTML fragment with paragraphs and line breaks kept as new lines (for
/// iCalendar descriptions and other plain-text readers).
pub fn plain_text(html: &str) -> String {
    let spaced = html
        .replace("</p>", "</p>\n\n")
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .replace("<br />", "\n")
        .replace("</li>", "</li>\n");
    let text = unescape_html(&ammonia::Builder::empty().clean(&spaced).to_string());
    text.trim().to_string()
}

/// Undoes the escaping `escape_html` (and ammonia's text output) applies.
pub fn unescape_html(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// Escapes text for HTML.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_html_is_cleaned() {
        let dirty = r#"<p onclick="x()">hi<script>alert(1)</script><a href="javascript:alert(1)">j</a><a href="https://e.org">ok</a><iframe src="https://e.org"></iframe><style>p{}</style></p>"#;
        let clean = sanitize_html(dirty);
        for bad in ["onclick", "<script", "javascript:", "<iframe", "<style"] {
            assert!(!clean.contains(bad), "{bad} in {clean}");
        }
        assert!(
            clean.contains(r#"rel="nofollow noopener noreferrer""#),
            "{clean}"
        );
        assert_eq!(sanitize_html(&clean), clean);
    }

    #[test]
    fn the_title_heading_is_stripped_once_whatever_its_quotes() {
        let title = "Ana's \"open\" <budgets>";
        let html = sanitize_html(&format!("{}\n<p>Body</p>", title_heading(title)));
        assert_eq!(strip_title_heading(&html, title), "<p>Body</p>");
        let mobilizon = "<p>Body only</p>";
        assert_eq!(strip_title_heading(mobilizon, title), mobilizon);
    }
}
