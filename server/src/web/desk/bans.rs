//! The desk's bans page: the ban form (handle, reason, when it ends, whether to remove their
//! posts), the bans in force, and lifting one.

use super::{on_form, Desk};
use crate::{
    api::commands::{self, BanForm},
    error::ApiError,
    web::{
        chrome::Chrome,
        error::PageError,
        form::{FieldErrors, Form},
        page::html_response,
        session::SignedIn,
        time::When,
    },
    AppState,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    response::Response,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use copse_entities::community;
use serde::Deserialize;

/// A ban in force.
pub struct BanRow {
    person_id: i64,
    name: String,
    handle: String,
    reason: String,
    until: String,
    when: When,
}

#[derive(Template)]
#[template(path = "desk_bans.html")]
struct BansPage {
    chrome: Chrome,
    c: community::Model,
    bans: Vec<BanRow>,
    form: BanFields,
    errors: FieldErrors,
}

/// The ban form as sent (and shown again with its errors).
#[derive(Deserialize, Default)]
pub struct BanFields {
    #[serde(default)]
    handle: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    expires_at: String,
    #[serde(default)]
    remove_content: Option<String>,
}

async fn render(
    desk: Desk<'_>,
    form: BanFields,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let now = desk.data.clock.now();
    let bans = commands::bans_of(&desk.data, &desk.auth(), &desk.c)
        .await?
        .into_iter()
        .map(|(b, p)| BanRow {
            person_id: p.id,
            name: p.display_name.clone().unwrap_or_else(|| p.name.clone()),
            handle: p.ap_id.to_string(),
            reason: b.reason.unwrap_or_default(),
            until: b
                .expires_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| "no end".into()),
            when: When::new(b.created_at, now),
        })
        .collect();
    let page = BansPage {
        chrome: desk.chrome().await?,
        c: desk.c,
        bans,
        form,
        errors,
    };
    let status = page.errors.status();
    Ok(html_response(status, page.render()?))
}

/// `GET /c/{name}/desk/bans`.
pub async fn http_get_bans(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let desk = Desk::open(&state, &name, &me).await?;
    render(desk, BanFields::default(), FieldErrors::default()).await
}

/// When a ban ends, as the form's `datetime-local` field gives it (read as UTC, which the form
/// says) or RFC 3339; `None` for never.
fn expiry_of(raw: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| {
            ApiError::invalid(
                "expires_at",
                "expires_at must be a date and time like 2027-06-15T18:00 (UTC)",
            )
        })
}

/// `POST /c/{name}/desk/bans`: bans someone.
pub async fn http_post_ban(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
    form: Form<BanFields>,
) -> Result<Response, PageError> {
    let desk = Desk::sent(&state, &name, &me, &form.csrf).await?;
    let f = form.fields;
    let banned = async {
        let reason = f.reason.trim();
        let ban = BanForm {
            handle: f.handle.trim().to_string(),
            reason: (!reason.is_empty()).then(|| reason.to_string()),
            expires_at: expiry_of(&f.expires_at)?,
            remove_content: f.remove_content.is_some(),
        };
        commands::ban(&desk.data, &desk.auth(), &desk.c, ban).await
    }
    .await;
    match banned {
        Ok(_) => Ok(desk.back_to("/bans")),
        Err(e) => {
            let errors = on_form(e)?;
            render(desk, f, errors).await
        }
    }
}

/// `POST /c/{name}/desk/bans/{person}/lift`.
pub async fn http_post_lift(
    State(state): State<AppState>,
    Path((name, person)): Path<(String, i64)>,
    me: SignedIn,
    form: Form<crate::web::account::Empty>,
) -> Result<Response, PageError> {
    let desk = Desk::sent(&state, &name, &me, &form.csrf).await?;
    commands::lift_ban(&desk.data, &desk.auth(), &desk.c, person).await?;
    Ok(desk.back_to("/bans"))
}
