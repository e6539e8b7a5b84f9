//! The one error type of the federation crate.

use crate::signatures::SignatureError;

/// What went wrong while federating.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object or actor does not exist (here or at its origin).
    #[error("not found")]
    NotFound,
    /// Authenticated, but not allowed (blocked domain, not a member, not the owner).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The HTTP signature is missing or wrong.
    #[error("signature: {0}")]
    Signature(#[from] SignatureError),
    /// The activity is malformed or inconsistent (origins, types, fields).
    #[error("invalid activity: {0}")]
    InvalidActivity(String),
    /// The change conflicts with the current state (the last coordinator leaving, say).
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than the inbox accepts.
    #[error("body too large")]
    TooLarge,
    /// A database error.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// A remote server could not be reached or answered badly.
    #[error("http: {0}")]
    Http(String),
    /// JSON could not be read.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A URL could not be parsed or is not allowed.
    #[error("url: {0}")]
    Url(String),
    /// Key generation or other crypto failed.
    #[error("crypto: {0}")]
    Crypto(String),
}

impl Error {
    /// The HTTP status an inbox answers with for this error. Permanent refusals are 4xx so that
    /// senders do not retry them; transient faults are 503 so that they do.
    pub fn status(&self) -> u16 {
        match self {
            Error::NotFound => 404,
            Error::Forbidden(_) => 403,
            Error::Signature(_) => 401,
            Error::InvalidActivity(_) | Error::Json(_) | Error::Url(_) => 400,
            Error::TooLarge => 413,
            Error::Conflict(_) => 409,
            Error::Db(_) | Error::Http(_) | Error::Crypto(_) => 503,
        }
    }
}

impl From<url::ParseError> for Error {
    fn from(e: url::ParseError) -> Self {
        Error::Url(e.to_string())
    }
}

impl From<openssl::error::ErrorStack> for Error {
    fn from(e: openssl::error::ErrorStack) -> Self {
        Error::Crypto(e.to_string())
    }
}
