//! A person's page: who they are (display name, handle, avatar, bio), the communities where they
//! chose to be listed, and their recent posts. Local people's pages are at `/u/{name}` (the same
//! URL serves their `Person` to servers); people known from other servers at
//! `/people/{name@host}`.

use super::{chrome::Chrome, error::PageError, page::html_response, session::SignedIn, time::When};
use crate::{api::lookup::known_person, markdown::handle_of, AppState};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use copse_entities::{community, community_follower, person, post};
use copse_federation::Data;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;

/// Posts on one page of the list.
const PER_PAGE: u64 = 20;

/// The page of a person on this instance: `/u/{name}` for local people, `/people/{handle}`
/// for people from elsewhere.
pub fn person_href(p: &person::Model) -> String {
    if p.local {
        format!("/u/{}", p.name)
    } else {
        format!("/people/{}", handle_of(p).trim_start_matches('@'))
    }
}

/// How a post's author is named on pages: their display name (or name), followed by their
/// handle when they are from another server, so readers can tell `bob` here from `bob` there.
pub fn person_label(p: &person::Model) -> String {
    let shown = p.display_name.clone().unwrap_or_else(|| p.name.clone());
    if p.local {
        shown
    } else {
        format!("{shown} {}", handle_of(p))
    }
}

/// A community in the person's list.
struct CommunityRow {
    href: String,
    title: String,
}

/// A post in the person's list.
struct PostRow {
    href: String,
    title: String,
    community: String,
    reply: bool,
    when: When,
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    chrome: Chrome,
    p: person::Model,
    shown_name: String,
    handle: String,
    communities: Vec<CommunityRow>,
    posts: Vec<PostRow>,
    newer: Option<String>,
    older: Option<String>,
}

/// Query of a person's page.
#[derive(Debug, Default, Deserialize)]
pub struct PersonQuery {
    /// Which page of posts, from 1.
    #[serde(default)]
    pub page: Option<u64>,
}

/// The page of person `p` as `viewer` sees it, at page `page` of their posts.
pub async fn page(
    data: &Data,
    viewer: Option<&SignedIn>,
    p: &person::Model,
    page: u64,
) -> Result<Response, PageError> {
    let now = data.clock.now();
    let page = page.clamp(1, 10_000);
    // Only the memberships they agreed to have listed.
    let ids: Vec<i64> = community_follower::Entity::find()
        .select_only()
        .column(community_follower::Column::CommunityId)
        .filter(community_follower::Column::PersonId.eq(p.id))
        .filter(community_follower::Column::Pending.eq(false))
        .filter(community_follower::Column::Listed.eq(true))
        .limit(100)
        .into_tuple()
        .all(&data.db)
        .await?;
    let communities = community::Entity::find()
        .filter(community::Column::Id.is_in(ids))
        .order_by_asc(community::Column::Title)
        .all(&data.db)
        .await?
        .into_iter()
        .map(|c| CommunityRow {
            href: c.ap_id.to_string(),
            title: c.title,
        })
        .collect();
    let mut list = post::Entity::find()
        .filter(post::Column::AuthorId.eq(p.id))
        .filter(post::Column::Deleted.eq(false))
        .filter(post::Column::Removed.eq(false))
        .order_by_desc(post::Column::Published)
        .order_by_desc(post::Column::Id)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
        .all(&data.db)
        .await?;
    let more = list.len() as u64 > PER_PAGE;
    list.truncate(PER_PAGE as usize);
    let topic_ids: Vec<i64> = list.iter().map(post::Model::thread_id).collect();
    let topics: std::collections::HashMap<i64, String> = post::Entity::find()
        .filter(post::Column::Id.is_in(topic_ids))
        .all(&data.db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.title))
        .collect();
    let community_ids: Vec<i64> = list.iter().map(|x| x.community_id).collect();
    let titles: std::collections::HashMap<i64, String> = community::Entity::find()
        .filter(community::Column::Id.is_in(community_ids))
        .all(&data.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.title))
        .collect();
    let posts = list
        .iter()
        .map(|x| PostRow {
            href: format!("/post/{}", x.id),
            title: topics
                .get(&x.thread_id())
                .cloned()
                .unwrap_or_else(|| x.title.clone()),
            community: titles.get(&x.community_id).cloned().unwrap_or_default(),
            reply: x.parent_id.is_some(),
            when: When::new(x.published, now),
        })
        .collect();
    let base = person_href(p);
    let at = |n: u64| {
        if n > 1 {
            format!("{base}?page={n}")
        } else {
            base.clone()
        }
    };
    let view = PersonPage {
        chrome: Chrome::load(data, viewer).await?,
        shown_name: p.display_name.clone().unwrap_or_else(|| p.name.clone()),
        handle: handle_of(p),
        communities,
        posts,
        newer: (page > 1).then(|| at(page - 1)),
        older: more.then(|| at(page + 1)),
        p: p.clone(),
    };
    Ok(html_response(StatusCode::OK, view.render()?))
}

/// `GET /people/{handle}`: a person known here from another server (never fetched for the
/// page); a local handle goes to `/u/{name}`.
pub async fn http_get_remote_person(
    State(state): State<AppState>,
    Path(handle): Path<String>,
    Query(q): Query<PersonQuery>,
    viewer: Option<SignedIn>,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let p = known_person(&data, &handle)
        .await?
        .filter(|p| p.deleted_at.is_none())
        .ok_or_else(|| PageError::not_found("person"))?;
    if p.local {
        return Ok(Redirect::to(&person_href(&p)).into_response());
    }
    page(&data, viewer.as_ref(), &p, q.page.unwrap_or(1)).await
}
