//! The jobs API's handlers: submit a finished upload, list, get, cancel,
//! retry. The store checks and audits every change (`job_submit`,
//! `job_cancel`, `job_retry`); these routes check who may ask.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tocky_store::jobs::{
    DEFAULT_MAX_ATTEMPTS, Job, JobAdded, JobAudio, JobFilter, JobSettings, JobState, NewJob,
    PRIORITY_BATCH,
};
use tocky_store::{Role, SessionMeta, User};

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::uploads::store::UploadStore;
use crate::{ApiJson, ApiPath, ApiQuery};

/// The model a job gets when the request names none: `tocky transcribe`'s
/// default (`tocky_models::DEFAULT_MODEL`, named here so that the web app
/// does not link the model catalogue).
pub const DEFAULT_MODEL: &str = "base";
/// The most jobs one list answers.
pub const MAX_LIST: usize = 500;

/// What the job routes share: the app, and the uploads jobs are made of.
#[derive(Clone)]
pub(crate) struct Jobs {
    pub(crate) app: crate::state::AppState,
    pub(crate) uploads: UploadStore,
}

/// `POST /api/jobs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Submit {
    /// A finished upload of this account (`/api/uploads/{id}`'s id).
    upload_id: String,
    /// The session's title; else the upload's `title` metadata.
    title: Option<String>,
    /// `YYYY-MM-DD`; else the upload's `date` metadata.
    sitting_date: Option<String>,
    agenda_item: Option<String>,
    model: Option<String>,
    language: Option<String>,
    prompt: Option<String>,
    channels: Option<String>,
}

/// What `POST /api/jobs` answers: `added` (201), or, when the work exists
/// already (200), `duplicate` with that job or `in_record` with the
/// session of the same audio.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub(crate) enum Submitted {
    Added { job: Job },
    Duplicate { job: Job },
    InRecord { session_id: i64 },
}

fn submitter(viewer: &Viewer) -> Result<User, ApiError> {
    viewer.require(Role::Stenographer).cloned()
}

/// Whether `user` may cancel or retry `job`: its submitter, or an editor
/// or above.
fn may_change(user: &User, job: &Job) -> Result<(), ApiError> {
    if user.role >= Role::Editor || job.submitted_by.as_deref() == Some(user.name.as_str()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "job {} was submitted by someone else: an editor may change it",
            job.id
        )))
    }
}

/// Non-empty, trimmed.
fn given(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

pub(crate) async fn submit(
    State(jobs): State<Jobs>,
    Extension(viewer): Extension<Viewer>,
    ApiJson(body): ApiJson<Submit>,
) -> Result<Response, ApiError> {
    let user = submitter(&viewer)?;
    let store = jobs.uploads.clone();
    let id = body.upload_id.clone();
    let upload = tokio::task::spawn_blocking(move || store.get(&id))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?
        .filter(|u| u.owner == user.name || user.role >= Role::Admin)
        .ok_or_else(|| ApiError::NotFound(format!("no upload {}", body.upload_id)))?;
    let Some(finished) = upload.finished.clone() else {
        return Err(ApiError::Clash(format!(
            "upload {} is not finished: send the rest of the file first",
            upload.id
        )));
    };
    let name = upload
        .metadata
        .get("filename")
        .cloned()
        .unwrap_or_else(|| upload.id.clone());
    let Some(_format) = finished.format.as_deref() else {
        return Err(ApiError::BadRequest(format!(
            "{name} is not an audio file (its first bytes name no audio container: WAV, \
             FLAC, MP3, Ogg, MP4/M4A, Matroska/WebM, AIFF); nothing to transcribe"
        )));
    };
    let file = finished
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| ApiError::internal("a stored upload has no file name"))?
        .to_owned();
    let new = NewJob {
        audio: JobAudio {
            sha256: finished.sha256,
            name,
            bytes: upload.length,
            path: file,
        },
        settings: JobSettings {
            model: given(body.model).unwrap_or_else(|| DEFAULT_MODEL.to_owned()),
            // Vietnamese unless asked otherwise ("auto" detects), as
            // `tocky transcribe` and /v1 do: an upload page sends none.
            language: Some(given(body.language).unwrap_or_else(|| "vi".to_owned())),
            prompt: given(body.prompt),
            channels: given(body.channels).unwrap_or_else(|| "downmix".to_owned()),
        },
        meta: SessionMeta {
            title: given(body.title).or_else(|| given(upload.metadata.get("title").cloned())),
            sitting_date: given(body.sitting_date)
                .or_else(|| given(upload.metadata.get("date").cloned())),
            agenda_item: given(body.agenda_item),
        },
        priority: PRIORITY_BATCH,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
        submitted_by: Some(user.name.clone()),
    };
    let added = jobs
        .app
        .with_store(move |store, _| Ok(store.add_job(&new)?))
        .await?;
    Ok(match added {
        JobAdded::Added(job) => (StatusCode::CREATED, axum::Json(Submitted::Added { job })),
        JobAdded::Duplicate(job) => (StatusCode::OK, axum::Json(Submitted::Duplicate { job })),
        JobAdded::InRecord { session_id } => (
            StatusCode::OK,
            axum::Json(Submitted::InRecord { session_id }),
        ),
    }
    .into_response())
}

/// `GET /api/jobs` filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    state: Option<String>,
    /// Only the asker's own jobs.
    #[serde(default)]
    mine: bool,
    limit: Option<usize>,
}

pub(crate) async fn list(
    State(jobs): State<Jobs>,
    Extension(viewer): Extension<Viewer>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<axum::Json<Vec<Job>>, ApiError> {
    let user = submitter(&viewer)?;
    let state = query
        .state
        .as_deref()
        .map(|s| {
            JobState::parse(s).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "state is queued, running, done, failed or cancelled, not {s:?}"
                ))
            })
        })
        .transpose()?;
    let filter = JobFilter {
        state,
        submitted_by: query.mine.then(|| user.name.clone()),
        limit: Some(query.limit.unwrap_or(100).clamp(1, MAX_LIST)),
    };
    let list = jobs
        .app
        .with_store(move |store, _| Ok(store.jobs(&filter)?))
        .await?;
    Ok(axum::Json(list))
}

pub(crate) async fn one(
    State(jobs): State<Jobs>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<Job>, ApiError> {
    submitter(&viewer)?;
    let job = jobs
        .app
        .with_store(move |store, _| Ok(store.job(id)?))
        .await?;
    Ok(axum::Json(job))
}

/// Cancel or retry.
async fn change(
    jobs: &Jobs,
    viewer: &Viewer,
    id: i64,
    retry: bool,
) -> Result<axum::Json<Job>, ApiError> {
    let user = submitter(viewer)?;
    let job = jobs
        .app
        .with_store(move |store, _| {
            let job = store.job(id)?;
            may_change(&user, &job)?;
            Ok(if retry {
                store.retry_job(id, &user.name)?
            } else {
                store.cancel_job(id, &user.name)?
            })
        })
        .await?;
    Ok(axum::Json(job))
}

pub(crate) async fn cancel(
    State(jobs): State<Jobs>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<Job>, ApiError> {
    change(&jobs, &viewer, id, false).await
}

pub(crate) async fn retry(
    State(jobs): State<Jobs>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<Job>, ApiError> {
    change(&jobs, &viewer, id, true).await
}
