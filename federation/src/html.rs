//! The HTML sanitiser every remote text passes through before it is stored, and the text
//! helpers around it.

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
}
