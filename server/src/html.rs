//! The pages not yet made from templates (a community's rules) and the event details
//! the topic page shows; the rest are in `web`.

use axum::response::{Html, IntoResponse, Response};
use copse_entities::{
    community,
    event::{self, EventStatus, JoinMode},
    post,
};
use copse_federation::{
    html::escape_html,
    objects::event::{place_in_words, when_in_words},
    Data,
};

fn page(title: &str, body: &str) -> Response {
    page_with_feeds(title, &[], body)
}

/// A page whose `<head>` names its Atom feeds, `(title, path)`, for feed readers.
fn page_with_feeds(title: &str, feeds: &[(String, String)], body: &str) -> Response {
    let links: String = feeds
        .iter()
        .map(|(t, href)| {
            format!(
                "<link rel=\"alternate\" type=\"{}\" title=\"{}\" href=\"{}\">",
                crate::feeds::ATOM,
                escape_html(t),
                escape_html(href)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Copse</title>{links}\
         <style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         article{{border-top:1px solid #ccc;padding:.5rem 0}}.meta{{color:#555;font-size:.9rem}}\
         .d1{{margin-left:2rem}}.d2{{margin-left:4rem}}.d3{{margin-left:6rem}}.d4{{margin-left:8rem}}</style></head>\
         <body>{body}</body></html>",
        escape_html(title)
    ))
    .into_response()
}

/// Download and subscribe links of an iCalendar feed at `path`.
fn calendar_links(data: &Data, path: &str) -> String {
    let domain = &data.settings.domain;
    format!(
        "<p class=\"meta\"><a href=\"{path}\" download>Download calendar (.ics)</a> · \
         <a href=\"webcal://{}{path}\">Subscribe in your calendar</a></p>",
        escape_html(domain)
    )
}

/// Places in words: "3 of 20 places left", "full — join the waiting list", or "5 going" when
/// there is no limit.
pub fn places_in_words(e: &event::Model) -> String {
    match (e.capacity, e.remaining()) {
        (_, Some(0)) => "full — join the waiting list".to_string(),
        (Some(cap), Some(left)) => format!("{left} of {cap} places left"),
        (None, Some(left)) => format!("{left} places left"),
        (_, None) => format!("{} going", e.participant_count),
    }
}

/// The details of an event, above its comments.
pub fn event_details(data: &Data, p: &post::Model, e: &event::Model) -> String {
    let mut html = String::from("<section class=\"event\"><dl>");
    let mut row = |k: &str, v: String| {
        html.push_str(&format!("<dt>{}</dt><dd>{v}</dd>", escape_html(k)));
    };
    if e.status != EventStatus::Confirmed {
        row("Status", escape_html(e.status.ical()));
    }
    row(
        "When",
        escape_html(&when_in_words(e.starts_at, e.ends_at, &e.timezone)),
    );
    if let Some(place) = place_in_words(e) {
        row("Where", escape_html(&place));
    }
    if let Some(link) = &e.online_url {
        row(
            "Online",
            format!(
                "<a href=\"{0}\" rel=\"nofollow noopener\">{0}</a>",
                escape_html(link)
            ),
        );
    }
    row("Places", escape_html(&places_in_words(e)));
    if let (JoinMode::External, Some(u)) = (e.join_mode, &e.external_url) {
        row(
            "Register",
            format!(
                "<a href=\"{0}\" rel=\"nofollow noopener\">{0}</a>",
                escape_html(u)
            ),
        );
    }
    html.push_str("</dl></section>");
    if p.local {
        html.push_str(&calendar_links(data, &format!("/post/{}/event.ics", p.id)));
    }
    html
}

/// A community's purpose, code of conduct and ways of deciding.
pub fn rules_page(c: &community::Model) -> Response {
    let section = |title: &str, html: &Option<String>| {
        html.as_ref()
            .map(|h| format!("<h2>{}</h2>{h}", escape_html(title)))
            .unwrap_or_default()
    };
    let body = format!(
        "<p class=\"meta\"><a href=\"{}\">{}</a></p><h1>How we work</h1>{}{}{}{}",
        escape_html(c.ap_id.as_str()),
        escape_html(&c.title),
        section("Purpose", &c.purpose),
        section("Code of conduct", &c.rules),
        section("How decisions are made", &c.decision_making),
        c.languages
            .as_ref()
            .map(|l| format!("<h2>Languages</h2><p>{}</p>", escape_html(l)))
            .unwrap_or_default()
    );
    page(&format!("{} — how we work", c.title), &body)
}
