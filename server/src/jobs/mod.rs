//! The jobs API (issue 17 §6) under `/api/jobs`: a finished upload
//! becomes a transcription job, queued in the record until a worker takes
//! it; list, get, cancel and retry (docs/api.md, "Jobs").
//!
//! Stenographers and up submit and read; a job is cancelled or retried by
//! its submitter or an editor and up. A job's audio is the upload's file
//! in the media directory; a file whose first bytes name no audio
//! container is refused here (400), one that does but fails to decode
//! fails in its job.

mod routes;

use axum::Router;
use axum::routing::{get, post};

pub use self::routes::{DEFAULT_MODEL, MAX_LIST};
use crate::state::AppState;
use crate::uploads::store::UploadStore;

/// The job routes, to be nested at `/api/jobs`.
pub fn routes(state: &AppState) -> Router<AppState> {
    let config = state.config();
    let jobs = routes::Jobs {
        app: state.clone(),
        uploads: UploadStore::new(config.upload_dir(), config.upload_media_dir()),
    };
    Router::new()
        .route("/", get(routes::list).post(routes::submit))
        .route("/{id}", get(routes::one))
        .route("/{id}/cancel", post(routes::cancel))
        .route("/{id}/retry", post(routes::retry))
        .with_state(jobs)
}
