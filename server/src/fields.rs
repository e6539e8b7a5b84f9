//! Checks of form fields shared by the API's resources, each error naming the field at fault.

use crate::error::ApiError;
use chrono::{DateTime, Utc};
use copse_federation::objects::event::from_local;

/// A topic's or an event's title: 1 to 200 characters once trimmed.
pub fn check_title(title: &str) -> Result<String, ApiError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(ApiError::invalid(
            "title",
            "title must be 1 to 200 characters",
        ));
    }
    Ok(title.to_string())
}

/// An http or https address of at most 2,000 bytes, or `None` for an empty one.
pub fn check_url(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(v) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let ok = url::Url::parse(&v)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if !ok || v.len() > 2000 {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be an http or https address"),
        ));
    }
    Ok(Some(v))
}

/// A trimmed text of at most `max` characters, or `None` for an empty one.
pub fn check_short(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let Some(v) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(Some(v))
}

/// A start or end: RFC 3339 with an offset, or a wall-clock time in the event's zone.
pub fn parse_time(
    field: &str,
    value: &str,
    tz: &jiff::tz::TimeZone,
) -> Result<DateTime<Utc>, ApiError> {
    let value = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    from_local(value, tz).ok_or_else(|| {
        ApiError::invalid(
            field,
            format!("{field} must be a date and time like 2027-06-15T18:00 (in the event's time zone) or 2027-06-15T18:00:00+01:00"),
        )
    })
}
