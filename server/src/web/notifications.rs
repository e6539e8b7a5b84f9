//! The notifications page, the count in the header, and each person's choice of mail: read and
//! stored by `store::notifications` and checked by `api::notifications`, as the API does.
//!
//! Opening the page marks nothing read: the unread ones are shown as new until the person
//! presses "Mark all read", which marks those up to the newest the page showed (one that
//! arrived after the page was drawn stays new).

use super::{
    chrome::Chrome,
    error::PageError,
    form::{FieldErrors, Form},
    page::html_response,
    session::SignedIn,
    time::When,
};
use crate::{
    api::notifications::{checked_mail_choice, choice_word},
    AppState,
};
use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use copse_federation::store::notifications as store;
use serde::Deserialize;

/// Notifications on one page.
const PER_PAGE: u64 = 30;

/// One notification on the page.
pub struct Item {
    text: String,
    href: String,
    unread: bool,
    when: When,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    items: Vec<Item>,
    newest: i64,
    unread: u64,
    page: u64,
    more: bool,
}

/// `?page=` on the notifications page.
#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: Option<u64>,
}

/// `GET /notifications`: the person's notifications, newest first, thirty to a page.
pub async fn http_get_notifications(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let offset = (page - 1) * PER_PAGE;
    let rows = store::page_of(&data.db, me.person.id, false, offset, PER_PAGE + 1).await?;
    let more = rows.len() as u64 > PER_PAGE;
    let now = data.clock.now();
    let newest = store::newest_id(&data.db, me.person.id).await?;
    let items = rows
        .into_iter()
        .take(PER_PAGE as usize)
        .map(|n| Item {
            text: n.text,
            href: n.link,
            unread: n.read_at.is_none(),
            when: When::new(n.created_at, now),
        })
        .collect();
    let chrome = Chrome::load(&data, Some(&me)).await?;
    let unread = chrome.me.as_ref().map(|m| m.unread).unwrap_or(0);
    let page = NotificationsPage {
        chrome,
        items,
        newest,
        unread,
        page,
        more,
    };
    Ok(html_response(StatusCode::OK, page.render()?))
}

/// The "Mark all read" form.
#[derive(Deserialize)]
pub struct MarkRead {
    /// The newest notification the page showed.
    #[serde(default)]
    up_to: i64,
}

/// `POST /notifications/read`: marks read every notification up to the newest one shown.
pub async fn http_post_read(
    State(state): State<AppState>,
    me: SignedIn,
    form: Form<MarkRead>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let up_to = Some(form.fields.up_to);
    store::mark_read(&data.db, me.person.id, up_to, data.clock.now()).await?;
    Ok(Redirect::to("/notifications").into_response())
}

#[derive(Template)]
#[template(path = "settings_notifications.html")]
struct SettingsPage {
    chrome: Chrome,
    email: String,
    choice: &'static str,
    mail_on: bool,
    saved: bool,
    errors: FieldErrors,
}

/// `?saved=1` after a change.
#[derive(Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<u8>,
}

/// `GET /settings/notifications`: the address and the choice of mail.
pub async fn http_get_settings(
    State(state): State<AppState>,
    Query(q): Query<SavedQuery>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let page = SettingsPage {
        chrome: Chrome::load(&data, Some(&me)).await?,
        email: me.user.email.clone().unwrap_or_default(),
        choice: choice_word(me.user.email_notifications),
        mail_on: state.settings.mail,
        saved: q.saved.is_some(),
        errors: FieldErrors::default(),
    };
    Ok(html_response(StatusCode::OK, page.render()?))
}

/// The settings form.
#[derive(Deserialize)]
pub struct MailChoice {
    #[serde(default)]
    email: String,
    #[serde(default)]
    choice: String,
}

/// `POST /settings/notifications`: saves the address and the choice.
pub async fn http_post_settings(
    State(state): State<AppState>,
    me: SignedIn,
    form: Form<MailChoice>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let f = form.fields;
    // A form with no choice made asks for no mail.
    let choice = if f.choice.is_empty() {
        "none"
    } else {
        &f.choice
    };
    match checked_mail_choice(&f.email, choice) {
        Ok((email, choice)) => {
            store::set_mail_choice(&data.db, me.user.id, email, choice).await?;
            Ok(Redirect::to("/settings/notifications?saved=1").into_response())
        }
        Err(e) => {
            let errors = FieldErrors::from_error(e)?;
            let choice = match f.choice.as_str() {
                "each" => "each",
                "digest" => "digest",
                _ => "none",
            };
            let page = SettingsPage {
                chrome: Chrome::load(&data, Some(&me)).await?,
                email: f.email,
                choice,
                mail_on: state.settings.mail,
                saved: false,
                errors,
            };
            Ok(html_response(page.errors.status(), page.render()?))
        }
    }
}
