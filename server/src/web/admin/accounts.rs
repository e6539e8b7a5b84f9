//! The admin's pages about people: the accounts (approve a sign-up, suspend, lift a
//! suspension), the registration policy with its question, and invitation links.

use super::AdminUser;
use crate::{
    admin::{
        self,
        invites::{self, NewInvite},
        people::{set_registration, QUESTION_MAX_CHARS},
        UserRow,
    },
    error::ApiError,
    web::{
        chrome::Chrome,
        error::PageError,
        form::{FieldErrors, Form},
        page::html_response,
        time::When,
    },
    AppState,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use chrono::Utc;
use copse_entities::site::Registration;
use serde::Deserialize;

/// An account as the accounts page lists it.
struct AccountLine {
    row: UserRow,
    status: &'static str,
    when: When,
    me: bool,
}

#[derive(Template)]
#[template(path = "admin_accounts.html")]
struct AccountsPage {
    chrome: Chrome,
    section: &'static str,
    accounts: Vec<AccountLine>,
    /// The account whose decision was refused ("" for none), and why.
    error_for: String,
    error: String,
}

async fn accounts_page(
    state: &AppState,
    me: &AdminUser,
    error: Option<(String, String)>,
) -> Result<Response, PageError> {
    let now = Utc::now();
    let mut rows = admin::users(&state.db).await?;
    // Those waiting for a decision come first.
    rows.sort_by_key(|r| r.status != copse_entities::local_user::AccountStatus::Pending);
    let accounts = rows
        .into_iter()
        .map(|row| AccountLine {
            status: match row.status {
                copse_entities::local_user::AccountStatus::Active => "active",
                copse_entities::local_user::AccountStatus::Pending => "pending",
                copse_entities::local_user::AccountStatus::Suspended => "suspended",
            },
            when: When::new(row.created_at, now),
            me: row.name == me.0.person.name,
            row,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let (error_for, error) = error.unwrap_or_default();
    let page = AccountsPage {
        chrome: Chrome::load(&state.to_request_data(), Some(&me.0)).await?,
        section: "accounts",
        accounts,
        error_for,
        error,
    };
    Ok(html_response(status, page.render()?))
}

/// `GET /admin/accounts`.
pub async fn http_get_accounts(
    State(state): State<AppState>,
    me: AdminUser,
) -> Result<Response, PageError> {
    accounts_page(&state, &me, None).await
}

/// A decision about an account.
#[derive(Deserialize)]
pub struct AccountDecision {
    #[serde(default)]
    decision: String,
}

/// `POST /admin/accounts/{name}`: approve, suspend or unsuspend.
pub async fn http_post_account(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: AdminUser,
    form: Form<AccountDecision>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let done = match form.fields.decision.as_str() {
        "approve" => admin::people::approve(&state.db, &name).await,
        "suspend" => admin::people::suspend(&state.db, &me.0.user, &name).await,
        "unsuspend" => admin::people::unsuspend(&state.db, &name).await,
        _ => {
            return Err(PageError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "choose approve, suspend or unsuspend",
            ))
        }
    };
    match done {
        Ok(()) => Ok(Redirect::to("/admin/accounts").into_response()),
        Err(admin::AdminError::Invalid(why)) => accounts_page(&state, &me, Some((name, why))).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin_registration.html")]
struct RegistrationPage<'a> {
    chrome: Chrome,
    section: &'static str,
    policy: &'a str,
    question: &'a str,
    max: usize,
    errors: FieldErrors,
}

fn policy_name(r: Registration) -> &'static str {
    match r {
        Registration::Open => "open",
        Registration::Approval => "approval",
        Registration::Invite => "invite",
        Registration::Closed => "closed",
    }
}

/// `GET /admin/registration`.
pub async fn http_get_registration(
    State(state): State<AppState>,
    me: AdminUser,
) -> Result<Response, PageError> {
    let site = crate::db::site(&state.db).await?;
    let page = RegistrationPage {
        chrome: Chrome::load(&state.to_request_data(), Some(&me.0)).await?,
        section: "registration",
        policy: policy_name(site.registration),
        question: site.registration_question.as_deref().unwrap_or(""),
        max: QUESTION_MAX_CHARS,
        errors: FieldErrors::default(),
    };
    Ok(html_response(StatusCode::OK, page.render()?))
}

/// The registration form.
#[derive(Deserialize)]
pub struct RegistrationForm {
    #[serde(default)]
    policy: String,
    #[serde(default)]
    question: String,
}

/// `POST /admin/registration`: the policy and the question.
pub async fn http_post_registration(
    State(state): State<AppState>,
    me: AdminUser,
    form: Form<RegistrationForm>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let f = &form.fields;
    let saved = async {
        let policy = match f.policy.as_str() {
            "open" => Registration::Open,
            "approval" => Registration::Approval,
            "invite" => Registration::Invite,
            "closed" => Registration::Closed,
            _ => {
                return Err(ApiError::invalid(
                    "policy",
                    "choose open, approval, invite or closed",
                ))
            }
        };
        set_registration(&state.db, policy, &f.question).await
    }
    .await;
    match saved {
        Ok(()) => Ok(Redirect::to("/admin/registration").into_response()),
        Err(e) => {
            let errors = FieldErrors::from_error(e)?;
            let page = RegistrationPage {
                chrome: Chrome::load(&state.to_request_data(), Some(&me.0)).await?,
                section: "registration",
                policy: &f.policy,
                question: &f.question,
                max: QUESTION_MAX_CHARS,
                errors,
            };
            Ok(html_response(page.errors.status(), page.render()?))
        }
    }
}

/// An invitation as the invitations page lists it.
struct InviteLine {
    id: i64,
    note: String,
    state: &'static str,
    uses: String,
    made: When,
    expires: Option<When>,
}

#[derive(Template)]
#[template(path = "admin_invites.html")]
struct InvitesPage<'a> {
    chrome: Chrome,
    section: &'static str,
    invites: Vec<InviteLine>,
    policy: &'static str,
    created: Option<String>,
    note: &'a str,
    days: &'a str,
    max_uses: &'a str,
    errors: FieldErrors,
}

/// The invitation form's fields as sent, the link just made, and what was wrong.
#[derive(Default)]
struct InviteForm<'a> {
    note: &'a str,
    days: &'a str,
    max_uses: &'a str,
    created: Option<String>,
    errors: FieldErrors,
}

async fn invites_page(
    state: &AppState,
    me: &AdminUser,
    form: InviteForm<'_>,
) -> Result<Response, PageError> {
    let now = Utc::now();
    let invites = invites::list(&state.db)
        .await?
        .into_iter()
        .map(|i| InviteLine {
            id: i.id,
            note: i.note.clone().unwrap_or_default(),
            state: match invites::state(&i, now) {
                Ok(()) => "usable",
                Err(invites::Refusal::Revoked) => "revoked",
                Err(invites::Refusal::Expired) => "expired",
                Err(invites::Refusal::UsedUp) => "used up",
                Err(invites::Refusal::Unknown) => "unknown",
            },
            uses: match i.max_uses {
                Some(m) => format!("{} of {m}", i.uses),
                None => format!("{} (no limit)", i.uses),
            },
            made: When::new(i.created_at, now),
            expires: i.expires_at.map(|t| When::new(t, now)),
        })
        .collect();
    let site = crate::db::site(&state.db).await?;
    let status = form.errors.status();
    let page = InvitesPage {
        chrome: Chrome::load(&state.to_request_data(), Some(&me.0)).await?,
        section: "invites",
        invites,
        policy: policy_name(site.registration),
        created: form.created,
        note: form.note,
        days: form.days,
        max_uses: form.max_uses,
        errors: form.errors,
    };
    Ok(html_response(status, page.render()?))
}

/// `GET /admin/invites`.
pub async fn http_get_invites(
    State(state): State<AppState>,
    me: AdminUser,
) -> Result<Response, PageError> {
    invites_page(&state, &me, InviteForm::default()).await
}

/// The new invitation form.
#[derive(Deserialize)]
pub struct NewInviteForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    max_uses: String,
}

/// A number field that may be left empty.
fn optional_number(field: &str, value: &str, words: &str) -> Result<Option<u32>, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| ApiError::invalid(field, words))
}

/// `POST /admin/invites`: makes an invitation and shows its link, once.
pub async fn http_post_invite(
    State(state): State<AppState>,
    me: AdminUser,
    form: Form<NewInviteForm>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let f = &form.fields;
    let made = async {
        let new = NewInvite {
            note: Some(f.note.clone()),
            days: optional_number(
                "days",
                &f.days,
                &format!(
                    "from 1 to {} days, or empty for no expiry",
                    invites::MAX_DAYS
                ),
            )?,
            max_uses: optional_number(
                "max_uses",
                &f.max_uses,
                &format!(
                    "from 1 to {} uses, or empty for any number",
                    invites::MAX_USES
                ),
            )?,
        };
        invites::create(&state.db, &me.0.user, new).await
    }
    .await;
    match made {
        Ok((_, token)) => {
            let mut link = state
                .urls
                .base()
                .join("signup")
                .map_err(ApiError::internal)?;
            link.query_pairs_mut().append_pair("invite", &token);
            let form = InviteForm {
                created: Some(link.to_string()),
                ..InviteForm::default()
            };
            invites_page(&state, &me, form).await
        }
        Err(e) => {
            let form = InviteForm {
                note: &f.note,
                days: &f.days,
                max_uses: &f.max_uses,
                created: None,
                errors: FieldErrors::from_error(e)?,
            };
            invites_page(&state, &me, form).await
        }
    }
}

/// `POST /admin/invites/{id}/revoke`.
pub async fn http_post_revoke_invite(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: AdminUser,
    form: Form<super::super::account::Empty>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    if !invites::revoke(&state.db, id).await? {
        return Err(PageError::not_found("usable invitation"));
    }
    Ok(Redirect::to("/admin/invites").into_response())
}
