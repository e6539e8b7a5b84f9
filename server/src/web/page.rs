//! Answers for pages: rendered HTML that shared caches never keep, cookies, and the short
//! notice page.

use super::{chrome, error::PageError};
use crate::AppState;
use askama::Template;
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
};

/// A rendered page, never cached by shared caches (it may be for one person).
pub fn html_response(status: StatusCode, body: String) -> Response {
    let mut res = (status, Html(body)).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// Adds `Set-Cookie` headers to a response.
pub fn with_cookies(
    mut res: Response,
    cookies: impl IntoIterator<Item = Option<HeaderValue>>,
) -> Response {
    for c in cookies.into_iter().flatten() {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage<'a> {
    chrome: chrome::Chrome,
    heading: &'a str,
    text: &'a str,
    link: &'a str,
    link_text: &'a str,
}

/// A short page saying what happened, with one link onward.
pub async fn notice(
    state: &AppState,
    viewer: Option<&super::session::SignedIn>,
    heading: &str,
    text: &str,
    (link, link_text): (&str, &str),
) -> Result<Response, PageError> {
    let page = NoticePage {
        chrome: chrome::Chrome::load(&state.to_request_data(), viewer).await?,
        heading,
        text,
        link,
        link_text,
    };
    Ok(html_response(StatusCode::OK, page.render()?))
}
