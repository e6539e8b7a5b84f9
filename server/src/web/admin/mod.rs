//! The instance admin's pages under `/admin`: accounts (approve sign-ups, suspend), the
//! registration policy and invitation links, communities (create, hand over), domain blocks
//! and queue health. They call the functions the command line and the API use (`crate::admin`,
//! `crate::accounts`, `actions`). Closed to everyone but instance admins: 403 for people signed
//! in, the sign-in page for strangers.

pub mod accounts;
pub mod instance;

use super::{chrome::Chrome, error::PageError, page::html_response, session::SignedIn, time::When};
use crate::{admin, AppState};
use askama::Template;
use axum::{
    extract::{FromRequestParts, State},
    http::{request::Parts, StatusCode},
    response::Response,
};
use copse_entities::local_user::AccountStatus;

/// An instance admin signed in from this browser.
pub struct AdminUser(pub SignedIn);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let me = <SignedIn as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        if me.user.admin {
            Ok(Self(me))
        } else {
            Err(PageError::forbidden(
                "the admin pages are for this instance's admins",
            ))
        }
    }
}

impl AdminUser {
    /// Checks a submitted form's CSRF token against the session's.
    pub fn check_csrf(&self, given: &str) -> Result<(), PageError> {
        self.0.check_csrf(given)
    }
}

#[derive(Template)]
#[template(path = "admin.html")]
struct OverviewPage {
    chrome: Chrome,
    section: &'static str,
    pending: usize,
    suspended: usize,
    accounts: usize,
    communities: usize,
    blocked: usize,
    paused: usize,
    outbox: i64,
    inbox: i64,
    oldest: Option<When>,
}

/// `GET /admin`: what needs the admin's attention, and the way to each page.
pub async fn http_get_admin(
    State(state): State<AppState>,
    me: AdminUser,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let users = admin::users(&state.db).await?;
    let count = |s: AccountStatus| users.iter().filter(|u| u.status == s).count();
    let health = admin::health::queue_health(&state.db).await?;
    let oldest = match (health.backlog.oldest_outbox, health.backlog.oldest_inbox) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let page = OverviewPage {
        chrome: Chrome::load(&data, Some(&me.0)).await?,
        section: "",
        pending: count(AccountStatus::Pending),
        suspended: count(AccountStatus::Suspended),
        accounts: users.len(),
        communities: admin::communities(&state.db).await?.len(),
        blocked: admin::blocked_domains(&state.db).await?.len(),
        paused: health.paused.len(),
        outbox: health.backlog.outbox,
        inbox: health.backlog.inbox,
        oldest: oldest.map(|t| When::new(t, health.now)),
    };
    Ok(html_response(StatusCode::OK, page.render()?))
}

impl From<admin::AdminError> for PageError {
    fn from(e: admin::AdminError) -> Self {
        Self::Shown(e.into())
    }
}
