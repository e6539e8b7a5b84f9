//! A community's member directory, `/c/{name}/members` for browsers (servers get the
//! collection at the same URL): the members who chose to be listed, with their roles, and the
//! count of all members.

use super::{
    chrome::Chrome, error::PageError, page::html_response, person::person_href, session::SignedIn,
};
use crate::accounts;
use askama::Template;
use axum::{http::StatusCode, response::Response};
use copse_entities::{
    community,
    community_follower::{self, Role},
};
use copse_federation::Data;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Members on one page of the directory.
const PER_PAGE: u64 = 50;

/// A listed member.
struct MemberRow {
    href: String,
    name: String,
    handle: String,
    avatar: Option<String>,
    role: &'static str,
}

#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage {
    chrome: Chrome,
    c: community::Model,
    total: u64,
    members: Vec<MemberRow>,
    newer: Option<String>,
    older: Option<String>,
}

/// The directory of community `c` as `viewer` sees it, at page `page`.
pub async fn page(
    data: &Data,
    viewer: Option<&SignedIn>,
    c: &community::Model,
    page: u64,
) -> Result<Response, PageError> {
    let page = page.clamp(1, 10_000);
    let total = accounts::follower_count(&data.db, c.id).await?;
    let mut rows = community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(c.id))
        .filter(community_follower::Column::Pending.eq(false))
        .filter(community_follower::Column::Listed.eq(true))
        .order_by_asc(community_follower::Column::Id)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
        .all(&data.db)
        .await?;
    let more = rows.len() as u64 > PER_PAGE;
    rows.truncate(PER_PAGE as usize);
    let people = accounts::people_by_id(&data.db, rows.iter().map(|m| m.person_id)).await?;
    let members = rows
        .iter()
        .filter_map(|m| {
            let p = people
                .get(&m.person_id)
                .filter(|p| p.deleted_at.is_none())?;
            Some(MemberRow {
                href: person_href(p),
                name: p.display_name.clone().unwrap_or_else(|| p.name.clone()),
                handle: crate::markdown::handle_of(p),
                avatar: p.avatar.clone(),
                role: match m.role {
                    Role::Coordinator => "coordinator",
                    Role::Facilitator => "facilitator",
                    _ => "member",
                },
            })
        })
        .collect();
    let base = format!("/c/{}/members", c.name);
    let at = |n: u64| {
        if n > 1 {
            format!("{base}?page={n}")
        } else {
            base.clone()
        }
    };
    let view = DirectoryPage {
        chrome: Chrome::load(data, viewer).await?,
        c: c.clone(),
        total,
        members,
        newer: (page > 1).then(|| at(page - 1)),
        older: more.then(|| at(page + 1)),
    };
    Ok(html_response(StatusCode::OK, view.render()?))
}
