//! A community's partners, `/c/{name}/partners` for browsers (servers get the collection at the
//! same URL): the communities it partners with, either way, and the latest topics and events of
//! those it follows, each with where it came from.

use super::{
    chrome::Chrome,
    error::PageError,
    network::{linked, Linked},
    page::html_response,
    session::SignedIn,
    time::When,
};
use crate::accounts;
use askama::Template;
use axum::{http::StatusCode, response::Response};
use copse_entities::{community, partner_share::ShareStatus};
use copse_federation::{store::partners, Data};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;

/// How many of the partners' posts the page shows.
const LATEST: u64 = 30;

/// A partner's topic or event.
pub struct FromPartner {
    /// Row id.
    pub id: i64,
    /// Its page here.
    pub href: String,
    /// Its title.
    pub title: String,
    /// Its author, as pages name people.
    pub author: String,
    /// Its community.
    pub from: Linked,
    /// When it was published.
    pub when: When,
    /// Shared here already.
    pub shared: bool,
}

#[derive(Template)]
#[template(path = "partners.html")]
struct PartnersPage {
    chrome: Chrome,
    c: community::Model,
    partners: Vec<Linked>,
    latest: Vec<FromPartner>,
    coordinator: bool,
}

/// The latest topics and events of the partners `c` follows, with whether `c` shared each.
pub async fn latest(data: &Data, c: &community::Model) -> Result<Vec<FromPartner>, PageError> {
    let now = data.clock.now();
    let rows = partners::from_partners(&data.db, c, 0, LATEST).await?;
    let authors = accounts::people_by_id(&data.db, rows.iter().map(|p| p.author_id)).await?;
    let mut from: HashMap<i64, community::Model> = HashMap::new();
    for r in community::Entity::find()
        .filter(community::Column::Id.is_in(rows.iter().map(|p| p.community_id)))
        .all(&data.db)
        .await?
    {
        from.insert(r.id, r);
    }
    let shared: Vec<i64> = copse_entities::partner_share::Entity::find()
        .filter(copse_entities::partner_share::Column::CommunityId.eq(c.id))
        .filter(copse_entities::partner_share::Column::Status.eq(ShareStatus::Shared))
        .filter(copse_entities::partner_share::Column::PostId.is_in(rows.iter().map(|p| p.id)))
        .all(&data.db)
        .await?
        .into_iter()
        .map(|s| s.post_id)
        .collect();
    let mut out = Vec::new();
    for p in rows {
        let Some(community) = from.get(&p.community_id) else {
            continue;
        };
        out.push(FromPartner {
            id: p.id,
            href: format!("/post/{}", p.id),
            title: p.title.clone(),
            author: authors
                .get(&p.author_id)
                .map(super::person::person_label)
                .unwrap_or_else(|| "someone".into()),
            from: linked(data, community).await?,
            when: When::new(p.published, now),
            shared: shared.contains(&p.id),
        });
    }
    Ok(out)
}

/// The partners page of `c` as `viewer` sees it.
pub async fn page(
    data: &Data,
    viewer: Option<&SignedIn>,
    c: &community::Model,
) -> Result<Response, PageError> {
    let mut list = Vec::new();
    for p in partners::partners_of(&data.db, c).await? {
        list.push(linked(data, &p).await?);
    }
    let coordinator = match viewer {
        Some(s) if s.user.admin => true,
        Some(s) => {
            copse_federation::store::tree::acting_role(&data.db, c, s.person.id).await?
                == Some(copse_entities::community_follower::Role::Coordinator)
        }
        None => false,
    };
    let view = PartnersPage {
        chrome: Chrome::load(data, viewer).await?,
        c: c.clone(),
        partners: list,
        latest: latest(data, c).await?,
        coordinator,
    };
    Ok(html_response(StatusCode::OK, view.render()?))
}
