//! Pages for people: accounts and sessions, the pages members take part on, the coordinator's
//! desk and the admin pages. Templates are files in `templates/`, checked when Copse is built;
//! every form works without JavaScript and carries a CSRF token.

pub mod account;
pub mod chrome;
pub mod error;
pub mod form;
pub mod home;
pub mod notifications;
pub mod page;
pub mod passwords;
pub mod session;

use crate::AppState;
use axum::{
    http::header,
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/copse.css", get(http_get_stylesheet))
        .route(
            "/signin",
            get(account::http_get_signin).post(account::http_post_signin),
        )
        .route("/signout", post(account::http_post_signout))
        .route(
            "/signup",
            get(account::http_get_signup).post(account::http_post_signup),
        )
        .route(
            "/setup/{token}",
            get(account::http_get_setup).post(account::http_post_setup),
        )
}

/// The one stylesheet.
async fn http_get_stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("static/copse.css"),
    )
        .into_response()
}
