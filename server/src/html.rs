//! Plain HTML pages for browsers: the same URLs as the ActivityPub documents.

use crate::{
    api::lookup::{community_events, topics, Sort},
    error::ApiError,
    AppState,
};
use axum::{
    extract::State,
    response::{Html, IntoResponse, Response},
};
use copse_entities::{
    community,
    event::{self, EventStatus, JoinMode},
    person, post,
};
use copse_federation::{
    html::escape_html,
    objects::event::{place_in_words, when_in_words},
    Data,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

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

/// The home page: local communities.
pub async fn http_get_home(State(state): State<AppState>) -> Result<Response, ApiError> {
    let list = community::Entity::find()
        .filter(community::Column::Local.eq(true))
        .order_by_asc(community::Column::Name)
        .limit(200)
        .all(&state.db)
        .await?;
    let mut body = format!(
        "<h1>Copse at {}</h1><ul>",
        escape_html(&state.settings.domain)
    );
    for c in list {
        body.push_str(&format!(
            "<li><a href=\"{}\">{}</a> — @{}@{}</li>",
            escape_html(c.ap_id.as_str()),
            escape_html(&c.title),
            escape_html(&c.name),
            escape_html(&state.settings.domain)
        ));
    }
    body.push_str("</ul>");
    Ok(page("Communities", &body))
}

/// A community: title, summary, follower count and recent topics, or with `tag` (lower case,
/// without `#`) only the topics with that hashtag.
pub async fn community_page(
    data: &Data,
    c: &community::Model,
    tag: Option<&str>,
) -> Result<Response, ApiError> {
    let followers = crate::accounts::follower_count(&data.db, c.id).await?;
    let posts = topics(&data.db, c, Sort::Active, tag, 0, 20).await?;
    let policy = match c.membership_policy {
        copse_entities::community::MembershipPolicy::Open => "open to all",
        copse_entities::community::MembershipPolicy::Approval => "by approval",
        copse_entities::community::MembershipPolicy::Invite => "by invitation",
    };
    let mut body = format!(
        "<h1>{}</h1><p class=\"meta\">@{}@{} · {} follower{} · membership {policy} · <a href=\"{}/rules\">how we work</a> · <a href=\"{}\">Topics feed (Atom)</a> · <a href=\"{}\">Events feed (Atom)</a></p><div>{}</div>",
        escape_html(&c.title),
        escape_html(&c.name),
        escape_html(&data.settings.domain),
        followers,
        if followers == 1 { "" } else { "s" },
        escape_html(c.ap_id.as_str()),
        escape_html(&crate::feeds::community_feed_path(c)),
        escape_html(&crate::feeds::events_feed_path(c)),
        c.summary.as_deref().unwrap_or_default()
    );
    body.push_str(&events_section(data, c).await?);
    match tag {
        Some(tag) => {
            body.push_str(&format!(
                "<p class=\"meta\">Topics tagged <strong>#{}</strong> · <a href=\"{}\">all topics</a></p>",
                escape_html(tag),
                escape_html(c.ap_id.as_str())
            ));
            if posts.is_empty() {
                body.push_str("<p>No topics with this tag.</p>");
            }
        }
        None if posts.is_empty() => body.push_str("<p>No posts yet.</p>"),
        None => {}
    }
    for p in posts {
        body.push_str(&format!(
            "<article><h3><a href=\"/post/{}\">{}</a>{}{}</h3><p class=\"meta\">{}</p>{}</article>",
            p.id,
            escape_html(&p.title),
            if p.pinned { " 📌" } else { "" },
            if p.locked { " 🔒" } else { "" },
            p.published.format("%Y-%m-%d %H:%M UTC"),
            p.content
        ));
    }
    let feeds = [
        (
            format!("{} — topics", c.title),
            crate::feeds::community_feed_path(c),
        ),
        (
            format!("{} — events", c.title),
            crate::feeds::events_feed_path(c),
        ),
    ];
    Ok(page_with_feeds(&c.title, &feeds, &body))
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

/// The upcoming events of a community, with its calendar links, before its topics.
async fn events_section(data: &Data, c: &community::Model) -> Result<String, ApiError> {
    let list = community_events(data, c, false, 0, 10).await?;
    let mut html = String::from("<h2>Upcoming events</h2>");
    if list.is_empty() {
        html.push_str("<p>No events planned.</p>");
    }
    html.push_str("<ul>");
    for (p, e) in &list {
        html.push_str(&format!(
            "<li><a href=\"/post/{}\">{}</a> — {}{}</li>",
            p.id,
            escape_html(&p.title),
            escape_html(&when_in_words(e.starts_at, e.ends_at, &e.timezone)),
            if e.status == EventStatus::Cancelled {
                " <strong>(cancelled)</strong>"
            } else {
                ""
            }
        ));
    }
    html.push_str("</ul>");
    if c.local {
        html.push_str(&calendar_links(data, &format!("/c/{}/events.ics", c.name)));
    }
    html.push_str("<h2>Topics</h2>");
    Ok(html)
}

/// The details of an event, above its comments.
fn event_details(data: &Data, p: &post::Model, e: &event::Model) -> String {
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
    let places = match e.remaining() {
        Some(left) => format!("{} going, {left} places left", e.participant_count),
        None => format!("{} going", e.participant_count),
    };
    row("Participants", escape_html(&places));
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

/// A person's profile.
pub fn person_page(p: &person::Model) -> Response {
    let name = p.display_name.as_deref().unwrap_or(&p.name);
    page(
        name,
        &format!(
            "<h1>{}</h1><p class=\"meta\">@{}</p><div>{}</div>",
            escape_html(name),
            escape_html(&p.name),
            p.summary.as_deref().unwrap_or_default()
        ),
    )
}

/// A topic and its replies, nested. Every body was sanitised when it was stored; every name
/// and title is escaped here.
pub async fn thread_page(
    data: &Data,
    p: &post::Model,
    c: &community::Model,
) -> Result<Response, ApiError> {
    let topic = copse_federation::store::posts::topic_of(&data.db, p).await?;
    let mut posts = post::Entity::find()
        .filter(post::Column::TopicId.eq(topic.id))
        .order_by_asc(post::Column::Id)
        .limit(2000)
        .all(&data.db)
        .await?;
    posts.insert(0, topic.clone());
    let authors =
        crate::accounts::people_by_id(&data.db, posts.iter().map(|p| p.author_id)).await?;
    let known: std::collections::HashSet<i64> = posts.iter().map(|p| p.id).collect();
    let mut children: std::collections::HashMap<i64, Vec<&post::Model>> = Default::default();
    for r in posts.iter().skip(1) {
        let parent = r
            .parent_id
            .filter(|id| known.contains(id))
            .unwrap_or(topic.id);
        children.entry(parent).or_default().push(r);
    }
    let byline = |p: &post::Model| {
        let (name, href) = authors
            .get(&p.author_id)
            .map(|a| {
                (
                    a.display_name.clone().unwrap_or_else(|| a.name.clone()),
                    a.ap_id.to_string(),
                )
            })
            .unwrap_or_else(|| ("someone".into(), String::new()));
        format!(
            "<p class=\"meta\">by <a href=\"{}\">{}</a> · {}</p>",
            escape_html(&href),
            escape_html(&name),
            p.published.format("%Y-%m-%d %H:%M UTC")
        )
    };
    let text = |p: &post::Model| {
        if p.deleted {
            "<p><em>Deleted by its author.</em></p>".to_string()
        } else if p.removed {
            "<p><em>Removed by a facilitator.</em></p>".to_string()
        } else {
            match &p.url {
                Some(u) => format!(
                    "<p class=\"link\"><a href=\"{0}\" rel=\"nofollow noopener noreferrer\">{0}</a></p>{1}",
                    escape_html(u.as_str()),
                    p.content
                ),
                None => p.content.clone(),
            }
        }
    };
    let details = match copse_federation::store::events::event_of_post(&data.db, topic.id).await? {
        Some(e) if topic.visible() => event_details(data, &topic, &e),
        _ => String::new(),
    };
    let feed = crate::feeds::topic_feed_path(&topic);
    let mut body = format!(
        "<p class=\"meta\"><a href=\"{}\">{}</a> · <a href=\"{}\">Replies feed (Atom)</a></p><h1>{}{}</h1>{}{details}{}",
        escape_html(c.ap_id.as_str()),
        escape_html(&c.title),
        escape_html(&feed),
        escape_html(&topic.title),
        if topic.locked { " 🔒" } else { "" },
        byline(&topic),
        text(&topic)
    );
    // Depth-first, without recursion: (post, depth).
    let mut stack: Vec<(&post::Model, usize)> = children
        .get(&topic.id)
        .map(|l| l.iter().rev().map(|r| (*r, 1)).collect())
        .unwrap_or_default();
    if !stack.is_empty() {
        body.push_str("<h2>Replies</h2>");
    }
    while let Some((r, depth)) = stack.pop() {
        body.push_str(&format!(
            "<article id=\"p{}\" class=\"d{}\">{}{}</article>",
            r.id,
            (depth - 1).min(4),
            byline(r),
            text(r)
        ));
        if let Some(list) = children.get(&r.id) {
            stack.extend(list.iter().rev().map(|x| (*x, depth + 1)));
        }
    }
    let feeds = [(format!("{} — replies", topic.title), feed)];
    Ok(page_with_feeds(&topic.title, &feeds, &body))
}
