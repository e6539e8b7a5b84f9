//! Form bodies that may carry a file: `multipart/form-data` (the settings form with its avatar),
//! or a plain `application/x-www-form-urlencoded` one. Read within a limit; a body too large,
//! or one that cannot be read, is an error page.

use super::error::PageError;
use axum::{
    extract::{FromRequest, Request},
    http::{header, StatusCode},
};

/// Largest body read, in bytes: room for a file over the avatar limit, so that the form can say
/// so next to the field, and for the other fields.
pub const MAX_UPLOAD_BODY: usize = 2 * 1024 * 1024 + 64 * 1024;

/// One field of a form.
#[derive(Debug, Clone)]
pub struct Part {
    /// The field's name.
    pub name: String,
    /// The file name the browser gave, for file fields.
    pub filename: Option<String>,
    /// The value, or the file's bytes.
    pub data: Vec<u8>,
}

/// A submitted form, field by field.
#[derive(Debug, Default)]
pub struct Parts(pub Vec<Part>);

impl Parts {
    /// A text field's value (empty when missing).
    pub fn text(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
            .unwrap_or_default()
    }

    /// True when a field (a checkbox) was sent.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|p| p.name == name)
    }

    /// A chosen file's bytes; `None` when none was chosen.
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|p| p.name == name && p.filename.as_deref().is_some_and(|f| !f.is_empty()))
            .map(|p| p.data.as_slice())
            .filter(|d| !d.is_empty())
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// A `key="value"` parameter of a header line.
fn param(line: &str, key: &str) -> Option<String> {
    line.split(';').find_map(|p| {
        let v = p.trim().strip_prefix(key)?.strip_prefix("=\"")?;
        // A `;` inside a quoted file name cuts it short here; only whether there is one counts.
        Some(v[..v.find('"').unwrap_or(v.len())].to_string())
    })
}

/// Parses a `multipart/form-data` body with this boundary.
pub fn parse(body: &[u8], boundary: &str) -> Option<Parts> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut at = find(body, delimiter.as_bytes(), 0)? + delimiter.len();
    loop {
        if body.get(at..at + 2)? == b"--" {
            return Some(Parts(parts));
        }
        at = find(body, b"\r\n", at)? + 2;
        let head_end = find(body, b"\r\n\r\n", at)?;
        let head = std::str::from_utf8(body.get(at..head_end)?).ok()?;
        let start = head_end + 4;
        let end = find(body, format!("\r\n{delimiter}").as_bytes(), start)?;
        let disposition = head
            .split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
        let name = param(disposition, "name")?;
        parts.push(Part {
            name,
            filename: param(disposition, "filename"),
            data: body.get(start..end)?.to_vec(),
        });
        at = end + 2 + delimiter.len();
    }
}

impl<S: Send + Sync> FromRequest<S> for Parts {
    type Rejection = PageError;

    async fn from_request(req: Request, _: &S) -> Result<Self, PageError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let unreadable = || {
            PageError::new(
                StatusCode::BAD_REQUEST,
                "the form could not be read: reload the page and try again",
            )
        };
        let bytes = axum::body::to_bytes(req.into_body(), MAX_UPLOAD_BODY)
            .await
            .map_err(|_| {
                PageError::Shown(
                    crate::error::ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "what you sent is too large: avatar must be at most 1 MiB",
                    )
                    .with_field("avatar"),
                )
            })?;
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&bytes).map_err(|_| unreadable())?;
            return Ok(Parts(
                pairs
                    .into_iter()
                    .map(|(name, v)| Part {
                        name,
                        filename: None,
                        data: v.into_bytes(),
                    })
                    .collect(),
            ));
        }
        let boundary = content_type
            .strip_prefix("multipart/form-data")
            .and_then(|rest| {
                rest.split(';')
                    .find_map(|p| p.trim().strip_prefix("boundary="))
            })
            .map(|b| b.trim_matches('"').to_string())
            .filter(|b| !b.is_empty() && b.len() <= 200)
            .ok_or_else(|| {
                PageError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "this address takes a form sent from its page",
                )
            })?;
        parse(&bytes, &boundary).ok_or_else(unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_a_file_are_read() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--\r\n\
--XyZ--\r\n";
        let parts = parse(body, "XyZ").unwrap();
        assert_eq!(parts.text("csrf"), "abc");
        assert_eq!(parts.file("avatar"), Some(&b"\x89PNG\r\n--"[..]));
        assert!(!parts.has("listed"));
    }

    #[test]
    fn no_file_chosen_is_no_file() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"\"\r\n\r\n\r\n--b--\r\n";
        assert_eq!(parse(body, "b").unwrap().file("avatar"), None);
    }

    #[test]
    fn a_cut_off_body_is_unreadable() {
        assert!(parse(
            b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nabc",
            "b"
        )
        .is_none());
    }
}
