//! Browser sessions and CSRF. A session is a random cookie (`copse_session`, HttpOnly,
//! SameSite=Lax, Secure over https) whose SHA-256 is kept in `web_session` with the CSRF token
//! its forms carry. Signed-out forms (sign-in, sign-up) carry the value of a `copse_csrf`
//! cookie instead (double submit). Signing in always makes a new session, so a cookie planted
//! before sign-in is worth nothing after it.

use super::error::PageError;
use crate::{accounts, error::ApiError, AppState};
use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
};
use chrono::{Duration, Utc};
use copse_entities::{
    local_user::{self, AccountStatus},
    person, web_session,
};
use sea_orm::{ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "copse_session";
/// The signed-out CSRF cookie's name.
pub const CSRF_COOKIE: &str = "copse_csrf";
/// How long a session lasts without use.
const SESSION_DAYS: i64 = 30;

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, Secure when served over https;
/// `None` for `max_age` removes the cookie.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<Duration>) -> HeaderValue {
    let mut c = cookie::Cookie::new(name.to_string(), value.to_string());
    c.set_http_only(true);
    c.set_same_site(cookie::SameSite::Lax);
    c.set_path("/");
    c.set_secure(secure);
    match max_age {
        Some(age) => c.set_max_age(cookie::time::Duration::seconds(age.num_seconds())),
        None => c.set_max_age(cookie::time::Duration::ZERO),
    }
    HeaderValue::from_str(&c.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// True when this instance is served over https, so cookies are marked Secure.
pub fn secure(state: &AppState) -> bool {
    state.urls.base().scheme() == "https"
}

/// Two secrets compared in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a.as_bytes(), b.as_bytes())
}

/// A person signed in from this browser.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// Their account.
    pub user: local_user::Model,
    /// Their person.
    pub person: person::Model,
    /// The session.
    pub session: web_session::Model,
}

impl SignedIn {
    /// Checks a submitted form's CSRF token against this session's.
    pub fn check_csrf(&self, given: &str) -> Result<(), PageError> {
        if same_secret(&self.session.csrf_token, given) {
            Ok(())
        } else {
            Err(csrf_refused())
        }
    }
}

/// The refusal of a form without its token.
pub fn csrf_refused() -> PageError {
    PageError::new(
        StatusCode::FORBIDDEN,
        "this form has expired or did not come from this site: go back, reload the page and send it again",
    )
}

/// The session a request's cookie names, if it is valid, unexpired and its account active.
pub async fn load(
    db: &impl ConnectionTrait,
    headers: &HeaderMap,
) -> Result<Option<SignedIn>, ApiError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = web_session::Entity::find()
        .filter(web_session::Column::TokenHash.eq(accounts::token_hash(&token)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if session.expires_at < Utc::now() {
        return Ok(None);
    }
    let Some(user) = local_user::Entity::find_by_id(session.local_user_id)
        .one(db)
        .await?
        .filter(|u| u.status == AccountStatus::Active)
    else {
        return Ok(None);
    };
    let Some(person) = person::Entity::find_by_id(user.person_id).one(db).await? else {
        return Ok(None);
    };
    Ok(Some(SignedIn {
        user,
        person,
        session,
    }))
}

/// Starts a new session for an account; returns the `Set-Cookie` value.
pub async fn start(state: &AppState, user: &local_user::Model) -> Result<HeaderValue, ApiError> {
    let token = accounts::new_token()?;
    let now = Utc::now();
    web_session::Entity::insert(web_session::ActiveModel {
        id: NotSet,
        token_hash: Set(accounts::token_hash(&token)),
        local_user_id: Set(user.id),
        csrf_token: Set(accounts::new_token()?),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(SESSION_DAYS)),
    })
    .exec(&state.db)
    .await?;
    // Expired sessions are swept as new ones start, so the table stays small.
    web_session::Entity::delete_many()
        .filter(web_session::Column::ExpiresAt.lt(now))
        .exec(&state.db)
        .await?;
    Ok(set_cookie(
        SESSION_COOKIE,
        &token,
        secure(state),
        Some(Duration::days(SESSION_DAYS)),
    ))
}

/// Ends a session; returns the `Set-Cookie` value that removes the cookie.
pub async fn end(state: &AppState, session: &web_session::Model) -> Result<HeaderValue, ApiError> {
    web_session::Entity::delete_by_id(session.id)
        .exec(&state.db)
        .await?;
    Ok(set_cookie(SESSION_COOKIE, "", secure(state), None))
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        match load(&state.db, &parts.headers).await? {
            Some(s) => Ok(s),
            // A form posted by someone signed out comes back to the home page: its address
            // takes no GET.
            None => Err(PageError::SignInFirst {
                next: parts
                    .uri
                    .path_and_query()
                    .filter(|_| parts.method == axum::http::Method::GET)
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into()),
            }),
        }
    }
}

impl OptionalFromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, PageError> {
        Ok(load(&state.db, &parts.headers).await?)
    }
}

/// The CSRF token for a signed-out form: the browser's `copse_csrf` cookie, or a new one with
/// the `Set-Cookie` that gives it.
pub fn signed_out_csrf(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(String, Option<HeaderValue>), ApiError> {
    if let Some(v) = cookie(headers, CSRF_COOKIE).filter(|v| v.len() == 64) {
        return Ok((v, None));
    }
    let token = accounts::new_token()?;
    let set = set_cookie(CSRF_COOKIE, &token, secure(state), Some(Duration::days(1)));
    Ok((token, Some(set)))
}

/// Checks a signed-out form's token against the browser's `copse_csrf` cookie.
pub fn check_signed_out_csrf(headers: &HeaderMap, given: &str) -> Result<(), PageError> {
    match cookie(headers, CSRF_COOKIE) {
        Some(expected) if same_secret(&expected, given) => Ok(()),
        _ => Err(csrf_refused()),
    }
}
