//! Avatar uploads: the type is read from the file's first bytes (never from its name or the
//! type the browser claims), and the size and dimensions are limited. SVG and anything else that
//! a browser might run as a document is refused.

use crate::error::ApiError;
use copse_federation::actions::profile::NewAvatar;

/// Largest avatar file, in bytes (1 MiB).
pub const MAX_AVATAR_BYTES: usize = 1024 * 1024;
/// Largest avatar width and height, in pixels.
pub const MAX_AVATAR_SIDE: u32 = 1600;

/// The image types accepted, with their extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl Kind {
    fn of(b: &[u8]) -> Option<Self> {
        if b.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if b.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(Self::Jpeg)
        } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Gif => "gif",
            Self::Webp => "webp",
        }
    }
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[0]) | (u32::from(s[1]) << 8) | (u32::from(s[2]) << 16))
}

/// Width and height from the header of an image of this kind.
fn dimensions(kind: Kind, b: &[u8]) -> Option<(u32, u32)> {
    match kind {
        Kind::Png => (b.get(12..16)? == b"IHDR").then_some(())?,
        Kind::Gif => return Some((le16(b, 6)?, le16(b, 8)?)),
        Kind::Jpeg => return jpeg_dimensions(b),
        Kind::Webp => return webp_dimensions(b),
    }
    Some((be32(b, 16)?, be32(b, 20)?))
}

fn jpeg_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        if *b.get(at)? != 0xff {
            return None;
        }
        let marker = *b.get(at + 1)?;
        if marker == 0xff {
            at += 1;
            continue;
        }
        // Markers without a length: TEM and the restart markers.
        if marker == 0x01 || (0xd0..=0xd7).contains(&marker) {
            at += 2;
            continue;
        }
        let len = be16(b, at + 2)? as usize;
        let is_frame = (0xc0..=0xcf).contains(&marker) && ![0xc4, 0xc8, 0xcc].contains(&marker);
        if is_frame {
            return Some((be16(b, at + 7)?, be16(b, at + 5)?));
        }
        if marker == 0xd9 || marker == 0xda || len < 2 {
            return None;
        }
        at += 2 + len;
    }
}

fn webp_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    match b.get(12..16)? {
        b"VP8 " => {
            (b.get(23..26)? == [0x9d, 0x01, 0x2a]).then_some(())?;
            Some((le16(b, 26)? & 0x3fff, le16(b, 28)? & 0x3fff))
        }
        b"VP8L" => {
            (*b.get(20)? == 0x2f).then_some(())?;
            let s = b.get(21..25)?;
            let (b0, b1, b2, b3) = (
                u32::from(s[0]),
                u32::from(s[1]),
                u32::from(s[2]),
                u32::from(s[3]),
            );
            Some((
                1 + (b0 | ((b1 & 0x3f) << 8)),
                1 + ((b1 >> 6) | (b2 << 2) | ((b3 & 0x0f) << 10)),
            ))
        }
        b"VP8X" => Some((1 + le24(b, 24)?, 1 + le24(b, 27)?)),
        _ => None,
    }
}

/// Checks an uploaded avatar; every refusal names the `avatar` field.
pub fn check_avatar(bytes: Vec<u8>) -> Result<NewAvatar, ApiError> {
    if bytes.len() > MAX_AVATAR_BYTES {
        return Err(ApiError::invalid("avatar", "avatar must be at most 1 MiB"));
    }
    let kind = Kind::of(&bytes).ok_or_else(|| {
        ApiError::invalid("avatar", "avatar must be a PNG, JPEG, GIF or WebP image")
    })?;
    let (w, h) = dimensions(kind, &bytes)
        .filter(|(w, h)| *w > 0 && *h > 0)
        .ok_or_else(|| ApiError::invalid("avatar", "avatar could not be read as an image"))?;
    if w > MAX_AVATAR_SIDE || h > MAX_AVATAR_SIDE {
        return Err(ApiError::invalid(
            "avatar",
            "avatar must be at most 1600×1600 pixels",
        ));
    }
    Ok(NewAvatar {
        content_type: kind.content_type(),
        extension: kind.extension(),
        bytes,
    })
}

/// The content type of a stored image from its first bytes, for serving it; `None` for
/// anything that is not one of the accepted image types.
pub fn served_type(bytes: &[u8]) -> Option<&'static str> {
    Kind::of(bytes).map(Kind::content_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn a_small_png_is_taken_with_its_type() {
        let a = check_avatar(png(64, 48)).unwrap();
        assert_eq!((a.content_type, a.extension), ("image/png", "png"));
    }

    #[test]
    fn a_png_too_wide_is_refused() {
        let e = check_avatar(png(1601, 10)).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("avatar"));
        assert!(e.message.contains("1600"));
    }

    #[test]
    fn html_and_svg_are_refused_whatever_they_are_called() {
        for b in [
            &b"<html><script>alert(1)</script>"[..],
            b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"<svg onload=alert(1)>",
        ] {
            let e = check_avatar(b.to_vec()).unwrap_err();
            assert!(
                e.message.contains("PNG, JPEG, GIF or WebP"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn gif_jpeg_and_webp_headers_give_their_dimensions() {
        let gif = b"GIF89a\x20\x00\x10\x00".to_vec();
        assert_eq!(dimensions(Kind::Gif, &gif), Some((32, 16)));
        // SOI, an APP0 of length 4, then SOF0: precision 8, height 0x0100, width 0x0200.
        let jpeg = vec![
            0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 17, 8, 1, 0, 2, 0,
        ];
        assert_eq!(dimensions(Kind::Jpeg, &jpeg), Some((512, 256)));
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        webp.extend_from_slice(&[99, 0, 0, 49, 0, 0]);
        assert_eq!(dimensions(Kind::Webp, &webp), Some((100, 50)));
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_it_is_read() {
        let mut b = png(10, 10);
        b.resize(MAX_AVATAR_BYTES + 1, 0);
        let e = check_avatar(b).unwrap_err();
        assert!(e.message.contains("1 MiB"));
    }
}
