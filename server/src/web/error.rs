//! Errors on pages: an HTML page that says what happened and what to do, with the status the
//! API would give. The cause is logged, never shown.

use crate::error::{ApiError, ErrorNotice};
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
};
use copse_federation::html::escape_html;

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
    let notice = ErrorNotice {
        message: message.to_string(),
        field,
    };
    let body = render(status, &notice);
    let mut res = (status, Html(body)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The heading and the sentence that explain a status to a person.
fn explain(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 | 422 => (
            "That request could not be used",
            "Something in the address or the form needs changing:",
        ),
        401 => ("Sign-in needed", "This page needs you to be signed in."),
        403 => ("Not allowed", "You may not see or do this:"),
        404 => (
            "Page not found",
            "There is nothing at this address. It may have been moved or deleted:",
        ),
        405 => (
            "Not here",
            "This address does not take that kind of request:",
        ),
        410 => ("Gone", "This was here once, and has been deleted:"),
        413 => ("Too large", "What was sent is larger than allowed:"),
        429 => (
            "Slow down",
            "Too many requests came from you in a short time. Wait a little and try again:",
        ),
        503 => (
            "Try again shortly",
            "Copse cannot answer right now. Wait a moment and reload the page:",
        ),
        500..=599 => (
            "Something went wrong",
            "Copse could not show this page. The error has been logged:",
        ),
        _ => ("That did not work", "Copse could not show this page:"),
    }
}

/// The page for `status`, saying what happened and linking home.
pub fn render(status: StatusCode, notice: &ErrorNotice) -> String {
    let (title, sentence) = explain(status);
    let field = notice
        .field
        .as_deref()
        .map(|f| format!(" (<code>{}</code>)", escape_html(f)))
        .unwrap_or_default();
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Copse</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         .meta{{color:#555;font-size:.9rem}}</style></head>\
         <body><main><h1>{title}</h1><p>{sentence}</p><p><strong>{}</strong>{field}</p>\
         <p><a href=\"/\">Go to the home page</a></p><p class=\"meta\">Error {}</p></main></body></html>",
        escape_html(&notice.message),
        status.as_u16()
    )
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
