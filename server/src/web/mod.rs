//! Pages for people: accounts and sessions, the pages members take part on, the coordinator's
//! desk and the admin pages. Templates are files in `templates/`, checked when Copse is built;
//! every form works without JavaScript and carries a CSRF token.

pub mod account;
pub mod chrome;
pub mod community;
pub mod compose;
pub mod desk;
pub mod error;
pub mod form;
pub mod home;
pub mod notifications;
pub mod page;
pub mod passwords;
pub mod session;
pub mod time;
pub mod topic;

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
        .route("/c/{name}/join", post(community::http_post_join))
        .route("/c/{name}/leave", post(community::http_post_leave))
        .route(
            "/c/{name}/remote-follow",
            get(community::http_get_remote_follow),
        )
        .route(
            "/c/{name}/new",
            get(compose::http_get_new_topic).post(compose::http_post_new_topic),
        )
        .route("/c/{name}/desk", get(desk::http_get_desk))
        .route(
            "/c/{name}/desk/requests/{person}",
            post(desk::http_post_request),
        )
        .route("/c/{name}/desk/reports/{id}", post(desk::http_post_report))
        .route("/post/{id}/reply", post(topic::http_post_reply))
        .route("/post/{id}/like", post(topic::http_post_like))
        .route("/post/{id}/delete", post(topic::http_post_delete))
        .route(
            "/post/{id}/edit",
            get(topic::http_get_edit).post(topic::http_post_edit),
        )
        .route(
            "/post/{id}/report",
            get(topic::http_get_report).post(topic::http_post_report),
        )
        .route("/notifications", get(notifications::http_get_notifications))
        .route("/notifications/read", post(notifications::http_post_read))
        .route(
            "/settings/notifications",
            get(notifications::http_get_settings).post(notifications::http_post_settings),
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
