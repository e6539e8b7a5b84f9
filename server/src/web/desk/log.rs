//! The desk's decision log: what coordinators and facilitators decided, newest first, fifty to
//! a page.

use super::Desk;
use crate::{
    api::commands,
    web::{chrome::Chrome, error::PageError, page::html_response, session::SignedIn, time::When},
    AppState,
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use copse_entities::community;
use serde::Deserialize;

/// Entries on one page.
const PER_PAGE: u64 = 50;

/// One decision.
pub struct Entry {
    who: String,
    action: String,
    target: String,
    reason: String,
    when: When,
}

#[derive(Template)]
#[template(path = "desk_log.html")]
struct LogPage {
    chrome: Chrome,
    c: community::Model,
    entries: Vec<Entry>,
    page: u64,
    more: bool,
}

/// `?page=N`, from 1.
#[derive(Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    page: Option<u64>,
}

/// `GET /c/{name}/desk/log`.
pub async fn http_get_log(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<LogQuery>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let desk = Desk::open(&state, &name, &me).await?;
    desk.coordinators_only("read the decision log")?;
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let now = desk.data.clock.now();
    // One more than a page, to know whether there is a next one.
    let mut rows = commands::decision_log(
        &desk.data,
        &desk.auth(),
        &desk.c,
        (page - 1) * PER_PAGE,
        PER_PAGE + 1,
    )
    .await?;
    let more = rows.len() as u64 > PER_PAGE;
    rows.truncate(PER_PAGE as usize);
    let entries = rows
        .into_iter()
        .map(|l| Entry {
            who: l.moderator.to_string(),
            action: l.action.replace('_', " "),
            target: l.target.to_string(),
            reason: l.reason.unwrap_or_default(),
            when: When::new(l.created_at, now),
        })
        .collect();
    let view = LogPage {
        chrome: desk.chrome().await?,
        c: desk.c,
        entries,
        page,
        more,
    };
    Ok(html_response(StatusCode::OK, view.render()?))
}
