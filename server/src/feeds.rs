//! Atom 1.0 feeds for feed readers: a community's topics (`/c/{name}/feed.atom`), its upcoming
//! events (`/c/{name}/events.atom`) and a topic's replies (`/post/{id}/feed.atom`).
//!
//! They show what the pages show, by the same rules: only communities on this instance, and a
//! topic's feed only where its page is served; deleted and removed posts are left out.

use crate::{
    accounts,
    api::{
        extract::ApiPath,
        lookup::{community_events, local_community, topics, Sort},
        views,
    },
    error::ApiError,
    AppState,
};
use atom_syndication::{Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text};
use axum::{
    extract::State,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use copse_entities::{community, event::EventStatus, person, post};
use copse_federation::{
    objects::event::{place_in_words, when_in_words},
    Data,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use url::Url;

/// Most entries in one feed.
const ENTRIES: u64 = 50;

/// The media type of every feed.
pub const ATOM: &str = "application/atom+xml";

/// A community's topic feed, relative to the instance.
pub fn community_feed_path(c: &community::Model) -> String {
    format!("/c/{}/feed.atom", c.name)
}

/// A community's event feed, relative to the instance.
pub fn events_feed_path(c: &community::Model) -> String {
    format!("/c/{}/events.atom", c.name)
}

/// A topic's reply feed, relative to the instance.
pub fn topic_feed_path(topic: &post::Model) -> String {
    format!("/post/{}/feed.atom", topic.id)
}

/// `/c/{name}/feed.atom`: the community's newest topics.
pub async fn http_get_community_feed(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let list = topics(&data.db, &c, Sort::New, None, 0, ENTRIES).await?;
    let authors = accounts::people_by_id(&data.db, list.iter().map(|p| p.author_id)).await?;
    let entries = list
        .iter()
        .map(|p| post_entry(&data, p, p.title.clone(), &p.content, &authors))
        .collect();
    let feed = feed(
        &data,
        &c.title,
        &community_feed_path(&c),
        c.ap_id.as_str(),
        c.summary.as_deref(),
        c.published,
        entries,
    );
    Ok(atom_response(&feed))
}

/// `/c/{name}/events.atom`: the community's events that have not ended, soonest first;
/// cancelled ones stay, marked, so that readers learn of the cancellation.
pub async fn http_get_community_events_feed(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = local_community(&data, &name).await?;
    let list = community_events(&data, &c, false, 0, ENTRIES).await?;
    let authors = accounts::people_by_id(&data.db, list.iter().map(|(p, _)| p.author_id)).await?;
    let entries = list
        .iter()
        .map(|(p, e)| {
            let mut title = p.title.clone();
            if e.status == EventStatus::Cancelled {
                title.push_str(" (cancelled)");
            }
            // The details as the event's page shows them, above the description.
            let mut html = format!(
                "<p>{}</p>",
                copse_federation::html::escape_html(&when_in_words(
                    e.starts_at,
                    e.ends_at,
                    &e.timezone
                ))
            );
            if let Some(place) = place_in_words(e) {
                html.push_str(&format!(
                    "<p>{}</p>",
                    copse_federation::html::escape_html(&place)
                ));
            }
            html.push_str(&p.content);
            post_entry(&data, p, title, &html, &authors)
        })
        .collect();
    let feed = feed(
        &data,
        &format!("{} — events", c.title),
        &events_feed_path(&c),
        c.ap_id.as_str(),
        None,
        c.published,
        entries,
    );
    Ok(atom_response(&feed))
}

/// `/post/{id}/feed.atom`: the newest replies of a topic (of the topic of a reply).
pub async fn http_get_topic_feed(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let view = views::load(&data.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("topic"))?;
    // The same rule as the topic's page.
    if !view.community.local && !view.post.local {
        return Err(ApiError::not_found("topic"));
    }
    let topic = copse_federation::store::posts::topic_of(&data.db, &view.post).await?;
    if !topic.visible() {
        return Err(ApiError::new(StatusCode::GONE, "this topic was deleted"));
    }
    let replies = post::Entity::find()
        .filter(post::Column::TopicId.eq(topic.id))
        .filter(post::Column::Deleted.eq(false))
        .filter(post::Column::Removed.eq(false))
        .order_by_desc(post::Column::Id)
        .limit(ENTRIES)
        .all(&data.db)
        .await?;
    let authors = accounts::people_by_id(&data.db, replies.iter().map(|p| p.author_id)).await?;
    let entries = replies
        .iter()
        .map(|r| {
            let who = authors.get(&r.author_id).map_or("someone", display_name);
            let title = format!("{who} replied to {}", topic.title);
            post_entry(&data, r, title, &r.content, &authors)
        })
        .collect();
    let page = data.urls.post(topic.id);
    let feed = feed(
        &data,
        &format!("{} — replies", topic.title),
        &topic_feed_path(&topic),
        page.as_str(),
        None,
        topic.published,
        entries,
    );
    Ok(atom_response(&feed))
}

fn display_name(p: &person::Model) -> &str {
    p.display_name.as_deref().unwrap_or(&p.name)
}

fn link(href: &str, rel: &str, mime_type: Option<&str>) -> Link {
    let mut l = Link::default();
    l.set_href(href);
    l.set_rel(rel);
    l.set_mime_type(mime_type.map(str::to_string));
    l
}

fn time(t: chrono::DateTime<chrono::Utc>) -> FixedDateTime {
    t.fixed_offset()
}

/// One post as an entry: its page, its author and its sanitised HTML (`html`).
fn post_entry(
    data: &Data,
    p: &post::Model,
    title: String,
    html: &str,
    authors: &HashMap<i64, person::Model>,
) -> Entry {
    let mut e = Entry::default();
    e.set_id(p.ap_id.as_str());
    e.set_title(Text::plain(title));
    e.set_published(Some(time(p.published)));
    e.set_updated(time(p.updated.unwrap_or(p.published)));
    let page: Url = data.urls.post(p.id);
    e.set_links(vec![link(page.as_str(), "alternate", Some("text/html"))]);
    // Atom wants an author on every entry of a feed that has none of its own.
    let mut who = Person::default();
    match authors.get(&p.author_id) {
        Some(a) => {
            who.set_name(display_name(a));
            who.set_uri(Some(a.ap_id.to_string()));
        }
        None => who.set_name("someone"),
    }
    e.set_authors(vec![who]);
    let mut content = Content::default();
    content.set_content_type(Some("html".to_string()));
    content.set_value(Some(html.to_string()));
    e.set_content(Some(content));
    e
}

/// A feed at `path` about the page `page`, updated when its newest entry was (or `since`).
fn feed(
    data: &Data,
    title: &str,
    path: &str,
    page: &str,
    subtitle_html: Option<&str>,
    since: chrono::DateTime<chrono::Utc>,
    entries: Vec<Entry>,
) -> Feed {
    let mut self_url = data.urls.base().clone();
    self_url.set_path(path);
    let mut f = Feed::default();
    f.set_id(self_url.as_str());
    f.set_title(Text::plain(title));
    f.set_subtitle(subtitle_html.map(Text::html));
    f.set_links(vec![
        link(self_url.as_str(), "self", Some(ATOM)),
        link(page, "alternate", Some("text/html")),
    ]);
    let mut generator = Generator::default();
    generator.set_value("Copse");
    f.set_generator(Some(generator));
    let updated = entries
        .iter()
        .map(|e| *e.updated())
        .max()
        .unwrap_or_else(|| time(since));
    f.set_updated(updated);
    f.set_entries(entries);
    f
}

fn atom_response(feed: &Feed) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/atom+xml; charset=utf-8"),
        )],
        feed.to_string(),
    )
        .into_response()
}
