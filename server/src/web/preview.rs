//! `POST /preview`: the HTML a Markdown text will show as, for the preview that
//! `static/copse.js` adds under the post and reply boxes. The forms work without it.

use super::{error::PageError, form::Form, session::SignedIn};
use crate::{api::fields::check_body, markdown::render_markdown};
use axum::{
    http::{header, HeaderValue},
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;

/// The text to preview.
#[derive(Deserialize)]
pub struct PreviewForm {
    #[serde(default)]
    content: String,
}

/// `POST /preview` (signed in, with the page's CSRF token): the rendered, sanitised HTML,
/// as a post shows it. Mentions and hashtags are linked when the post is published, where
/// the community they are written in is known.
pub async fn http_post_preview(
    me: SignedIn,
    form: Form<PreviewForm>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    check_body(&form.fields.content)?;
    let mut res = Html(render_markdown(&form.fields.content)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
