//! A person's notifications (`GET /api/v1/notifications`, `POST /api/v1/notifications/read`)
//! and their choice of notification mail (`/api/v1/me/notification-settings`). The page at
//! `/notifications` and the settings page read and write them through the same store
//! functions, and check the mail choice with `checked_mail_choice`.

use super::{
    extract::{ApiJson, ApiQuery, AuthUser, PageQuery},
    notification_views::{
        MarkedView, NotificationList, NotificationSettingsView, NotificationView,
    },
    responses::{BadField, OutOfRange},
    views::author_view,
};
use crate::{
    accounts,
    error::{ApiError, ErrorBody},
    mail::is_address,
    AppState,
};
use axum::{
    extract::State,
    routing::{get, post},
    Json, Router,
};
use copse_entities::{community, local_user::EmailChoice};
use copse_federation::store::notifications as store;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// The notification routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/notifications", get(http_get_notifications))
        .route("/api/v1/notifications/read", post(http_post_read))
        .route(
            "/api/v1/me/notification-settings",
            get(http_get_notification_settings).put(http_put_notification_settings),
        )
}

/// Query of the notification list (besides `page` and `limit`).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// `true`: only the notifications not yet read.
    #[serde(default)]
    pub unread: Option<bool>,
}

/// The signed-in person's notifications, newest first, with how many are unread.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    security(("bearer" = [])),
    params(NotificationQuery, PageQuery),
    responses(
        (status = 200, description = "A page of notifications", body = NotificationList),
        OutOfRange,
    ))]
async fn http_get_notifications(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<NotificationQuery>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> Result<Json<NotificationList>, ApiError> {
    let data = state.to_request_data();
    let (page, limit) = paging.checked()?;
    let me = auth.person.id;
    let unread_only = q.unread.unwrap_or(false);
    let offset = PageQuery::offset(page, limit);
    let rows = store::page_of(&data.db, me, unread_only, offset, limit).await?;
    let actors = accounts::people_by_id(&data.db, rows.iter().filter_map(|n| n.actor_id)).await?;
    let communities: HashMap<i64, community::Model> = community::Entity::find()
        .filter(community::Column::Id.is_in(rows.iter().filter_map(|n| n.community_id)))
        .all(&data.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let base = data.urls.base();
    let items = rows
        .into_iter()
        .map(|n| NotificationView {
            id: n.id,
            kind: n.kind,
            text: n.text,
            // A link is a path here or already absolute; `join` keeps an absolute one.
            link: base.join(&n.link).map(String::from).unwrap_or(n.link),
            community: n
                .community_id
                .and_then(|id| communities.get(&id))
                .map(|c| c.ap_id.clone()),
            post_id: n.post_id,
            actor: n.actor_id.and_then(|id| actors.get(&id)).map(author_view),
            created_at: n.created_at,
            read_at: n.read_at,
        })
        .collect();
    Ok(Json(NotificationList {
        page,
        unread_count: store::unread_count(&data.db, me).await?,
        items,
    }))
}

/// Body of `POST /api/v1/notifications/read`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadForm {
    /// Marks those up to this id (the newest one the reader has seen); all when left out.
    #[serde(default)]
    pub up_to: Option<i64>,
}

/// Marks the signed-in person's notifications read: all of them (`{}`), or those up to an id.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications",
    security(("bearer" = [])), request_body = ReadForm,
    responses(
        (status = 200, description = "How many were marked, and how many are still unread", body = MarkedView),
        (status = 422, description = "`up_to` is not a notification id", body = ErrorBody),
    ))]
async fn http_post_read(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(form): ApiJson<ReadForm>,
) -> Result<Json<MarkedView>, ApiError> {
    let data = state.to_request_data();
    if form.up_to.is_some_and(|id| id < 1) {
        return Err(ApiError::invalid(
            "up_to",
            "up_to must be a notification id (1 or more)",
        ));
    }
    let me = auth.person.id;
    let marked = store::mark_read(&data.db, me, form.up_to, data.clock.now()).await?;
    Ok(Json(MarkedView {
        marked,
        unread_count: store::unread_count(&data.db, me).await?,
    }))
}

/// The word the API and the settings form use for a choice of mail.
pub fn choice_word(c: EmailChoice) -> &'static str {
    match c {
        EmailChoice::Each => "each",
        EmailChoice::Digest => "digest",
        EmailChoice::None => "none",
    }
}

/// The address and the choice of mail as given, checked: any mail needs an address. A refusal
/// names `email` or `email_notifications`.
pub fn checked_mail_choice(
    email: &str,
    choice: &str,
) -> Result<(Option<String>, EmailChoice), ApiError> {
    let choice = match choice {
        "each" => EmailChoice::Each,
        "digest" => EmailChoice::Digest,
        "none" => EmailChoice::None,
        _ => {
            return Err(ApiError::invalid(
                "email_notifications",
                "choose each, digest or none",
            ))
        }
    };
    let email = email.trim();
    if !email.is_empty() && !is_address(email) {
        return Err(ApiError::invalid("email", "this is not an email address"));
    }
    if email.is_empty() && choice != EmailChoice::None {
        return Err(ApiError::invalid(
            "email",
            "give an email address to be sent mail",
        ));
    }
    Ok(((!email.is_empty()).then(|| email.to_string()), choice))
}

/// Body of `PUT /api/v1/me/notification-settings`; a field left out keeps its value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettingsForm {
    /// The address notification mail goes to; an empty one clears it.
    #[serde(default)]
    pub email: Option<String>,
    /// `each` (a mail for each notification), `digest` (one a day) or `none`.
    #[serde(default)]
    pub email_notifications: Option<String>,
}

fn settings_view(
    state: &AppState,
    email: Option<String>,
    c: EmailChoice,
) -> NotificationSettingsView {
    NotificationSettingsView {
        email,
        email_notifications: c,
        instance_sends_mail: state.settings.mail,
    }
}

/// Where the signed-in person's notification mail goes, and which notifications it carries.
#[utoipa::path(get, path = "/api/v1/me/notification-settings", tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, description = "The choice of mail", body = NotificationSettingsView)))]
async fn http_get_notification_settings(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Json<NotificationSettingsView> {
    Json(settings_view(
        &state,
        auth.user.email,
        auth.user.email_notifications,
    ))
}

/// Changes the address notification mail goes to and which notifications it carries.
#[utoipa::path(put, path = "/api/v1/me/notification-settings", tag = "notifications",
    security(("bearer" = [])), request_body = NotificationSettingsForm,
    responses(
        (status = 200, description = "The choice as it now stands", body = NotificationSettingsView),
        BadField,
    ))]
async fn http_put_notification_settings(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(form): ApiJson<NotificationSettingsForm>,
) -> Result<Json<NotificationSettingsView>, ApiError> {
    let user = auth.user;
    let email = form
        .email
        .unwrap_or_else(|| user.email.clone().unwrap_or_default());
    let choice = form
        .email_notifications
        .unwrap_or_else(|| choice_word(user.email_notifications).to_string());
    let (email, choice) = checked_mail_choice(&email, &choice)?;
    let row = store::set_mail_choice(&state.db, user.id, email, choice).await?;
    Ok(Json(settings_view(
        &state,
        row.email,
        row.email_notifications,
    )))
}
