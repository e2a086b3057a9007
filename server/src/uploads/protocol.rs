//! The tus 1.0 protocol's headers (<https://tus.io/protocols/resumable-upload>):
//! what this server announces, and how the request headers are read.
//!
//! Only what the routes need: the core protocol, `creation` (with
//! `Upload-Length`; deferred lengths are not offered) and `termination`.
//! Every value is bounded before it is trusted.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderName};

use crate::error::ApiError;

/// The protocol version this server speaks.
pub const TUS_VERSION: &str = "1.0.0";
/// The extensions this server supports.
pub const TUS_EXTENSIONS: &str = "creation,termination";
/// The content type every `PATCH` must carry.
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// `Tus-Resumable`.
pub const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
/// `Tus-Version`.
pub const TUS_VERSION_HEADER: HeaderName = HeaderName::from_static("tus-version");
/// `Tus-Extension`.
pub const TUS_EXTENSION: HeaderName = HeaderName::from_static("tus-extension");
/// `Tus-Max-Size`.
pub const TUS_MAX_SIZE: HeaderName = HeaderName::from_static("tus-max-size");
/// `Upload-Offset`.
pub const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
/// `Upload-Length`.
pub const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
/// `Upload-Metadata`.
pub const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");

/// The longest `Upload-Metadata` header accepted, in bytes.
pub const MAX_METADATA_BYTES: usize = 4096;
/// The most keys `Upload-Metadata` may hold.
pub const MAX_METADATA_KEYS: usize = 16;
/// The longest metadata key, in bytes.
const MAX_KEY_BYTES: usize = 64;

/// Whether the request speaks our version (`Tus-Resumable: 1.0.0`); tus
/// answers any other with 412 and the versions it does speak.
pub fn speaks_our_version(headers: &HeaderMap) -> bool {
    headers
        .get(TUS_RESUMABLE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == TUS_VERSION)
}

/// A header holding a non-negative integer: `None` when absent, an error
/// when present but not one.
pub fn number(headers: &HeaderMap, name: &HeaderName) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(str::trim)
        // u64's parser takes a leading '+', which the protocol does not.
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .map(Some)
        .ok_or_else(|| ApiError::BadRequest(format!("{name} must be a non-negative integer")))
}

/// Whether the body is declared as `application/offset+octet-stream`.
pub fn is_offset_stream(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(OFFSET_OCTET_STREAM))
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs (the value
/// may be absent). Keys are ASCII without spaces or commas and unique;
/// values must be UTF-8 text, and are stored in NFC.
pub fn metadata(headers: &HeaderMap) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    let Some(value) = headers.get(UPLOAD_METADATA) else {
        return Ok(out);
    };
    let bad = |why: &str| ApiError::BadRequest(format!("Upload-Metadata: {why}"));
    if value.len() > MAX_METADATA_BYTES {
        return Err(bad(&format!("longer than {MAX_METADATA_BYTES} bytes")));
    }
    let text = value.to_str().map_err(|_| bad("not ASCII"))?;
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut parts = pair.split(' ').filter(|p| !p.is_empty());
        let key = parts.next().unwrap_or_default();
        let encoded = parts.next().unwrap_or_default();
        if parts.next().is_some() {
            return Err(bad("a pair has more than a key and a value"));
        }
        if key.len() > MAX_KEY_BYTES || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad("a key is not short visible ASCII"));
        }
        let bytes = base64_decode(encoded).ok_or_else(|| bad("a value is not base64"))?;
        let value = String::from_utf8(bytes).map_err(|_| bad("a value is not UTF-8 text"))?;
        if value.chars().any(|c| c.is_control()) {
            return Err(bad("a value holds control characters"));
        }
        if out
            .insert(key.to_owned(), tocky_core::text::nfc(&value))
            .is_some()
        {
            return Err(bad(&format!("the key {key:?} appears twice")));
        }
        if out.len() > MAX_METADATA_KEYS {
            return Err(bad(&format!("more than {MAX_METADATA_KEYS} keys")));
        }
    }
    Ok(out)
}

/// Standard base64 with padding, as tus specifies (RFC 4648 §4). Written
/// here rather than depending on a crate for thirty lines.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn sextet(b: u8) -> Option<u32> {
        Some(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let quads = bytes.len() / 4;
    for (i, quad) in bytes.chunks_exact(4).enumerate() {
        let padding = quad.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 || (padding > 0 && i + 1 != quads) {
            return None;
        }
        let mut n = 0u32;
        for &b in &quad[..4 - padding] {
            n = (n << 6) | sextet(b)?;
        }
        n <<= 6 * padding as u32;
        let three = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&three[..3 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn base64_decodes_and_refuses_garbage() {
        assert_eq!(base64_decode("").unwrap(), b"");
        assert_eq!(base64_decode("Zg==").unwrap(), b"f");
        assert_eq!(base64_decode("Zm8=").unwrap(), b"fo");
        assert_eq!(base64_decode("Zm9v").unwrap(), b"foo");
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert!(base64_decode("Zm9").is_none());
        assert!(base64_decode("Zg==Zm9v").is_none());
        assert!(base64_decode("Z===").is_none());
        assert!(base64_decode("Zm9*").is_none());
    }

    #[test]
    fn metadata_is_read_bounded_and_nfc() {
        let mut headers = HeaderMap::new();
        // "Phiên" written with a combining circumflex: stored composed.
        let decomposed = "Phie\u{302}n";
        let encoded = {
            // Tiny encoder for the test only.
            const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let b = decomposed.as_bytes();
            let mut s = String::new();
            for c in b.chunks(3) {
                let n = c.iter().fold(0u32, |a, &x| (a << 8) | x as u32) << (8 * (3 - c.len()));
                for k in 0..=c.len() {
                    s.push(T[((n >> (18 - 6 * k)) & 63) as usize] as char);
                }
                s.extend(std::iter::repeat_n('=', 3 - c.len()));
            }
            s
        };
        headers.insert(
            UPLOAD_METADATA,
            HeaderValue::from_str(&format!("filename {encoded},is_confidential")).unwrap(),
        );
        let m = metadata(&headers).unwrap();
        assert_eq!(m["filename"], "Phiên");
        assert_eq!(m["is_confidential"], "");

        headers.insert(UPLOAD_METADATA, HeaderValue::from_static("a Zg==,a Zg=="));
        assert!(metadata(&headers).is_err());
        headers.insert(UPLOAD_METADATA, HeaderValue::from_static("a !!!!"));
        assert!(metadata(&headers).is_err());
        headers.insert(UPLOAD_METADATA, HeaderValue::from_static("a Cg=="));
        assert!(metadata(&headers).is_err(), "a newline is refused");
    }

    #[test]
    fn numbers_are_plain_digits() {
        let mut headers = HeaderMap::new();
        assert_eq!(number(&headers, &UPLOAD_OFFSET).unwrap(), None);
        headers.insert(UPLOAD_OFFSET, HeaderValue::from_static("42"));
        assert_eq!(number(&headers, &UPLOAD_OFFSET).unwrap(), Some(42));
        for bad in ["+1", "-1", "1.5", "", "99999999999999999999999"] {
            headers.insert(UPLOAD_OFFSET, HeaderValue::from_static(bad));
            assert!(number(&headers, &UPLOAD_OFFSET).is_err(), "{bad}");
        }
    }
}
