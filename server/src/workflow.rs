//! The workflow of a sitting through the API (docs/workflow.md): where it
//! stands, its steps (a stenographer marks it checked, an editor approves,
//! publishes and makes it final), its published versions served exactly
//! as stored (the SHA-256 as `ETag`), and their corrections. A refused
//! step answers 409 with its reason; each step is published to the
//! session's live clients as a `workflow` message, and so is a sitting
//! sent back to draft by a change to its record ([`reopened`]). The
//! corrections pending publication are listed before it, for reasons.

mod reopened;

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use tocky_store::workflow::pending::PendingCorrections;
use tocky_store::{Correction, Reasons, Role, VersionInfo, Workflow, WorkflowMove, WorkflowState};

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::live::LiveEvent;
use crate::state::AppState;
use crate::{ApiJson, ApiPath};

pub(crate) use reopened::{Reopened, announce as announce_reopened};

/// The routes of this module, under `/api`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/sessions/{id}/workflow", get(workflow).post(move_to))
        .route("/sessions/{id}/workflow/pending", get(pending))
        .route("/sessions/{id}/versions", get(versions))
        .route("/sessions/{id}/versions/{number}", get(version))
        .route(
            "/sessions/{id}/versions/{number}/corrections",
            get(corrections),
        )
        .route("/segments/{id}/corrections", get(segment_corrections))
}

/// The live message of a step.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum WorkflowMessage<'a> {
    /// The sitting moved.
    Workflow {
        /// Who moved it.
        actor: &'a str,
        /// What the step did.
        #[serde(flatten)]
        step: &'a WorkflowMove,
    },
}

/// The least role that may move a sitting to `to`: a stenographer says it
/// is checked (or takes it back to draft); the rest is an editor's.
fn role_for(to: WorkflowState) -> Role {
    match to {
        WorkflowState::Draft | WorkflowState::Checked => Role::Stenographer,
        WorkflowState::Approved | WorkflowState::Published | WorkflowState::Final => Role::Editor,
    }
}

/// `GET /api/sessions/{id}/workflow`.
pub(crate) async fn workflow(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(session_id): ApiPath<i64>,
) -> Result<Json<Workflow>, ApiError> {
    viewer.require_read()?;
    let workflow = state
        .with_store(move |store, _| Ok(store.workflow(session_id)?))
        .await?;
    Ok(Json(workflow))
}

/// `GET /api/sessions/{id}/workflow/pending`: the corrections publishing
/// now would list against the last version, so that the publisher can give
/// a reason for each before publishing.
pub(crate) async fn pending(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(session_id): ApiPath<i64>,
) -> Result<Json<PendingCorrections>, ApiError> {
    viewer.require_read()?;
    let pending = state
        .with_store(move |store, _| Ok(store.pending_corrections(session_id)?))
        .await?;
    Ok(Json(pending))
}

/// `POST /api/sessions/{id}/workflow`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveRequest {
    to: WorkflowState,
    #[serde(default)]
    note: Option<String>,
    /// When publishing: why each segment was corrected, by segment id.
    #[serde(default)]
    reasons: BTreeMap<i64, String>,
}

/// The longest note or reason, in bytes.
const MAX_NOTE_BYTES: usize = 2000;

pub(crate) async fn move_to(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(session_id): ApiPath<i64>,
    ApiJson(body): ApiJson<MoveRequest>,
) -> Result<Json<WorkflowMove>, ApiError> {
    let user = viewer.require(role_for(body.to))?.name.clone();
    let too_long = body.note.iter().chain(body.reasons.values());
    if too_long.into_iter().any(|t| t.len() > MAX_NOTE_BYTES) {
        return Err(ApiError::BadRequest(format!(
            "a note or reason is at most {MAX_NOTE_BYTES} bytes"
        )));
    }
    let actor = user.clone();
    let step = state
        .with_store(move |store, _| {
            let reasons = Reasons {
                by_segment: body.reasons,
                default: None,
            };
            Ok(store.move_workflow(session_id, body.to, &actor, body.note.as_deref(), &reasons)?)
        })
        .await?;
    let message = WorkflowMessage::Workflow {
        actor: &user,
        step: &step,
    };
    let json = serde_json::to_string(&message).unwrap_or_else(|_| "{}".into());
    state.publish(LiveEvent {
        session_id,
        json: json.into(),
    });
    Ok(Json(step))
}

/// `GET /api/sessions/{id}/versions`: every published version, oldest first.
pub(crate) async fn versions(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(session_id): ApiPath<i64>,
) -> Result<Json<Vec<VersionInfo>>, ApiError> {
    viewer.require_read()?;
    let list = state
        .with_store(move |store, _| Ok(store.versions(session_id)?))
        .await?;
    Ok(Json(list))
}

/// `GET /api/sessions/{id}/versions/{n}`: the content exactly as
/// published, its SHA-256 as a strong `ETag` (and `If-None-Match` honoured).
pub(crate) async fn version(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath((session_id, number)): ApiPath<(i64, i64)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    viewer.require_read()?;
    let version = state
        .with_store(move |store, _| Ok(store.version(session_id, number)?))
        .await?;
    let etag = format!("\"{}\"", version.info.sha256);
    let etag_value = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    let meta = [
        ("x-tocky-version", version.info.number.to_string()),
        (
            "x-tocky-version-state",
            match version.info.state {
                tocky_store::VersionState::Provisional => "provisional".into(),
                tocky_store::VersionState::Final => "final".into(),
            },
        ),
    ];
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )],
            version.content,
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, etag_value);
    for (name, value) in meta {
        if let Ok(value) = HeaderValue::from_str(&value) {
            h.insert(name, value);
        }
    }
    Ok(response)
}

/// `GET /api/sessions/{id}/versions/{n}/corrections`.
#[derive(Debug, Serialize)]
pub(crate) struct VersionCorrections {
    /// The version (with its `previous` and `next`).
    version: VersionInfo,
    /// What it changed against `previous`, in the order of the sitting.
    corrections: Vec<Correction>,
}

pub(crate) async fn corrections(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath((session_id, number)): ApiPath<(i64, i64)>,
) -> Result<Json<VersionCorrections>, ApiError> {
    viewer.require_read()?;
    let out = state
        .with_store(move |store, _| {
            Ok(VersionCorrections {
                version: store.version(session_id, number)?.info,
                corrections: store.corrections(session_id, number)?,
            })
        })
        .await?;
    Ok(Json(out))
}

/// `GET /api/segments/{id}/corrections`: what versions corrected in this
/// segment, oldest first.
pub(crate) async fn segment_corrections(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(segment_id): ApiPath<i64>,
) -> Result<Json<Vec<Correction>>, ApiError> {
    viewer.require_read()?;
    let list = state
        .with_store(move |store, _| Ok(store.segment_corrections(segment_id)?))
        .await?;
    Ok(Json(list))
}
