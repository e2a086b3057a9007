//! The OpenAI-compatible API: `POST /v1/audio/transcriptions`,
//! `GET /v1/models` and `GET /v1/models/{id}`, answering as OpenAI's do,
//! so that tools written for OpenAI's speech-to-text (its SDKs, subtitle
//! editors, scripts) use tocky unchanged, with no audio leaving the
//! building.
//!
//! Clients authenticate with API keys ([`auth`]). The model lives outside
//! this crate: `tocky serve` hands the server a
//! [`TranscribeAudio`] (tocky-batch's, the pipeline of `tocky transcribe`)
//! with [`AppState::set_transcriber`]. One file is transcribed at a time,
//! on the blocking pool; [`MAX_WAITING`] more wait, and beyond them the
//! answer is 503. Errors have OpenAI's shape ([`error`]).

pub mod auth;
pub mod error;
pub mod formats;
mod transcriptions;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{any, get, post};
use axum::{Extension, Json, Router, middleware};
use serde::Serialize;
use tocky_core::transcribe::{ServedModel, TranscribeAudio};
use tocky_store::Role;
use tokio::sync::Semaphore;
use tower_http::timeout::TimeoutLayer;

use crate::ApiPath;
use crate::state::AppState;
use auth::Caller;
use error::OpenAiError;

/// Requests that may wait (their upload read) while one transcription
/// runs; more get a 503 at once, before their body is read.
pub const MAX_WAITING: usize = 2;
/// The model id OpenAI's clients send by default; it names the model
/// tocky has loaded, so that they work unchanged.
pub const OPENAI_DEFAULT_MODEL: &str = "whisper-1";
/// Room for the multipart fields beside the file (model, prompt …).
const FORM_OVERHEAD_BYTES: usize = 256 << 10;

/// A transcriber with its bounds: one runs, [`MAX_WAITING`] wait.
pub(crate) struct Transcription {
    service: Arc<dyn TranscribeAudio>,
    /// Places for requests running or waiting (`1 + MAX_WAITING`).
    admitted: Arc<Semaphore>,
    /// The one place on the model.
    running: Arc<Semaphore>,
}

impl Transcription {
    pub(crate) fn new(service: Arc<dyn TranscribeAudio>) -> Self {
        Self {
            service,
            admitted: Arc::new(Semaphore::new(1 + MAX_WAITING)),
            running: Arc::new(Semaphore::new(1)),
        }
    }
}

/// The `/v1` routes, each behind an API key; they keep their own body
/// limit (the upload's) and timeout (a transcription's).
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    let limits = &state.config().limits;
    let body_limit = limits
        .transcription_max_bytes
        .saturating_add(FORM_OVERHEAD_BYTES);
    Router::new()
        .route(
            "/v1/audio/transcriptions",
            post(transcriptions::create).layer(DefaultBodyLimit::max(body_limit)),
        )
        .route("/v1/models", get(list_models))
        .route("/v1/models/{id}", get(one_model))
        .route("/v1", any(no_route))
        .route("/v1/{*rest}", any(no_route))
        // Route layers only: merged into the app, a plain layer would also
        // wrap the app's fallback (an unknown page would need a key).
        .route_layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.transcription_timeout(),
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .route_layer(middleware::from_fn_with_state(state, auth::authenticate))
}

async fn no_route() -> OpenAiError {
    OpenAiError::not_found(
        "unknown_url",
        "no such route on this server's OpenAI-compatible API",
    )
}

/// A model as `GET /v1/models` lists it.
#[derive(Debug, Serialize)]
struct Model {
    id: String,
    object: &'static str,
    created: i64,
    owned_by: &'static str,
}

impl From<ServedModel> for Model {
    fn from(m: ServedModel) -> Self {
        Self {
            id: m.id,
            object: "model",
            created: m.created,
            owned_by: "tocky",
        }
    }
}

/// `GET /v1/models`.
#[derive(Debug, Serialize)]
struct ModelList {
    object: &'static str,
    data: Vec<Model>,
}

/// The models the server runs (none without a model).
fn served(state: &AppState) -> Vec<ServedModel> {
    state
        .transcription()
        .map(|t| t.service.models())
        .unwrap_or_default()
}

/// The model `id` names: one served, or [`OPENAI_DEFAULT_MODEL`] for the
/// one loaded.
fn resolve(models: &[ServedModel], id: &str) -> Option<ServedModel> {
    if id == OPENAI_DEFAULT_MODEL {
        return models.first().cloned();
    }
    models.iter().find(|m| m.id == id).cloned()
}

async fn list_models(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<ModelList>, OpenAiError> {
    caller.require(Role::Reader)?;
    Ok(Json(ModelList {
        object: "list",
        data: served(&state).into_iter().map(Model::from).collect(),
    }))
}

async fn one_model(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<ApiPath<String>, crate::ApiError>,
) -> Result<Json<Model>, OpenAiError> {
    caller.require(Role::Reader)?;
    let ApiPath(id) = path.map_err(OpenAiError::from)?;
    let models = served(&state);
    let model = resolve(&models, &id).ok_or_else(|| {
        OpenAiError::not_found(
            "model_not_found",
            format!("the model {id:?} is not loaded on this server"),
        )
    })?;
    // `whisper-1` answers as itself, as its client expects.
    Ok(Json(Model {
        id,
        ..Model::from(model)
    }))
}
