//! Markdown as Copse renders it: CommonMark with tables and strikethrough, sanitised. Bare URLs
//! become links (pulldown-cmark links only `<...>` autolinks), and in posts mentions and
//! hashtags become links in Mastodon's shape, with `tag` objects for them. Code, existing links
//! and raw HTML links are left as they are.

use copse_entities::{community, person};
use copse_federation::html::escape_html;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, TextMergeStream};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use url::Url;

/// Most mentions looked up in one text.
const MAX_MENTIONS: usize = 50;

/// Longest hashtag, in characters.
const MAX_TAG: usize = 64;

/// A piece of plain text, as the scanner splits it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    /// Text to keep as it is.
    Text(&'a str),
    /// A bare `http(s)://` URL.
    Url(&'a str),
    /// `@name` or `@name@host[:port]`; the handle without the leading `@`.
    Mention(&'a str),
    /// `#tag`; the tag without the `#`.
    Hashtag(&'a str),
}

/// True when the character before a mention or hashtag lets it start there (not inside a
/// word, an address or a URL).
fn starts_token(before: Option<char>) -> bool {
    before.is_none_or(|c| !(c.is_alphanumeric() || "_.-@/:&#".contains(c)))
}

/// The length of a bare URL at the start of `s`, trailing punctuation left out.
fn url_len(s: &str) -> Option<usize> {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        return None;
    }
    let mut end = s
        .find(|c: char| c.is_whitespace() || "<>\"".contains(c))
        .unwrap_or(s.len());
    loop {
        let cut = &s[..end];
        let opens = cut.matches('(').count();
        let closes = cut.matches(')').count();
        match cut.chars().last() {
            Some(c) if ".,;:!?'*_~".contains(c) => end -= c.len_utf8(),
            Some(')') if closes > opens => end -= 1,
            _ => break,
        }
    }
    let url = Url::parse(&s[..end]).ok()?;
    url.host_str().filter(|h| !h.is_empty())?;
    Some(end)
}

/// The length of a handle (`name`, `name@host`, `name@host:port`) at the start of `s`.
fn handle_len(s: &str) -> Option<usize> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let name_end = s
        .find(|c: char| !(word(c) || c == '.' || c == '-'))
        .unwrap_or(s.len());
    let name = s[..name_end].trim_end_matches(['.', '-']);
    if name.is_empty() {
        return None;
    }
    let mut end = name.len();
    if let Some(rest) = s[end..].strip_prefix('@') {
        let host_end = rest
            .find(|c: char| !(word(c) || c == '.' || c == '-'))
            .unwrap_or(rest.len());
        let host = rest[..host_end].trim_end_matches(['.', '-']);
        if !host.is_empty() {
            end += 1 + host.len();
            if let Some(port) = s[end..].strip_prefix(':') {
                let digits = port
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(port.len());
                let after = port[digits..].chars().next();
                if (1..=5).contains(&digits) && !after.is_some_and(word) {
                    end += 1 + digits;
                }
            }
        }
    }
    Some(end)
}

/// The length of a hashtag's name at the start of `s` (letters, digits and `_`, with at least
/// one letter).
fn tag_len(s: &str) -> Option<usize> {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    let tag = &s[..end];
    (tag.chars().any(char::is_alphabetic) && tag.chars().count() <= MAX_TAG).then_some(end)
}

/// Splits plain text into text, bare URLs, mentions and hashtags.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut plain = 0;
    let mut i = 0;
    let mut before: Option<char> = None;
    while let Some(c) = text[i..].chars().next() {
        let rest = &text[i..];
        let found = match c {
            'h' | 'H' if !before.is_some_and(char::is_alphanumeric) => {
                url_len(rest).map(|n| (n, Piece::Url(&rest[..n])))
            }
            '@' if starts_token(before) => {
                handle_len(&rest[1..]).map(|n| (n + 1, Piece::Mention(&rest[1..=n])))
            }
            '#' if starts_token(before) => {
                tag_len(&rest[1..]).map(|n| (n + 1, Piece::Hashtag(&rest[1..=n])))
            }
            _ => None,
        };
        match found {
            Some((n, piece)) => {
                if plain < i {
                    out.push(Piece::Text(&text[plain..i]));
                }
                out.push(piece);
                i += n;
                plain = i;
                before = text[..i].chars().last();
            }
            None => {
                i += c.len_utf8();
                before = Some(c);
            }
        }
    }
    if plain < text.len() {
        out.push(Piece::Text(&text[plain..]));
    }
    out
}

/// What mentions and hashtags link to.
#[derive(Debug, Default)]
struct Links {
    /// Handles as written (lower-cased, no `@`) of the people they name.
    people: BTreeMap<String, person::Model>,
    /// The page a hashtag links to, with the tag as `?tag=`; `None` leaves hashtags as text.
    tag_page: Option<Url>,
}

impl Links {
    fn tag_href(&self, tag: &str) -> Option<Url> {
        let mut href = self.tag_page.clone()?;
        href.set_query(Some(&format!("tag={}", tag.to_lowercase())));
        Some(href)
    }
}

/// The HTML of one piece that becomes a link, in the shapes Mastodon writes.
fn link_html(piece: &Piece<'_>, links: &Links) -> Option<String> {
    match piece {
        Piece::Text(_) => None,
        Piece::Url(raw) => {
            let url = Url::parse(raw).ok()?;
            Some(format!(
                "<a href=\"{}\">{}</a>",
                escape_html(url.as_str()),
                escape_html(raw)
            ))
        }
        Piece::Mention(handle) => {
            let p = links.people.get(&handle.to_lowercase())?;
            Some(format!(
                "<span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
                escape_html(p.ap_id.as_str()),
                escape_html(&p.name)
            ))
        }
        Piece::Hashtag(tag) => Some(format!(
            "<a href=\"{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
            escape_html(links.tag_href(tag)?.as_str()),
            escape_html(tag)
        )),
    }
}

/// Where markdown events stand: inside code or a link, nothing is linked.
#[derive(Debug, Default)]
struct Depth {
    code: usize,
    link: usize,
    raw: usize,
}

impl Depth {
    /// Follows the event; true when its text may be linked.
    fn track(&mut self, ev: &Event<'_>) -> bool {
        match ev {
            Event::Start(Tag::CodeBlock(_)) => self.code += 1,
            Event::End(TagEnd::CodeBlock) => self.code = self.code.saturating_sub(1),
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => self.link += 1,
            Event::End(TagEnd::Link | TagEnd::Image) => self.link = self.link.saturating_sub(1),
            Event::Html(h) | Event::InlineHtml(h) => {
                let h = h.to_ascii_lowercase();
                let count =
                    |tags: &[&str]| tags.iter().map(|t| h.matches(t).count()).sum::<usize>();
                let opens = count(&["<a ", "<a>", "<code", "<pre"]);
                let closes = count(&["</a>", "</code>", "</pre>"]);
                self.raw = (self.raw + opens).saturating_sub(closes);
            }
            Event::Text(_) => return self.code == 0 && self.link == 0 && self.raw == 0,
            _ => {}
        }
        false
    }
}

fn options() -> Options {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts
}

/// The texts of a markdown document that may hold links (outside code and links).
fn linkable_texts(md: &str) -> Vec<String> {
    let mut depth = Depth::default();
    TextMergeStream::new(Parser::new_ext(md, options()))
        .filter_map(|ev| {
            let linkable = depth.track(&ev);
            match ev {
                Event::Text(t) if linkable => Some(t.into_string()),
                _ => None,
            }
        })
        .collect()
}

/// Renders markdown with `links`, then sanitises it.
fn render(md: &str, links: &Links) -> String {
    let mut depth = Depth::default();
    let events = TextMergeStream::new(Parser::new_ext(md, options())).flat_map(|ev| {
        if !depth.track(&ev) {
            return vec![ev];
        }
        let Event::Text(text) = ev else {
            return vec![ev];
        };
        pieces(&text)
            .iter()
            .map(|piece| match (piece, link_html(piece, links)) {
                (_, Some(html)) => Event::InlineHtml(CowStr::from(html)),
                (Piece::Text(t), None) => Event::Text(CowStr::from(t.to_string())),
                (Piece::Url(t), None) => Event::Text(CowStr::from(t.to_string())),
                (Piece::Mention(h), None) => Event::Text(CowStr::from(format!("@{h}"))),
                (Piece::Hashtag(h), None) => Event::Text(CowStr::from(format!("#{h}"))),
            })
            .collect()
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    // The sanitiser gives every link its own `rel`; hashtags keep `tag` in it, as Mastodon's
    // sanitiser keeps it.
    copse_federation::html::sanitize_html(&html).replace(
        "class=\"mention hashtag\" rel=\"nofollow noopener noreferrer\"",
        "class=\"mention hashtag\" rel=\"tag nofollow noopener noreferrer\"",
    )
}

/// Renders markdown to sanitised HTML, with bare URLs linked.
pub fn render_markdown(text: &str) -> String {
    render(text, &Links::default())
}

/// A person's handle as a mention names it: `@name@host`, with the port when there is one.
pub fn handle_of(p: &person::Model) -> String {
    let host = p.ap_id.host_str().unwrap_or_default();
    match p.ap_id.port() {
        Some(port) => format!("@{}@{host}:{port}", p.name),
        None => format!("@{}@{host}", p.name),
    }
}

/// The handles a post's markdown mentions, in order of appearance, each once (compared without
/// case) and at most `MAX_MENTIONS`: the people to look up before `post_html` links them.
pub fn mentioned_handles(text: &str) -> Vec<String> {
    let mut tried = BTreeSet::new();
    let mut handles = Vec::new();
    for chunk in linkable_texts(text) {
        for piece in pieces(&chunk) {
            if let Piece::Mention(handle) = piece {
                if tried.len() < MAX_MENTIONS && tried.insert(handle.to_lowercase()) {
                    handles.push(handle.to_string());
                }
            }
        }
    }
    handles
}

/// A post's markdown rendered in community `c`: sanitised HTML with bare URLs, mentions of
/// `people` (those of `mentioned_handles` found here, by handle in lower case) and hashtags
/// linked, and the `Mention` and `Hashtag` tags of the post. Hashtags link to the community's
/// page filtered by the tag.
pub fn post_html(
    c: &community::Model,
    text: &str,
    mut people: BTreeMap<String, person::Model>,
) -> (String, Vec<Value>) {
    let mut links = Links {
        people: BTreeMap::new(),
        tag_page: Some(c.ap_id.0.clone()),
    };
    let mut tags = Vec::new();
    // Tags by name, and handles already met (found or not).
    let mut named = BTreeSet::new();
    let mut tried = BTreeSet::new();
    for chunk in linkable_texts(text) {
        for piece in pieces(&chunk) {
            match piece {
                Piece::Hashtag(tag) if named.insert(format!("#{}", tag.to_lowercase())) => {
                    if let Some(href) = links.tag_href(tag) {
                        tags.push(
                            json!({ "type": "Hashtag", "href": href, "name": format!("#{tag}") }),
                        );
                    }
                }
                Piece::Mention(handle) if tried.len() < MAX_MENTIONS => {
                    let key = handle.to_lowercase();
                    if !tried.insert(key.clone()) {
                        continue;
                    }
                    if let Some(p) = people.remove(&key) {
                        // `@max` and `@max@here` name one person: one tag.
                        let name = handle_of(&p);
                        if named.insert(name.to_lowercase()) {
                            tags.push(json!({ "type": "Mention", "href": p.ap_id, "name": name }));
                        }
                        links.people.insert(key, p);
                    }
                }
                _ => {}
            }
        }
    }
    (render(text, &links), tags)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use copse_entities::DbUrl;

    fn person(id: &str, name: &str) -> person::Model {
        let u = |s: &str| DbUrl(Url::parse(s).unwrap());
        person::Model {
            id: 1,
            ap_id: u(id),
            name: name.into(),
            display_name: None,
            summary: None,
            summary_source: None,
            avatar: None,
            inbox: u(&format!("{id}/inbox")),
            shared_inbox: None,
            key_id: u(&format!("{id}#main-key")),
            public_key_pem: String::new(),
            private_key_pem: None,
            local: false,
            published: chrono::Utc::now(),
            fetched_at: chrono::Utc::now(),
            discoverable: false,
            deleted_at: None,
        }
    }

    fn links() -> Links {
        let mut people = BTreeMap::new();
        people.insert(
            "bo@social.example:8080".to_string(),
            person("http://social.example:8080/users/bo", "bo"),
        );
        Links {
            people,
            tag_page: Some(Url::parse("https://copse.example/c/net").unwrap()),
        }
    }

    #[test]
    fn bare_urls_are_linked_without_their_trailing_punctuation() {
        let html = render_markdown("See https://example.org/a_(b). Or (https://example.org/c).");
        assert!(
            html.contains(r#"<a href="https://example.org/a_(b)" rel="nofollow noopener noreferrer">https://example.org/a_(b)</a>."#),
            "{html}"
        );
        assert!(
            html.contains(r#"(<a href="https://example.org/c" rel="nofollow noopener noreferrer">https://example.org/c</a>)."#),
            "{html}"
        );
    }

    #[test]
    fn code_and_existing_links_are_left_alone() {
        let md = "`https://a.example/x` and\n\n```\nhttps://b.example/y #tag\n```\n\n[https://c.example](https://d.example) <https://e.example> <a href=\"https://f.example\">https://g.example</a>";
        let html = render(md, &links());
        assert!(html.contains("<code>https://a.example/x</code>"), "{html}");
        assert!(html.contains("https://b.example/y #tag\n</code>"), "{html}");
        assert_eq!(html.matches("<a ").count(), 3, "{html}");
        assert!(!html.contains("href=\"https://c.example"), "{html}");
    }

    #[test]
    fn mentions_and_hashtags_become_links_in_mastodons_shape() {
        let html = render(
            "Hi @bo@social.example:8080, about #Budgets and #1.",
            &links(),
        );
        assert!(
            html.contains(r#"<span class="h-card"><a href="http://social.example:8080/users/bo" class="u-url mention" rel="nofollow noopener noreferrer">@<span>bo</span></a></span>,"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<a href="https://copse.example/c/net?tag=budgets" class="mention hashtag" rel="tag nofollow noopener noreferrer">#<span>Budgets</span></a>"#),
            "{html}"
        );
        assert!(
            html.contains(" and #1."),
            "a number is not a hashtag: {html}"
        );
    }

    #[test]
    fn unknown_people_addresses_and_anchors_stay_text() {
        let html = render(
            "Mail ana@example.org, ask @nobody, see page#top and a&#35;b",
            &links(),
        );
        assert!(!html.contains("<a"), "{html}");
        assert!(html.contains("@nobody"), "{html}");
    }

    #[test]
    fn handles_keep_their_port() {
        assert_eq!(
            pieces("@a@host:8080 and @b@host.example: yes"),
            vec![
                Piece::Mention("a@host:8080"),
                Piece::Text(" and "),
                Piece::Mention("b@host.example"),
                Piece::Text(": yes"),
            ]
        );
        let p = person("http://host:8080/u/a", "a");
        assert_eq!(handle_of(&p), "@a@host:8080");
    }

    #[test]
    fn raw_html_is_still_sanitised() {
        let html = render_markdown(
            "Hi <script>alert(1)</script> [x](javascript:alert(1)) https://ok.example",
        );
        assert!(
            !html.contains("<script") && !html.contains("javascript:"),
            "{html}"
        );
        assert!(html.contains("href=\"https://ok.example/\""), "{html}");
    }
}
