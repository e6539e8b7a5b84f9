//! Pages for people: accounts and sessions, the pages members take part on, the coordinator's
//! desk and the admin pages. Templates are files in `templates/`, checked when Copse is built;
//! every form works without JavaScript and carries a CSRF token.

pub mod account;
pub mod admin;
pub mod chrome;
pub mod community;
pub mod compose;
pub mod desk;
pub mod directory;
pub mod error;
pub mod event;
pub mod form;
pub mod home;
pub mod interaction;
pub mod map;
pub mod media;
pub mod multipart;
pub mod network;
pub mod notifications;
pub mod page;
pub mod partners;
pub mod passwords;
pub mod paths;
pub mod person;
pub mod preview;
pub mod session;
pub mod settings;
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
        .route("/static/copse.js", get(http_get_script))
        .route("/preview", post(preview::http_post_preview))
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
            "/authorize_interaction",
            get(interaction::http_get_authorize_interaction),
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
        .route(
            "/c/{name}/desk/members",
            get(desk::members::http_get_members),
        )
        .route(
            "/c/{name}/desk/members/{person}/role",
            post(desk::members::http_post_role),
        )
        .route(
            "/c/{name}/desk/members/{person}/remove",
            post(desk::members::http_post_remove),
        )
        .route(
            "/c/{name}/desk/invites",
            post(desk::members::http_post_invite),
        )
        .route(
            "/c/{name}/desk/invites/{id}/revoke",
            post(desk::members::http_post_revoke),
        )
        .route(
            "/c/{name}/desk/bans",
            get(desk::bans::http_get_bans).post(desk::bans::http_post_ban),
        )
        .route(
            "/c/{name}/desk/bans/{person}/lift",
            post(desk::bans::http_post_lift),
        )
        .route("/c/{name}/desk/topics", get(desk::topics::http_get_topics))
        .route("/c/{name}/network", get(map::http_get_map))
        .route("/c/{name}/network.svg", get(map::http_get_map_svg))
        .route("/c/{name}/network.json", get(map::http_get_map_json))
        .route("/c/{name}/network.graphml", get(map::http_get_map_graphml))
        .route(
            "/c/{name}/desk/partners",
            get(desk::partners::http_get_partners).post(desk::partners::http_post_partners),
        )
        .route("/c/{name}/desk/log", get(desk::log::http_get_log))
        .route(
            "/c/{name}/desk/settings",
            get(desk::settings::http_get_settings).post(desk::settings::http_post_settings),
        )
        .route(
            "/c/{name}/events/new",
            get(event::form::http_get_new_event).post(event::form::http_post_new_event),
        )
        .route(
            "/post/{id}/event/edit",
            get(event::form::http_get_edit_event).post(event::form::http_post_edit_event),
        )
        .route(
            "/post/{id}/event/cancel",
            get(event::form::http_get_cancel_event).post(event::form::http_post_cancel_event),
        )
        .route(
            "/post/{id}/event/participants",
            get(event::participants::http_get_participants),
        )
        .route(
            "/post/{id}/event/participants/{person}",
            post(event::participants::http_post_decision),
        )
        .route(
            "/post/{id}/event/invites",
            post(event::participants::http_post_invite),
        )
        .route("/post/{id}/rsvp", post(event::http_post_rsvp))
        .route(
            "/post/{id}/moderate",
            post(desk::topics::http_post_moderate),
        )
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
        .route("/admin", get(admin::http_get_admin))
        .route("/admin/accounts", get(admin::accounts::http_get_accounts))
        .route(
            "/admin/accounts/{name}",
            post(admin::accounts::http_post_account),
        )
        .route(
            "/admin/registration",
            get(admin::accounts::http_get_registration)
                .post(admin::accounts::http_post_registration),
        )
        .route(
            "/admin/invites",
            get(admin::accounts::http_get_invites).post(admin::accounts::http_post_invite),
        )
        .route(
            "/admin/invites/{id}/revoke",
            post(admin::accounts::http_post_revoke_invite),
        )
        .route(
            "/admin/communities",
            get(admin::instance::http_get_communities).post(admin::instance::http_post_community),
        )
        .route(
            "/admin/communities/{name}/hand-over",
            post(admin::instance::http_post_hand_over),
        )
        .route(
            "/admin/domains",
            get(admin::instance::http_get_domains).post(admin::instance::http_post_block),
        )
        .route(
            "/admin/domains/unblock",
            post(admin::instance::http_post_unblock),
        )
        .route("/admin/queue", get(admin::instance::http_get_queue))
        .route(
            "/settings",
            get(settings::http_get_settings).post(settings::http_post_settings),
        )
        .route(
            "/settings/tokens",
            get(settings::http_get_tokens).post(settings::http_post_token),
        )
        .route(
            "/settings/tokens/{id}/revoke",
            post(settings::http_post_revoke),
        )
        .route("/people/{handle}", get(person::http_get_remote_person))
        .route("/media/{file}", get(media::http_get_media))
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

/// The one script, which only enhances.
async fn http_get_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("static/copse.js"),
    )
        .into_response()
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
