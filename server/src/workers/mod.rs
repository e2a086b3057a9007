//! The routes of remote workers (`tocky worker` on other machines):
//! claim a job, download its audio (Range, so that a download resumes),
//! renew its lease with progress and a checkpoint, and complete it with
//! its transcript or fail it. The protocol's bodies are tocky-worker's
//! ([`tocky_worker::http`]); docs/api.md, "Workers".
//!
//! Authenticated by an API key (`Authorization: Bearer`, `tocky token
//! add NAME --role stenographer`) through the `/v1` routes' middleware,
//! so wrong keys are counted, limited and audited the same way. A worker
//! writes transcripts into the record, a stenographer's work: the key
//! needs that role or above. A worker's name in the record is
//! `KEY/NAME`, so the job list and the audit log say whose machine it
//! was. Claims, completions and failures are audited by the store.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router, middleware};
use tocky_store::{Heartbeat, IngestOutcome, Role};
use tocky_worker::http::{
    ClaimRequest, CompleteRequest, CompleteResponse, FailRequest, HeartbeatRequest, LEASE_HEADER,
};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::ApiPath;
use crate::error::ApiError;
use crate::openai::auth::Caller;
use crate::state::AppState;

/// The largest completion body: a transcript document of a long sitting
/// (about 1 MB an hour with word times) with room to spare.
const MAX_COMPLETE_BYTES: usize = 64 << 20;
/// The largest heartbeat: the store's checkpoint limit and the rest.
const MAX_HEARTBEAT_BYTES: usize = tocky_store::jobs::MAX_CHECKPOINT_BYTES + (64 << 10);
/// The largest claim or failure body.
const MAX_SMALL_BYTES: usize = 16 << 10;

/// The worker routes, merged at the top level (their authentication is
/// the API key's, not the session cookie's and CSRF token of `/api`).
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/api/worker/claim",
            post(claim).layer(DefaultBodyLimit::max(MAX_SMALL_BYTES)),
        )
        .route(
            "/api/worker/jobs/{id}/heartbeat",
            post(heartbeat).layer(DefaultBodyLimit::max(MAX_HEARTBEAT_BYTES)),
        )
        .route("/api/worker/jobs/{id}/audio", get(audio))
        .route(
            "/api/worker/jobs/{id}/complete",
            post(complete).layer(DefaultBodyLimit::max(MAX_COMPLETE_BYTES)),
        )
        .route(
            "/api/worker/jobs/{id}/fail",
            post(fail).layer(DefaultBodyLimit::max(MAX_SMALL_BYTES)),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        // A route layer: the app's fallback stays outside the key check.
        .route_layer(middleware::from_fn_with_state(
            state,
            crate::openai::auth::authenticate,
        ))
}

/// The server's clock for leases (Unix ms).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The caller's key, if it may run jobs (stenographer and up).
fn worker_key(caller: &Caller) -> Result<String, ApiError> {
    if caller.token.role >= Role::Stenographer {
        Ok(caller.token.name.clone())
    } else {
        Err(ApiError::Forbidden(format!(
            "running jobs needs the stenographer role; the API key {} is a {}",
            caller.token.name,
            caller.token.role.as_str()
        )))
    }
}

fn lease(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// `POST /api/worker/claim`: the next job, leased to the caller (200), or
/// 204 when none waits.
async fn claim(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<ClaimRequest>,
) -> Result<Response, ApiError> {
    let key = worker_key(&caller)?;
    let worker = format!("{key}/{}", body.worker);
    let claimed = state
        .with_store(move |store, _| Ok(store.claim_job(&worker, lease(body.lease_ms), now_ms())?))
        .await?;
    Ok(match claimed {
        Some(claim) => Json(claim).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `POST /api/worker/jobs/{id}/heartbeat`: renews the lease; 409 when it
/// was lost (the job cancelled, or taken again).
async fn heartbeat(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
    Json(body): Json<HeartbeatRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    worker_key(&caller)?;
    let expires = state
        .with_store(move |store, _| {
            let beat = Heartbeat {
                progress: body.progress,
                checkpoint: body.checkpoint.as_deref(),
                lease: lease(body.lease_ms),
                now_ms: now_ms(),
            };
            Ok(store.heartbeat(id, &body.lease_token, &beat)?)
        })
        .await?;
    Ok(Json(serde_json::json!({ "lease_expires_at": expires })))
}

/// `GET /api/worker/jobs/{id}/audio` with the lease token in the
/// `Tocky-Lease` header: the job's audio, Range requests answered (206)
/// so that an interrupted download resumes. Fetching it renews the lease
/// (downloading is work on the job).
async fn audio(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
    request: Request,
) -> Result<Response, ApiError> {
    worker_key(&caller)?;
    let token = request
        .headers()
        .get(LEASE_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or_else(|| ApiError::BadRequest(format!("send the job's lease in {LEASE_HEADER}")))?
        .to_owned();
    let media = state.config().upload_media_dir();
    let path = state
        .with_store(move |store, _| {
            let job = store.job(id)?;
            let now = now_ms();
            let left = job.lease_expires_at.map_or(0, |at| at - now).max(1000);
            let beat = Heartbeat {
                progress: job.progress,
                checkpoint: None,
                lease: Duration::from_millis(u64::try_from(left).unwrap_or(1000)),
                now_ms: now,
            };
            // Proves the lease (409 when lost) without changing the job.
            store.heartbeat(id, &token, &beat)?;
            crate::audio::resolve(std::slice::from_ref(&media), &job.audio.path).ok_or_else(|| {
                ApiError::NotFound(format!(
                    "the audio of job {id} is not in the media directory"
                ))
            })
        })
        .await?;
    let response = ServeFile::new(path)
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?
        .into_response();
    Ok(response)
}

/// `POST /api/worker/jobs/{id}/complete`: ingests the transcript as the
/// job's session, exactly once (a repeated completion by the same lease
/// answers the same session), and brings the search index up to date.
async fn complete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
    Json(body): Json<CompleteRequest>,
) -> Result<Json<CompleteResponse>, ApiError> {
    worker_key(&caller)?;
    let outcome = state
        .with_store(move |store, index| {
            let outcome = store.complete_job(id, &body.lease_token, &body.document, now_ms())?;
            let session = match outcome {
                IngestOutcome::Created { session_id, .. } => session_id,
                IngestOutcome::AlreadyPresent { session_id } => session_id,
            };
            // The session is in the record; search catches up by generation
            // at the next write if this fails.
            if let Err(e) = index.update(store, Some(session), None) {
                tracing::warn!("job {id}: indexing session {session}: {e}");
            }
            Ok(outcome)
        })
        .await?;
    Ok(Json(match outcome {
        IngestOutcome::Created { session_id, .. } => CompleteResponse {
            session_id,
            created: true,
        },
        IngestOutcome::AlreadyPresent { session_id } => CompleteResponse {
            session_id,
            created: false,
        },
    }))
}

/// `POST /api/worker/jobs/{id}/fail`: gives the job up (queued again when
/// retryable and attempts are left); answers the job as it is now.
async fn fail(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
    Json(body): Json<FailRequest>,
) -> Result<Response, ApiError> {
    worker_key(&caller)?;
    let job = state
        .with_store(move |store, _| {
            Ok(store.fail_job(
                id,
                &body.lease_token,
                &body.reason,
                body.retryable,
                now_ms(),
            )?)
        })
        .await?;
    let mut response = Json(job).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}
