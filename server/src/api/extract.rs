//! Extractors whose rejections are API errors: JSON bodies, path parameters and query strings
//! that cannot be read answer `{"error": ..., "field": ...}` naming the parameter at fault, never
//! axum's plain-text rejections. Also the bounds of numeric query parameters (paging), and the
//! signed-in account (`AuthUser`, from `Authorization: Bearer TOKEN`).

use crate::{accounts, error::ApiError, AppState};
use axum::{
    extract::{
        path::ErrorKind, rejection::PathRejection, FromRequest, FromRequestParts, Path,
        RawPathParams, Request,
    },
    http::{header, request::Parts, StatusCode},
};
use copse_entities::{local_user, person};
use serde::{de::DeserializeOwned, Deserialize, Deserializer};

/// Pages a list goes to at most. Deep offsets cost the database a scan of every row before
/// them, and `(page - 1) * limit` must stay far from overflowing.
pub const MAX_PAGE: i64 = 10_000;

/// Most items a list page holds.
pub const MAX_LIMIT: i64 = 100;

/// A JSON body whose errors name the field at fault. Bodies over `federation.max_body_bytes`
/// get 413: at once when their `Content-Length` says so, else once that much has arrived.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send Content-Type: application/json",
            ));
        }
        let limit = state.settings.max_body_bytes;
        let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|e| {
                let over = std::error::Error::source(&e)
                    .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
                if over {
                    too_large()
                } else {
                    ApiError::new(StatusCode::BAD_REQUEST, "the body could not be read")
                }
            })?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(de).map_err(serde_error)?;
        if has_nul_escape(&bytes) {
            return Err(nul_in_body(&bytes));
        }
        Ok(ApiJson(value))
    }
}

/// Why text may not hold NUL: PostgreSQL cannot store it, and no name or post needs it.
const NUL_MESSAGE: &str = "must not contain NUL characters";

/// True when a JSON text has a `\u0000` escape inside a string (JSON has no other way to
/// write NUL): one preceded by an even number of backslashes.
fn has_nul_escape(json: &[u8]) -> bool {
    json.windows(6).enumerate().any(|(i, w)| {
        w == b"\\u0000" && json[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    })
}

/// A 400 naming the first field whose text holds NUL.
fn nul_in_body(json: &[u8]) -> ApiError {
    fn find(v: &serde_json::Value, path: &str) -> Option<String> {
        match v {
            serde_json::Value::String(s) if s.contains('\0') => Some(path.to_string()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, x)| find(x, &format!("{path}[{i}]"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
                if k.contains('\0') {
                    return Some(path.to_string());
                }
                let inner = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                find(x, &inner)
            }),
            _ => None,
        }
    }
    let field = serde_json::from_slice(json)
        .ok()
        .and_then(|v| find(&v, ""))
        .filter(|f| !f.is_empty());
    let mut err = ApiError::new(
        StatusCode::BAD_REQUEST,
        format!("{} {NUL_MESSAGE}", field.as_deref().unwrap_or("text")),
    );
    err.field = field;
    err
}

/// A query string whose errors name the parameter at fault. Parameters a handler does not
/// read are ignored unless its type denies unknown fields.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let nul = form_urlencoded::parse(query.as_bytes())
            .find(|(k, v)| k.contains('\0') || v.contains('\0'));
        if let Some((key, _)) = nul {
            return Err(ApiError::bad_field(
                key.to_string(),
                format!("{key} {NUL_MESSAGE}"),
            ));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(serde_error)
    }
}

/// A 400 from a serde error, naming the field: from the path where there is one, else from the
/// message (serde names missing, unknown and duplicate fields only there).
fn serde_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> ApiError {
    let path = e.path().to_string();
    let message = e.into_inner().to_string();
    let named = ["missing field", "unknown field", "duplicate field"]
        .iter()
        .any(|p| message.starts_with(p));
    let field = match message.split('`').nth(1) {
        Some(f) if named => Some(f.to_string()),
        // `?` marks a syntax error and `[0]` an item of a body that is not an object: neither
        // names a field.
        _ if !path.is_empty() && path != "." && !path.contains('?') && !path.starts_with('[') => {
            Some(path)
        }
        _ => None,
    };
    let mut err = ApiError::new(StatusCode::BAD_REQUEST, message);
    err.field = field;
    err
}

/// Path parameters whose errors name the parameter, e.g. `id` for `/api/v1/posts/abc`.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await {
            if let Some((key, _)) = raw.iter().find(|(_, v)| v.contains('\0')) {
                return Err(ApiError::bad_field(key, format!("{key} {NUL_MESSAGE}")));
            }
        }
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(rejection) => Err(path_error(parts, state, rejection).await),
        }
    }
}

async fn path_error<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    rejection: PathRejection,
) -> ApiError {
    let PathRejection::FailedToDeserializePathParams(e) = rejection else {
        return ApiError::internal(rejection.body_text());
    };
    // Only the key's name is needed; the raw parameters give it where axum names an index.
    let raw = RawPathParams::from_request_parts(parts, state).await.ok();
    let key_at = |i: usize| {
        raw.as_ref()
            .and_then(|r| r.iter().nth(i).map(|(k, _)| k.to_string()))
    };
    let (key, expected) = match e.kind() {
        ErrorKind::ParseErrorAtKey {
            key, expected_type, ..
        } => (Some(key.clone()), *expected_type),
        ErrorKind::ParseErrorAtIndex {
            index,
            expected_type,
            ..
        } => (key_at(*index), *expected_type),
        ErrorKind::ParseError { expected_type, .. } => (key_at(0), *expected_type),
        ErrorKind::InvalidUtf8InPathParam { key } => (Some(key.clone()), "text"),
        ErrorKind::DeserializeError { key, .. } => (Some(key.clone()), "other"),
        _ => (None, "other"),
    };
    let what = if expected.starts_with('i') || expected.starts_with('u') {
        "a whole number"
    } else if expected == "text" {
        "valid UTF-8"
    } else {
        "well formed"
    };
    match key {
        Some(key) => ApiError::bad_field(&key, format!("{key} must be {what}")),
        None => ApiError::new(StatusCode::BAD_REQUEST, "malformed path"),
    }
}

/// A whole-number query parameter as written. `within` checks it, so that a number out of
/// range answers 422 and anything that is not a number 400, both naming the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number(String);

impl Number {
    /// The value, when it is a whole number from `min` to `max`.
    pub fn within(&self, field: &str, min: i64, max: i64) -> Result<i64, ApiError> {
        let text = self.0.trim();
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::bad_field(
                field,
                format!("{field} must be a whole number"),
            ));
        }
        match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(
                field,
                format!("{field} must be {min} to {max}"),
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Number;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Number, E> {
                Ok(Number(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v.to_string()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Paging of list endpoints: `page` (1 to `MAX_PAGE`) and `limit` (1 to `MAX_LIMIT`).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page, 1 when absent.
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 10_000)]
    pub page: Option<Number>,
    /// Items per page, 20 when absent.
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<Number>,
}

impl PageQuery {
    /// `(page, limit)`, defaults applied (1 and 20), or a 400/422 naming the parameter.
    pub fn checked(&self) -> Result<(u64, u64), ApiError> {
        let limit = match &self.limit {
            Some(n) => n.within("limit", 1, MAX_LIMIT)?,
            None => 20,
        };
        let page = match &self.page {
            Some(n) => n.within("page", 1, MAX_PAGE)?,
            None => 1,
        };
        // Both are positive after the checks above.
        Ok((page.unsigned_abs(), limit.unsigned_abs()))
    }

    /// Rows to skip before the page.
    pub fn offset(page: u64, limit: u64) -> u64 {
        page.saturating_sub(1).saturating_mul(limit)
    }
}

/// The signed-in local account.
pub struct AuthUser {
    /// The account.
    pub user: local_user::Model,
    /// Its person.
    pub person: person::Model,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::unauthorized)?;
        let (user, person) = accounts::user_by_token(&state.db, token)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Self { user, person })
    }
}

/// Signed in or not: no `Authorization` header is anonymous, a bad token is still a 401.
impl axum::extract::OptionalFromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(None);
        }
        <Self as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number(s.into())
    }

    #[test]
    fn numbers_out_of_range_are_422_and_non_numbers_400() {
        assert_eq!(n("5").within("page", 1, 10).unwrap(), 5);
        assert_eq!(n(" +7 ").within("page", 1, 10).unwrap(), 7);
        for bad in [
            "0",
            "-1",
            "11",
            "9223372036854775807",
            "99999999999999999999999",
        ] {
            let e = n(bad).within("page", 1, 10).unwrap_err();
            assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert_eq!(e.field.as_deref(), Some("page"));
        }
        for bad in ["", "abc", "1.5", "1e3", "--1", "0x10", "٣"] {
            let e = n(bad).within("limit", 1, 10).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(e.field.as_deref(), Some("limit"));
        }
    }

    #[test]
    fn nul_escapes_are_found_only_inside_strings() {
        assert!(has_nul_escape(br#"{"a": "x\u0000"}"#));
        assert!(has_nul_escape(br#"{"a": "\\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"a": "\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"a": "u0000"}"#));
        let e = nul_in_body(br#"{"place": {"name": "x\u0000"}}"#);
        assert_eq!(e.field.as_deref(), Some("place.name"));
    }

    #[test]
    fn the_last_page_has_an_offset_that_fits() {
        let q = PageQuery {
            page: Some(n(&MAX_PAGE.to_string())),
            limit: Some(n(&MAX_LIMIT.to_string())),
        };
        let (page, limit) = q.checked().unwrap();
        assert!(PageQuery::offset(page, limit) < i64::MAX as u64);
    }
}
