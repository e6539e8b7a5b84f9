//! What the API answers about a person's notifications and their choice of mail: typed views,
//! so that the OpenAPI document describes exactly what is sent.

use super::views::AuthorView;
use chrono::{DateTime, Utc};
use copse_entities::{local_user::EmailChoice, notification::NotificationKind, DbUrl};
use serde::Serialize;
use utoipa::ToSchema;

/// One notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    /// Row id (the `up_to` of `POST /api/v1/notifications/read`).
    pub id: i64,
    /// What happened.
    #[schema(schema_with = super::schema::notification_kind)]
    pub kind: NotificationKind,
    /// One line of plain text saying what happened.
    pub text: String,
    /// Where to read more, an absolute URL.
    pub link: String,
    /// The ActivityPub id of the community it happened in.
    #[schema(value_type = Option<String>)]
    pub community: Option<DbUrl>,
    /// The row id of the post or event it is about.
    pub post_id: Option<i64>,
    /// Who did it, when someone did.
    pub actor: Option<AuthorView>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// When it was marked read; `null` while it is unread.
    pub read_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/notifications`: a page of notifications.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    /// The page.
    pub page: u64,
    /// How many of the person's notifications are unread, on every page.
    pub unread_count: u64,
    /// Newest first.
    pub items: Vec<NotificationView>,
}

/// `POST /api/v1/notifications/read`: what was marked.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedView {
    /// How many notifications this marked read.
    pub marked: u64,
    /// How many are still unread.
    pub unread_count: u64,
}

/// `GET /api/v1/me/notification-settings`: where notification mail goes, and which.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationSettingsView {
    /// The address mail goes to, if one is given.
    pub email: Option<String>,
    /// A mail for each notification, a daily digest, or none.
    #[schema(schema_with = super::schema::email_choice)]
    pub email_notifications: EmailChoice,
    /// False while this instance sends no mail at all: the choice is kept for when it does.
    pub instance_sends_mail: bool,
}
