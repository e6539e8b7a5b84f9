//! Where a community stands in its network, on its pages: the community it sits under, the
//! ones under it (on the community's page, and all of them at `/c/{name}/subcommunities`).

use super::{
    chrome::Chrome, error::PageError, page::html_response, paths::PagePath, session::SignedIn,
};
use crate::accounts;
use askama::Template;
use axum::{http::StatusCode, response::Response};
use copse_entities::community;
use copse_federation::{protocol::domain_of, store::tree, Data};

/// A community named from another: a link to its page here.
pub struct Linked {
    /// Its page on this server.
    pub href: String,
    /// Its title.
    pub title: String,
    /// `@name@domain`.
    pub handle: String,
    /// Members known here.
    pub members: u64,
}

/// The parent and sub-communities shown on a community's page.
#[derive(Default)]
pub struct Network {
    /// The community it sits under.
    pub parent: Option<Linked>,
    /// Only members of the parent may join.
    pub parent_members_only: bool,
    /// The first sub-communities, by title.
    pub children: Vec<Linked>,
    /// How many there are in all.
    pub child_count: usize,
}

/// How many sub-communities a community's page shows before linking to the full list.
const ON_PAGE: usize = 10;

/// How a community is named from another's page.
pub async fn linked(data: &Data, c: &community::Model) -> Result<Linked, PageError> {
    let domain = if c.local {
        data.settings.domain.clone()
    } else {
        domain_of(&c.ap_id.0)
    };
    Ok(Linked {
        href: c.page_path(),
        title: c.title.clone(),
        handle: format!("@{}@{domain}", c.name),
        members: accounts::follower_count(&data.db, c.id).await?,
    })
}

impl Network {
    /// Reads where `c` stands.
    pub async fn of(data: &Data, c: &community::Model) -> Result<Self, PageError> {
        let parent = match tree::parent_of(&data.db, c).await? {
            Some(p) => Some(linked(data, &p).await?),
            None => None,
        };
        let all = tree::children_of(&data.db, c).await?;
        let mut children = Vec::new();
        for child in all.iter().take(ON_PAGE) {
            children.push(linked(data, child).await?);
        }
        Ok(Self {
            parent,
            parent_members_only: c.parent_members_only,
            children,
            child_count: all.len(),
        })
    }
}

#[derive(Template)]
#[template(path = "subcommunities.html")]
struct SubcommunitiesPage {
    chrome: Chrome,
    c: community::Model,
    children: Vec<Linked>,
}

/// The page listing every community under `c`.
pub async fn subcommunities_page(
    data: &Data,
    viewer: Option<&SignedIn>,
    c: &community::Model,
    children: Vec<community::Model>,
) -> Result<Response, PageError> {
    let mut rows = Vec::new();
    for child in &children {
        rows.push(linked(data, child).await?);
    }
    let view = SubcommunitiesPage {
        chrome: Chrome::load(data, viewer).await?,
        c: c.clone(),
        children: rows,
    };
    Ok(html_response(StatusCode::OK, view.render()?))
}
