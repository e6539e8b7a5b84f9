//! Checks of form fields shared by the API's resources, each error naming the field at fault.

use crate::error::ApiError;
use chrono::{DateTime, Utc};
use copse_federation::objects::event::from_local;
use serde::Deserialize;

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

/// A post's markdown: not empty, at most 100,000 bytes.
pub fn check_body(content: &str) -> Result<(), ApiError> {
    if content.trim().is_empty() {
        return Err(ApiError::invalid("content", "content must not be empty"));
    }
    if content.len() > 100_000 {
        return Err(ApiError::invalid(
            "content",
            "content must be at most 100000 bytes",
        ));
    }
    Ok(())
}

/// A topic's link: an absolute `http` or `https` URL of at most 2000 bytes.
pub fn check_link(url: Option<&str>) -> Result<Option<url::Url>, ApiError> {
    let Some(text) = url.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    match url::Url::parse(text) {
        Ok(u) if text.len() <= 2000 && matches!(u.scheme(), "http" | "https") => Ok(Some(u)),
        _ => Err(ApiError::invalid(
            "url",
            "an http or https URL of at most 2000 bytes",
        )),
    }
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

/// A hashtag to filter by, lower-cased without its `#`: 1 to 64 letters, digits or `_`, as
/// hashtags are recognised in posts. An empty value is no filter.
pub fn tag_param(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(tag) = raw.map(|t| t.trim().trim_start_matches('#')) else {
        return Ok(None);
    };
    if tag.is_empty() {
        return Ok(None);
    }
    if tag.chars().count() > 64 || !tag.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(ApiError::invalid(
            "tag",
            "tag is 1 to 64 letters, digits or _",
        ));
    }
    Ok(Some(tag.to_lowercase()))
}

/// Request body of `POST /api/v1/posts/{id}/remove` and `.../reports`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonForm {
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A moderation reason or note: at most 5,000 bytes.
pub fn check_reason(reason: &Option<String>) -> Result<(), ApiError> {
    if reason.as_ref().is_some_and(|r| r.len() > 5000) {
        return Err(ApiError::invalid("reason", "at most 5000 bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_checked_and_lower_cased() {
        assert_eq!(tag_param(Some("#Rust")).unwrap().as_deref(), Some("rust"));
        assert_eq!(
            tag_param(Some("Über_2")).unwrap().as_deref(),
            Some("über_2")
        );
        assert_eq!(tag_param(Some("")).unwrap(), None);
        assert_eq!(tag_param(None).unwrap(), None);
        for bad in ["a b", "x%", "a\"b", &"x".repeat(65)] {
            let e = tag_param(Some(bad)).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("tag"), "{bad}");
        }
    }
}
