//! Recognition on request: `POST /api/sessions/{id}/recognise` answers the
//! text and words heard in a stretch of a session's audio, for a segment
//! the stenographer is about to insert (the insert itself is the normal
//! one, in [`crate::ops`]). Nothing is saved.
//!
//! The model lives outside this crate: the server does not depend on the
//! recognition crates, so `tocky serve` hands it a [`Recognise`]
//! (tocky-core's trait, filled by the re-timer's engine and audio cache)
//! with [`AppState::set_recogniser`]. A server
//! without one answers 409 "no model". One recognition runs at a time, on
//! the blocking pool; a few more wait, and beyond them the answer is 503.

use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use tocky_store::Role;

use crate::ApiJson;
use crate::ApiPath;
use crate::auth::Viewer;
use crate::error::ApiError;
pub use crate::recognition::MAX_WAITING;
use crate::recognition::Outcome;
use crate::state::AppState;

// The server's API for recognisers, as before the trait moved below it.
pub use tocky_core::recognise::{Recognise, RecogniseError, Recognised};

/// The longest stretch recognised in one request, in ms: one Whisper window.
pub const MAX_RANGE_MS: i64 = 30_000;
/// What a 503 asks the client to wait, in seconds (a 30 s stretch takes a
/// few seconds on two cores).
const RETRY_AFTER_S: u64 = 5;

/// `POST /api/sessions/{id}/recognise`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecogniseRequest {
    start_ms: i64,
    end_ms: i64,
}

/// Refuses a stretch that is not a range, is too long, or runs past the
/// session's audio. Segments in it are no reason: recognition saves nothing.
fn check_range(start_ms: i64, end_ms: i64, duration_ms: i64) -> Result<(), ApiError> {
    if start_ms < 0 || end_ms <= start_ms {
        return Err(ApiError::BadRequest(format!(
            "{start_ms}–{end_ms} ms is not a time range (0 ≤ start < end)"
        )));
    }
    if end_ms - start_ms > MAX_RANGE_MS {
        return Err(ApiError::BadRequest(format!(
            "{start_ms}–{end_ms} ms is longer than {} s: recognise at most {} s at a time",
            MAX_RANGE_MS / 1000,
            MAX_RANGE_MS / 1000
        )));
    }
    if duration_ms > 0 && end_ms > duration_ms {
        return Err(ApiError::BadRequest(format!(
            "{end_ms} ms is past the end of the session's audio ({duration_ms} ms)"
        )));
    }
    Ok(())
}

pub(crate) async fn recognise(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(session_id): ApiPath<i64>,
    ApiJson(body): ApiJson<RecogniseRequest>,
) -> Result<Json<Recognised>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    let (start_ms, end_ms) = (body.start_ms, body.end_ms);
    check_range(start_ms, end_ms, i64::MAX)?;
    let session = state
        .with_store(move |store, _| Ok(store.session(session_id)?))
        .await?;
    check_range(start_ms, end_ms, session.duration_ms)?;
    let metrics = state.metrics().recognitions();
    let Some(recognition) = state.recognition() else {
        metrics.count(Outcome::no_model);
        return Err(ApiError::Clash(
            "no recognition model is loaded: this server runs without one \
             (tocky serve --no-retime, or no model installed); type the text instead"
                .into(),
        ));
    };
    let admitted = Arc::clone(&recognition.admitted)
        .try_acquire_owned()
        .map_err(|_| {
            metrics.count(Outcome::busy);
            ApiError::Busy {
                reason: "recognitions are queued".into(),
                retry_after: RETRY_AFTER_S,
            }
        })?;
    // Neither semaphore is ever closed.
    let running = Arc::clone(&recognition.running)
        .acquire_owned()
        .await
        .map_err(ApiError::internal)?;
    let recogniser = Arc::clone(&recognition.recogniser);
    // Checked above: both are at least 0.
    let (from, to) = (start_ms.unsigned_abs(), end_ms.unsigned_abs());
    // The places go with the work: a client that leaves does not free the
    // model before its recognition ends.
    let started = Instant::now();
    let heard = tokio::task::spawn_blocking(move || {
        let _places = (admitted, running);
        recogniser.recognise(&session, from, to)
    })
    .await
    .map_err(|e| {
        metrics.count(Outcome::error);
        ApiError::internal(e)
    })?;
    metrics.took(started.elapsed().as_secs_f64());
    metrics.count(match &heard {
        Ok(_) => Outcome::ok,
        Err(RecogniseError::NoAudio(_)) => Outcome::no_audio,
        Err(RecogniseError::Failed(_)) => Outcome::error,
    });
    let detail = match &heard {
        Ok(r) => format!("{start_ms}–{end_ms} ms: {} words", r.words.len()),
        Err(e) => format!("{start_ms}–{end_ms} ms: failed: {e}"),
    };
    state
        .with_store(move |store, _| {
            Ok(store.audit(
                &user,
                "recognise",
                &format!("session {session_id}"),
                &detail,
            )?)
        })
        .await?;
    match heard {
        Ok(r) => Ok(Json(r)),
        Err(e @ RecogniseError::NoAudio(_)) => Err(ApiError::Clash(e.to_string())),
        Err(RecogniseError::Failed(e)) => Err(ApiError::internal(format!("recognition: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked() {
        assert!(check_range(0, 30_000, 60_000).is_ok());
        assert!(check_range(-1, 10, 60_000).is_err());
        assert!(check_range(10, 10, 60_000).is_err());
        assert!(check_range(0, 30_001, 60_000).is_err());
        assert!(check_range(50_000, 60_001, 60_000).is_err());
        // A session of unknown length bounds nothing but the stretch.
        assert!(check_range(50_000, 60_001, 0).is_ok());
    }
}
