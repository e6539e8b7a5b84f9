//! Uploaded images, served at `/media/{key}.{ext}` with the type read from their first bytes,
//! `nosniff`, and a policy that runs nothing: never as HTML or SVG. Keys are random and never
//! reused (a new avatar gets a new one), so the answer may be cached for long.

use super::error::PageError;
use crate::{api::avatar::served_type, AppState};
use axum::{
    extract::{Path, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use copse_entities::media;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// `GET /media/{file}`.
pub async fn http_get_media(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    let missing = || PageError::not_found("image");
    let (key, ext) = file.split_once('.').ok_or_else(missing)?;
    if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(missing());
    }
    let row = media::Entity::find()
        .filter(media::Column::Key.eq(key))
        .one(&state.db)
        .await?
        .ok_or_else(missing)?;
    // The type is read again from the bytes, whatever the row or the URL says.
    let kind = served_type(&row.bytes)
        .filter(|t| *t == row.content_type)
        .ok_or_else(missing)?;
    let expected_ext = match kind {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        _ => "webp",
    };
    if ext != expected_ext {
        return Err(missing());
    }
    let mut res = row.bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(res)
}
