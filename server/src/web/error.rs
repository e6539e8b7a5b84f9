//! Errors on pages: an HTML page that says what happened and what to do, with the status the
//! API would give. The cause is logged, never shown.

use crate::error::ApiError;
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
};

/// A page-level refusal or failure.
#[derive(Debug)]
pub enum PageError {
    /// Shown as an error page.
    Shown(ApiError),
    /// Signing in is needed first: sent to the sign-in page, coming back to `next`.
    SignInFirst {
        /// Where to return once signed in.
        next: String,
    },
}

impl PageError {
    /// An error page with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Shown(ApiError::new(status, message))
    }

    /// 403 with what the person may not do.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::Shown(ApiError::not_found(what))
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self::Shown(e)
    }
}

impl From<sea_orm::DbErr> for PageError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Shown(e.into())
    }
}

impl From<copse_federation::Error> for PageError {
    fn from(e: copse_federation::Error) -> Self {
        Self::Shown(e.into())
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        Self::Shown(ApiError::internal(e))
    }
}

/// A standalone HTML error page, the same one the router's error layer shows browsers.
pub fn error_page(status: StatusCode, message: &str, field: Option<String>) -> Response {
    let notice = crate::error::ErrorNotice {
        message: message.to_string(),
        field,
    };
    let body = crate::error_page::render(status, &notice);
    let mut res = (status, Html(body)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            Self::SignInFirst { next } => {
                let q: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", &next)
                    .finish();
                Redirect::to(&format!("/signin?{q}")).into_response()
            }
            Self::Shown(e) => {
                if let Some(cause) = &e.cause {
                    if e.status.is_server_error() {
                        tracing::error!("{}: {cause}", e.message);
                    } else {
                        tracing::debug!("{}: {cause}", e.message);
                    }
                }
                error_page(e.status, &e.message, e.field)
            }
        }
    }
}
