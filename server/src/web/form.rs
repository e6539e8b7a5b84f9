//! Form bodies from browsers (`application/x-www-form-urlencoded`), read within the body limit;
//! a body that cannot be read is an error page, never axum's plain-text rejection.

use super::error::PageError;
use crate::AppState;
use axum::{
    extract::{FromRequest, Request},
    http::{header, StatusCode},
};
use serde::de::DeserializeOwned;

/// A submitted form and its CSRF token (the `csrf` field, checked by the handler against the
/// session or the signed-out cookie).
pub struct Form<T> {
    /// The fields.
    pub fields: T,
    /// The `csrf` field as sent, empty when missing.
    pub csrf: String,
}

#[derive(serde::Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Form<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(PageError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "this address takes a form sent from its page",
            ));
        }
        let bytes = axum::body::to_bytes(req.into_body(), state.settings.max_body_bytes)
            .await
            .map_err(|_| {
                PageError::new(StatusCode::PAYLOAD_TOO_LARGE, "what you sent is too long")
            })?;
        let csrf = serde_urlencoded::from_bytes::<Token>(&bytes)
            .map(|t| t.csrf)
            .unwrap_or_default();
        let fields = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            PageError::new(
                StatusCode::BAD_REQUEST,
                format!("the form could not be read ({e}): reload the page and try again"),
            )
        })?;
        Ok(Self { fields, csrf })
    }
}

/// Errors shown next to the fields they name, in the words the API uses.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    /// The error for a field, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The status of a form page: 422 when it shows errors, else 200.
    pub fn status(&self) -> axum::http::StatusCode {
        if self.is_empty() {
            axum::http::StatusCode::OK
        } else {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        }
    }

    /// Adds one.
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_string(), message.into()));
    }

    /// A refusal that names a field (or any other 4xx, shown above the button as `form`) to
    /// show on the form again; server errors stay errors.
    pub fn from_error(e: crate::error::ApiError) -> Result<Self, PageError> {
        if e.status.is_server_error() {
            return Err(PageError::Shown(e));
        }
        let mut errors = Self::default();
        errors.push(e.field.as_deref().unwrap_or("form"), e.message);
        Ok(errors)
    }
}
