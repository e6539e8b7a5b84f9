//! The home page: the instance's communities, and what to do first on a fresh instance.

use super::{chrome::Chrome, error::PageError, page::html_response, session::SignedIn};
use crate::AppState;
use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response};
use copse_entities::{community, local_user};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

/// A community in the list.
struct Listed {
    href: String,
    title: String,
    handle: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    communities: Vec<Listed>,
    needs_setup: bool,
}

/// `GET /`.
pub async fn http_get_home(
    State(state): State<AppState>,
    viewer: Option<SignedIn>,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let list = community::Entity::find()
        .filter(community::Column::Local.eq(true))
        .order_by_asc(community::Column::Name)
        .limit(200)
        .all(&state.db)
        .await?;
    let communities = list
        .into_iter()
        .map(|c| Listed {
            href: c.ap_id.to_string(),
            handle: format!("@{}@{}", c.name, state.settings.domain),
            title: c.title,
        })
        .collect();
    let needs_setup = local_user::Entity::find()
        .filter(local_user::Column::Admin.eq(true))
        .count(&state.db)
        .await?
        == 0;
    let page = HomePage {
        chrome: Chrome::load(&data, viewer.as_ref()).await?,
        communities,
        needs_setup,
    };
    Ok(html_response(StatusCode::OK, page.render()?))
}
