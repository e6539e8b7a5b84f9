//! API errors: a status, a safe message, optionally the field at fault. The cause is logged,
//! never sent.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

/// What an error response said, left on it for the error page layer
/// (`error_page.rs`), which shows it to browsers instead of the JSON.
#[derive(Clone, Debug)]
pub struct ErrorNotice {
    /// The safe message the JSON carries as `error`.
    pub message: String,
    /// The field at fault, if any.
    pub field: Option<String>,
}

/// The body of every error answer, as the OpenAPI document names it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A message safe to show.
    pub error: String,
    /// The request field or parameter at fault, if any.
    pub field: Option<String>,
}

/// An error answered as `{"error": "...", "field": ...}`.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Message safe to show.
    pub message: String,
    /// The request field at fault, if any.
    pub field: Option<String>,
    /// The internal cause, logged only.
    pub cause: Option<String>,
}

impl ApiError {
    /// An error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            field: None,
            cause: None,
        }
    }

    /// 400 for a malformed field.
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message).with_field(field)
    }

    /// 422 for a field whose value is not acceptable.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message).with_field(field)
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    /// 401.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "a valid bearer token is required")
    }

    /// Names the field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 500 with a logged cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "internal error".into(),
            field: None,
            cause: Some(cause.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "database unavailable, retry later".into(),
            field: None,
            cause: Some(e.to_string()),
        }
    }
}

impl From<copse_federation::Error> for ApiError {
    fn from(e: copse_federation::Error) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = match &e {
            copse_federation::Error::Db(_) => "database unavailable, retry later".to_string(),
            copse_federation::Error::Http(_) => "remote server could not be reached".to_string(),
            copse_federation::Error::Crypto(_) => "internal error".to_string(),
            other => other.to_string(),
        };
        Self {
            status,
            message,
            field: None,
            cause: Some(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            if self.status.is_server_error() {
                tracing::error!("{}: {cause}", self.message);
            } else {
                tracing::debug!("{}: {cause}", self.message);
            }
        }
        let notice = ErrorNotice {
            message: self.message.clone(),
            field: self.field.clone(),
        };
        let mut res = (
            self.status,
            Json(ErrorBody {
                error: self.message,
                field: self.field,
            }),
        )
            .into_response();
        res.extensions_mut().insert(notice);
        res
    }
}
