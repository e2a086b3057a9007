//! A session's audio, with HTTP Range support so that the browser can seek
//! in a four-hour file.
//!
//! The file is found by the session's stored file name in the configured
//! media directories. The name never comes from the URL, and a stored name
//! that is not a plain file name, or a file whose real path (symlinks
//! resolved) leaves its media directory, is refused.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use axum::Extension;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::ApiPath;
use crate::auth::Viewer;
use crate::error::ApiError;
use crate::state::AppState;

/// Where `file_name` lies in one of `media_dirs`, if it is a plain file
/// name and its real path stays inside that directory.
pub fn resolve(media_dirs: &[PathBuf], file_name: &str) -> Option<PathBuf> {
    let plain = Path::new(file_name).file_name() == Some(OsStr::new(file_name))
        && !file_name.starts_with('.')
        && !file_name.contains(['/', '\\']);
    if !plain {
        return None;
    }
    media_dirs.iter().find_map(|dir| {
        let dir = dir.canonicalize().ok()?;
        let path = dir.join(file_name).canonicalize().ok()?;
        (path.starts_with(&dir) && path.is_file()).then_some(path)
    })
}

pub(crate) async fn audio(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
    request: Request,
) -> Result<Response, ApiError> {
    viewer.require_public()?;
    let drafts = viewer.sees_drafts();
    let dirs = state.config().audio_dirs();
    let path = state
        .with_store(move |store, _| {
            let session = store.session(id)?;
            // Without a login, only a published sitting's audio.
            if !drafts {
                crate::public::latest_number(store, id)?;
            }
            let name = session.audio_file.unwrap_or_default();
            resolve(&dirs, &name).ok_or_else(|| {
                ApiError::NotFound(format!(
                    "the audio of session {id} ({name:?}) is not in the media directories"
                ))
            })
        })
        .await?;
    let mut request = request;
    let len = tokio::fs::metadata(&path)
        .await
        .map_err(ApiError::internal)?
        .len();
    if let Some(whole) = whole_file_suffix(request.headers(), len) {
        request.headers_mut().insert(header::RANGE, whole);
    }
    let mut response = ServeFile::new(path)
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?
        .map(Body::new)
        .into_response();
    // Browsers may keep it (seeking re-reads ranges); shared caches may not.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    Ok(response)
}

/// `bytes=0-` for a suffix range longer than the file (`bytes=-N`, N ≥ its
/// length), which means the whole file (RFC 9110 §14.1.2); none otherwise.
fn whole_file_suffix(headers: &HeaderMap, len: u64) -> Option<HeaderValue> {
    let range = headers.get(header::RANGE)?.to_str().ok()?.trim();
    let suffix: u64 = range.strip_prefix("bytes=-")?.trim().parse().ok()?;
    (suffix >= len && suffix > 0 && len > 0).then(|| HeaderValue::from_static("bytes=0-"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_plain_names_inside_the_media_dirs_resolve() {
        let root = tempfile::tempdir().unwrap();
        let media = root.path().join("media");
        std::fs::create_dir(&media).unwrap();
        std::fs::write(media.join("a.wav"), b"x").unwrap();
        std::fs::write(root.path().join("secret.wav"), b"x").unwrap();
        let dirs = vec![media.clone()];
        assert!(resolve(&dirs, "a.wav").is_some());
        for bad in [
            "../secret.wav",
            "/etc/passwd",
            "..",
            ".",
            "",
            "sub/a.wav",
            "..\\secret.wav",
            "missing.wav",
        ] {
            assert!(resolve(&dirs, bad).is_none(), "{bad:?}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.path().join("secret.wav"), media.join("link.wav"))
                .unwrap();
            assert!(
                resolve(&dirs, "link.wav").is_none(),
                "symlink out of the media dir"
            );
        }
    }
}
