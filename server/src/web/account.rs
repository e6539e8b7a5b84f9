//! Signing up, in and out, and the one-time link that creates the first admin.

use super::{
    chrome::Chrome,
    error::PageError,
    form::{FieldErrors, Form},
    page::{html_response, notice, with_cookies},
    passwords,
    session::{self, SignedIn},
};
use crate::{
    accounts::{self, NewAccount},
    admin::invites::{self, Refusal},
    error::ApiError,
    limits::ClientAddress,
    AppState,
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Extension,
};
use copse_entities::{
    local_user::{self, AccountStatus},
    person, registration_invite,
    site::{self, Registration},
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde::Deserialize;
use url::Url;

/// Where to go after signing in: a path on this site, never another site.
pub fn safe_next(next: &str) -> String {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    if local {
        next.to_string()
    } else {
        "/".into()
    }
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage<'a> {
    chrome: Chrome,
    csrf: &'a str,
    next: &'a str,
    name: &'a str,
    message: Option<&'a str>,
    error: Option<String>,
}

/// `?next=` on the sign-in page.
#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// `GET /signin`.
pub async fn http_get_signin(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
    viewer: Option<SignedIn>,
) -> Result<Response, PageError> {
    if viewer.is_some() {
        return Ok(Redirect::to(&safe_next(&q.next)).into_response());
    }
    let (csrf, set) = session::signed_out_csrf(&state, &headers)?;
    let page = SignInPage {
        chrome: Chrome::load(&state.to_request_data(), None).await?,
        csrf: &csrf,
        next: &safe_next(&q.next),
        name: "",
        message: None,
        error: None,
    };
    Ok(with_cookies(
        html_response(StatusCode::OK, page.render()?),
        [set],
    ))
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /signin`: checks the limits, then the password; a new session on success.
pub async fn http_post_signin(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: Option<Extension<ClientAddress>>,
    form: Form<SignIn>,
) -> Result<Response, PageError> {
    session::check_signed_out_csrf(&headers, &form.csrf)?;
    let f = form.fields;
    let address = address.and_then(|a| a.0 .0);
    let name = f.name.trim().to_lowercase();
    if let Err(e) = passwords::check_allowed(&state.db, &name, address).await {
        return refuse(&state, &form.csrf, &f.next, &name, e.status, e.message).await;
    }
    let found = find_account(&state, &name).await?;
    let hash = found.as_ref().and_then(|(u, _)| u.password_hash.clone());
    let ok = passwords::verify(&f.password, hash.as_deref()).await?;
    let Some((user, _)) = found.filter(|_| ok) else {
        passwords::record_failure(&state.db, &name, address).await?;
        return refuse(
            &state,
            &form.csrf,
            &f.next,
            &name,
            StatusCode::UNAUTHORIZED,
            "that name and password do not match an account here".into(),
        )
        .await;
    };
    match user.status {
        AccountStatus::Active => {}
        AccountStatus::Pending => {
            return refuse(
                &state,
                &form.csrf,
                &f.next,
                &name,
                StatusCode::FORBIDDEN,
                "your account is waiting for an admin's approval".into(),
            )
            .await
        }
        AccountStatus::Suspended => {
            return refuse(
                &state,
                &form.csrf,
                &f.next,
                &name,
                StatusCode::FORBIDDEN,
                "this account is suspended; ask the instance's admins".into(),
            )
            .await
        }
    }
    let cookie = session::start(&state, &user).await?;
    let clear_csrf = session::set_cookie(session::CSRF_COOKIE, "", session::secure(&state), None);
    Ok(with_cookies(
        Redirect::to(&safe_next(&f.next)).into_response(),
        [Some(cookie), Some(clear_csrf)],
    ))
}

/// The sign-in form again, with what went wrong.
async fn refuse(
    state: &AppState,
    csrf: &str,
    next: &str,
    name: &str,
    status: StatusCode,
    error: String,
) -> Result<Response, PageError> {
    let page = SignInPage {
        chrome: Chrome::load(&state.to_request_data(), None).await?,
        csrf,
        next: &safe_next(next),
        name,
        message: None,
        error: Some(error),
    };
    Ok(html_response(status, page.render()?))
}

async fn find_account(
    state: &AppState,
    name: &str,
) -> Result<Option<(local_user::Model, person::Model)>, ApiError> {
    let Some(p) = accounts::local_person(&state.db, name).await? else {
        return Ok(None);
    };
    Ok(local_user::Entity::find()
        .filter(local_user::Column::PersonId.eq(p.id))
        .one(&state.db)
        .await?
        .map(|u| (u, p)))
}

/// A form with only its token.
#[derive(Deserialize)]
pub struct Empty {}

/// `POST /signout`.
pub async fn http_post_signout(
    State(state): State<AppState>,
    me: SignedIn,
    form: Form<Empty>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let cookie = session::end(&state, &me.session).await?;
    Ok(with_cookies(
        Redirect::to("/").into_response(),
        [Some(cookie)],
    ))
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUpPage<'a> {
    chrome: Chrome,
    heading: &'a str,
    button: &'a str,
    action: &'a str,
    csrf: &'a str,
    invite: &'a str,
    closed: Option<&'a str>,
    approval: bool,
    question: Option<&'a str>,
    name: &'a str,
    answer: &'a str,
    errors: FieldErrors,
}

/// `?invite=` on the sign-up page.
#[derive(Deserialize, Default)]
pub struct InviteQuery {
    #[serde(default)]
    invite: String,
}

/// An invitation code brought to sign-up: `None` when none was, else the invitation or why it
/// cannot be used.
type Brought = Option<Result<registration_invite::Model, Refusal>>;

/// What sign-up allows for this visitor: the site's policy, and an invitation if they bring one.
async fn policy(state: &AppState, invite: &str) -> Result<(site::Model, Brought), ApiError> {
    let site = crate::db::site(&state.db).await?;
    let invite = if invite.trim().is_empty() {
        None
    } else {
        Some(invites::check(&state.db, invite).await?)
    };
    Ok((site, invite))
}

/// Why sign-up is closed to this visitor, if it is. An invitation opens it under every policy
/// but `closed`.
fn closed_text(site: &site::Model, invite: &Brought) -> Option<&'static str> {
    match (site.registration, invite) {
        (Registration::Closed, _) => Some("This instance is not taking new accounts."),
        (_, Some(Ok(_))) => None,
        (_, Some(Err(refusal))) => Some(refusal.message()),
        (Registration::Open | Registration::Approval, None) => None,
        (Registration::Invite, None) => Some(
            "Accounts here are by invitation: ask an admin or a member for an invitation link.",
        ),
    }
}

/// `GET /signup`.
pub async fn http_get_signup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<InviteQuery>,
) -> Result<Response, PageError> {
    let (site, invite) = policy(&state, &q.invite).await?;
    let (csrf, set) = session::signed_out_csrf(&state, &headers)?;
    let closed = closed_text(&site, &invite);
    let approval = site.registration == Registration::Approval && invite.is_none();
    let page = SignUpPage {
        chrome: Chrome::load(&state.to_request_data(), None).await?,
        heading: if approval {
            "Ask for an account"
        } else {
            "Sign up"
        },
        button: if approval {
            "Send my request"
        } else {
            "Create my account"
        },
        action: "/signup",
        csrf: &csrf,
        invite: &q.invite,
        closed,
        approval,
        question: approval.then(|| question(&site)),
        name: "",
        answer: "",
        errors: FieldErrors::default(),
    };
    Ok(with_cookies(
        html_response(StatusCode::OK, page.render()?),
        [set],
    ))
}

fn question(site: &site::Model) -> &str {
    site.registration_question
        .as_deref()
        .filter(|q| !q.trim().is_empty())
        .unwrap_or("Why do you want to join?")
}

/// The sign-up form.
#[derive(Deserialize)]
pub struct SignUp {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    invite: String,
}

/// `POST /signup`: an account at once (open, or with an invitation), or a request an admin
/// decides (approval).
pub async fn http_post_signup(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Form<SignUp>,
) -> Result<Response, PageError> {
    session::check_signed_out_csrf(&headers, &form.csrf)?;
    let f = &form.fields;
    let (site, invite) = policy(&state, &f.invite).await?;
    if let Some(text) = closed_text(&site, &invite) {
        return Err(PageError::forbidden(text));
    }
    let invite = invite.and_then(Result::ok);
    let approval = site.registration == Registration::Approval && invite.is_none();
    let name = f.name.trim().to_lowercase();
    let answer = f.answer.trim();
    let checked = async {
        accounts::check_name("name", &name)?;
        passwords::check_new(&f.password)?;
        if approval && answer.is_empty() {
            return Err(ApiError::invalid("answer", "say why you want to join"));
        }
        if answer.chars().count() > 2000 {
            return Err(ApiError::invalid("answer", "at most 2000 characters"));
        }
        let hash = passwords::hash(&f.password).await?;
        // The use is taken before the account is made, so two sign-ups at once cannot share
        // an invitation's last use; it is given back if the account cannot be made.
        if let Some(i) = &invite {
            if !invites::claim(&state.db, i.id).await? {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    Refusal::UsedUp.message(),
                ));
            }
        }
        let made = accounts::create_account(
            &state.to_request_data(),
            NewAccount {
                name: &name,
                admin: false,
                password_hash: Some(hash),
                pending: approval,
                answer: approval.then(|| answer.to_string()),
            },
        )
        .await;
        if let (Err(_), Some(i)) = (&made, &invite) {
            invites::give_back(&state.db, i.id).await?;
        }
        made
    }
    .await;
    let person = match checked {
        Ok((person, _)) => person,
        Err(e) => {
            let errors = FieldErrors::from_error(e)?;
            let page = SignUpPage {
                chrome: Chrome::load(&state.to_request_data(), None).await?,
                heading: if approval {
                    "Ask for an account"
                } else {
                    "Sign up"
                },
                button: if approval {
                    "Send my request"
                } else {
                    "Create my account"
                },
                action: "/signup",
                csrf: &form.csrf,
                invite: &f.invite,
                closed: None,
                approval,
                question: approval.then(|| question(&site)),
                name: &name,
                answer,
                errors,
            };
            return Ok(html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                page.render()?,
            ));
        }
    };
    if approval {
        return notice(
            &state,
            None,
            "Request sent",
            "Thank you. An admin will read your request; once it is approved you can sign in.",
            ("/", "Back to the home page"),
        )
        .await;
    }
    signed_in_response(&state, person.id, "/").await
}

async fn signed_in_response(
    state: &AppState,
    person_id: i64,
    to: &str,
) -> Result<Response, PageError> {
    let user = local_user::Entity::find()
        .filter(local_user::Column::PersonId.eq(person_id))
        .one(&state.db)
        .await?
        .ok_or_else(|| PageError::not_found("account"))?;
    let cookie = session::start(state, &user).await?;
    let clear_csrf = session::set_cookie(session::CSRF_COOKIE, "", session::secure(state), None);
    Ok(with_cookies(
        Redirect::to(to).into_response(),
        [Some(cookie), Some(clear_csrf)],
    ))
}

async fn any_admin(state: &AppState) -> Result<bool, ApiError> {
    Ok(local_user::Entity::find()
        .filter(local_user::Column::Admin.eq(true))
        .count(&state.db)
        .await?
        > 0)
}

/// On an instance with no admin yet, a new one-time link that creates the first admin
/// account in the browser (any earlier link stops working); `None` once there is an admin.
pub async fn issue_setup_link(state: &AppState) -> Result<Option<Url>, ApiError> {
    let site = crate::db::site(&state.db).await?;
    if any_admin(state).await? {
        if site.setup_token_hash.is_some() {
            let mut row: site::ActiveModel = site.into();
            row.setup_token_hash = Set(None);
            site::Entity::update(row).exec(&state.db).await?;
        }
        return Ok(None);
    }
    let token = accounts::new_token()?;
    let mut row: site::ActiveModel = site.into();
    row.setup_token_hash = Set(Some(accounts::token_hash(&token)));
    site::Entity::update(row).exec(&state.db).await?;
    Ok(Some(
        state
            .urls
            .base()
            .join(&format!("setup/{token}"))
            .map_err(ApiError::internal)?,
    ))
}

async fn check_setup(state: &AppState, token: &str) -> Result<site::Model, PageError> {
    let site = crate::db::site(&state.db).await?;
    let valid = site
        .setup_token_hash
        .as_deref()
        .is_some_and(|h| session::same_secret(h, &accounts::token_hash(token)));
    if !valid || any_admin(state).await? {
        return Err(PageError::not_found("setup link"));
    }
    Ok(site)
}

/// `GET /setup/{token}`: the form that creates the first admin.
pub async fn http_get_setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    check_setup(&state, &token).await?;
    let (csrf, set) = session::signed_out_csrf(&state, &headers)?;
    let action = format!("/setup/{token}");
    let page = SignUpPage {
        chrome: Chrome::load(&state.to_request_data(), None).await?,
        heading: "Create the first admin account",
        button: "Create the admin account",
        action: &action,
        csrf: &csrf,
        invite: "",
        closed: None,
        approval: false,
        question: None,
        name: "",
        answer: "",
        errors: FieldErrors::default(),
    };
    Ok(with_cookies(
        html_response(StatusCode::OK, page.render()?),
        [set],
    ))
}

/// `POST /setup/{token}`: creates the first admin, signs them in, and spends the link.
pub async fn http_post_setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    form: Form<SignUp>,
) -> Result<Response, PageError> {
    session::check_signed_out_csrf(&headers, &form.csrf)?;
    check_setup(&state, &token).await?;
    let f = &form.fields;
    let name = f.name.trim().to_lowercase();
    let created = async {
        accounts::check_name("name", &name)?;
        passwords::check_new(&f.password)?;
        let hash = passwords::hash(&f.password).await?;
        // The link is spent before the account is made, so two forms sent at once cannot
        // both make an admin; it is given back if the account cannot be made.
        claim_setup(&state, Some(&token), None).await?;
        let made = accounts::create_account(
            &state.to_request_data(),
            NewAccount {
                name: &name,
                admin: true,
                password_hash: Some(hash),
                ..NewAccount::default()
            },
        )
        .await;
        if made.is_err() {
            claim_setup(&state, None, Some(&token)).await?;
        }
        made
    }
    .await;
    let person = match created {
        Ok((p, _)) => p,
        Err(e) => {
            let action = format!("/setup/{token}");
            let page = SignUpPage {
                chrome: Chrome::load(&state.to_request_data(), None).await?,
                heading: "Create the first admin account",
                button: "Create the admin account",
                action: &action,
                csrf: &form.csrf,
                invite: "",
                closed: None,
                approval: false,
                question: None,
                name: &name,
                answer: "",
                errors: FieldErrors::from_error(e)?,
            };
            return Ok(html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                page.render()?,
            ));
        }
    };
    signed_in_response(&state, person.id, "/").await
}

/// Swaps the setup link's hash from `from` to `to` if it is still `from`; `Err` (404) when
/// another request got there first.
async fn claim_setup(
    state: &AppState,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(), ApiError> {
    use sea_orm::sea_query::Expr;
    let hash = |t: Option<&str>| t.map(accounts::token_hash);
    let mut update = site::Entity::update_many()
        .col_expr(site::Column::SetupTokenHash, Expr::value(hash(to)))
        .filter(site::Column::Id.eq(1));
    update = match hash(from) {
        Some(h) => update.filter(site::Column::SetupTokenHash.eq(h)),
        None => update.filter(site::Column::SetupTokenHash.is_null()),
    };
    if update.exec(&state.db).await?.rows_affected == 1 {
        Ok(())
    } else {
        Err(ApiError::not_found("setup link"))
    }
}
