//! The tus routes under `/api/uploads`, and `GET /api/uploads/{id}` (what
//! became of an upload: its hash, its format, a session of the same audio).
//!
//! Every route needs a stenographer or above; the state-changing ones
//! (POST, PATCH, DELETE) carry the login's CSRF token like every other
//! (`auth::authenticate` checks it before these run). An upload is seen
//! only by its owner and admins: to anyone else it does not exist (404).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;
use tocky_store::{Role, User};
use tokio::io::AsyncWriteExt;

use super::protocol::{self, TUS_VERSION, UPLOAD_LENGTH, UPLOAD_OFFSET};
use super::store::{Hold, Upload, UploadStore};
use crate::ApiPath;
use crate::auth::{Viewer, unix_now};
use crate::error::ApiError;
use crate::state::AppState;

/// What the upload routes share: the app, and the uploads on disk.
#[derive(Clone)]
pub(crate) struct Uploads {
    pub(crate) app: AppState,
    pub(crate) store: UploadStore,
}

/// The account, a stenographer or above.
fn uploader(viewer: &Viewer) -> Result<&User, ApiError> {
    viewer.require(Role::Stenographer)
}

/// 412 for a client that does not speak tus 1.0.0.
fn refuse_version(headers: &HeaderMap) -> Option<Response> {
    if protocol::speaks_our_version(headers) {
        return None;
    }
    let mut response = (
        StatusCode::PRECONDITION_FAILED,
        Json(json!({ "error": format!("send Tus-Resumable: {TUS_VERSION}") })),
    )
        .into_response();
    response.headers_mut().insert(
        protocol::TUS_VERSION_HEADER,
        HeaderValue::from_static(TUS_VERSION),
    );
    Some(response)
}

fn number_header(n: u64) -> HeaderValue {
    HeaderValue::from(n)
}

/// The upload `id` as `user` may see it: 404 when there is none, or it is
/// someone else's (an admin sees all).
async fn find(uploads: &Uploads, id: &str, user: &User) -> Result<Upload, ApiError> {
    let store = uploads.store.clone();
    let owned = id.to_owned();
    let found = tokio::task::spawn_blocking(move || store.get(&owned))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    found
        .filter(|u| u.owner == user.name || user.role >= Role::Admin)
        .ok_or_else(|| ApiError::NotFound(format!("no upload {id}")))
}

async fn offset_of(uploads: &Uploads, upload: &Upload) -> Result<u64, ApiError> {
    let (store, upload) = (uploads.store.clone(), upload.clone());
    tokio::task::spawn_blocking(move || store.offset(&upload))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

async fn audit(uploads: &Uploads, actor: &str, action: &'static str, id: &str, detail: String) {
    let (actor, subject) = (actor.to_owned(), format!("upload {id}"));
    let logged = uploads
        .app
        .with_store(move |store, _| Ok(store.audit(&actor, action, &subject, &detail)?))
        .await;
    if let Err(e) = logged {
        tracing::error!("audit of {action} failed: {e}");
    }
}

/// `OPTIONS /api/uploads`: what this server speaks.
pub(crate) async fn options(
    State(uploads): State<Uploads>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, ApiError> {
    uploader(&viewer)?;
    let max = uploads.app.config().limits.max_upload_bytes;
    Ok((
        StatusCode::NO_CONTENT,
        [
            (
                protocol::TUS_VERSION_HEADER,
                HeaderValue::from_static(TUS_VERSION),
            ),
            (
                protocol::TUS_EXTENSION,
                HeaderValue::from_static(protocol::TUS_EXTENSIONS),
            ),
            (protocol::TUS_MAX_SIZE, number_header(max)),
        ],
    )
        .into_response())
}

/// `POST /api/uploads`: creates an upload of `Upload-Length` bytes.
pub(crate) async fn create(
    State(uploads): State<Uploads>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = uploader(&viewer)?.clone();
    if let Some(refused) = refuse_version(&headers) {
        return Ok(refused);
    }
    let limits = &uploads.app.config().limits;
    if headers.contains_key("upload-defer-length") {
        return Err(ApiError::BadRequest(
            "Upload-Defer-Length is not supported: send Upload-Length".into(),
        ));
    }
    let length = protocol::number(&headers, &UPLOAD_LENGTH)?
        .ok_or_else(|| ApiError::BadRequest("Upload-Length is required".into()))?;
    if length == 0 {
        return Err(ApiError::BadRequest(
            "the file is empty: there is no audio to upload".into(),
        ));
    }
    if length > limits.max_upload_bytes {
        return Ok((
            StatusCode::PAYLOAD_TOO_LARGE,
            [(
                protocol::TUS_MAX_SIZE,
                number_header(limits.max_upload_bytes),
            )],
            Json(json!({
                "error": format!(
                    "the file is {length} bytes; uploads may be at most {} bytes",
                    limits.max_upload_bytes
                )
            })),
        )
            .into_response());
    }
    let metadata = protocol::metadata(&headers)?;
    let max_open = limits.max_open_uploads_per_user;
    let store = uploads.store.clone();
    let owner = user.name.clone();
    let created = tokio::task::spawn_blocking(move || {
        if store.open_count(&owner)? >= max_open {
            return Ok(None);
        }
        store.create(&owner, length, metadata, unix_now()).map(Some)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?
    .ok_or_else(|| {
        ApiError::Clash(format!(
            "{} has {max_open} unfinished uploads already: finish or cancel one first",
            user.name
        ))
    })?;
    let name = created
        .metadata
        .get("filename")
        .cloned()
        .unwrap_or_default();
    audit(
        &uploads,
        &user.name,
        "upload_created",
        &created.id,
        format!("{name:?}, {length} bytes"),
    )
    .await;
    let location = HeaderValue::from_str(&format!("/api/uploads/{}", created.id))
        .map_err(ApiError::internal)?;
    Ok((
        StatusCode::CREATED,
        [
            (header::LOCATION, location),
            (UPLOAD_OFFSET, number_header(0)),
        ],
    )
        .into_response())
}

/// `HEAD /api/uploads/{id}`: how many bytes are on disk.
pub(crate) async fn head(
    State(uploads): State<Uploads>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = uploader(&viewer)?.clone();
    if let Some(refused) = refuse_version(&headers) {
        return Ok(refused);
    }
    let upload = find(&uploads, &id, &user).await?;
    let offset = offset_of(&uploads, &upload).await?;
    resume_finishing(&uploads, &upload, offset);
    Ok((
        StatusCode::OK,
        [
            (UPLOAD_OFFSET, number_header(offset)),
            (UPLOAD_LENGTH, number_header(upload.length)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response())
}

/// `PATCH /api/uploads/{id}`: appends the body at `Upload-Offset`,
/// streamed to disk and fsynced before the new offset is answered.
pub(crate) async fn patch(
    State(uploads): State<Uploads>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let user = uploader(&viewer)?.clone();
    if let Some(refused) = refuse_version(&headers) {
        return Ok(refused);
    }
    if !protocol::is_offset_stream(&headers) {
        return Ok((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Json(json!({
                "error": format!("a PATCH carries Content-Type: {}", protocol::OFFSET_OCTET_STREAM)
            })),
        )
            .into_response());
    }
    let claimed = protocol::number(&headers, &UPLOAD_OFFSET)?
        .ok_or_else(|| ApiError::BadRequest("Upload-Offset is required".into()))?;
    let upload = find(&uploads, &id, &user).await?;
    let Some(hold) = uploads.store.hold(&upload.id) else {
        return Err(ApiError::Clash(
            "another request is writing this upload; ask HEAD for the offset and resume".into(),
        ));
    };
    let offset = offset_of(&uploads, &upload).await?;
    if claimed != offset {
        return Ok((
            StatusCode::CONFLICT,
            [(UPLOAD_OFFSET, number_header(offset))],
            Json(json!({
                "error": format!("Upload-Offset is {claimed}, but the server has {offset} bytes")
            })),
        )
            .into_response());
    }
    // The writing runs in its own task, holding the upload: if this
    // request is dropped (the request timeout), no second writer can start
    // until every write already begun has landed and been fsynced.
    let (store, task_upload) = (uploads.store.clone(), upload.clone());
    let (written, hold) = tokio::spawn(async move {
        let written = if offset < task_upload.length {
            append(&store, &task_upload, offset, body).await
        } else {
            Ok(offset)
        };
        (written, hold)
    })
    .await
    .map_err(ApiError::internal)?;
    let written = written?;
    if written == upload.length && upload.finished.is_none() {
        spawn_finish(&uploads, upload.clone(), hold, user.name.clone());
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(UPLOAD_OFFSET, number_header(written))],
    )
        .into_response())
}

/// Streams `body` onto the part file, at most up to the upload's length,
/// and fsyncs; answers the offset now on disk. A body that goes past the
/// length is refused once the bytes that fit are stored.
async fn append(
    store: &UploadStore,
    upload: &Upload,
    offset: u64,
    body: Body,
) -> Result<u64, ApiError> {
    let mut file = tokio::fs::OpenOptions::new()
        .append(true)
        .open(store.part_path(&upload.id))
        .await
        .map_err(ApiError::internal)?;
    let mut room = upload.length - offset;
    let mut stream = body.into_data_stream();
    let mut failure = None;
    while let Some(frame) = stream.next().await {
        let bytes = match frame {
            Ok(bytes) => bytes,
            // The client went away: keep what came.
            Err(e) => {
                failure = Some(ApiError::BadRequest(format!("the body broke off: {e}")));
                break;
            }
        };
        let fits = bytes.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if let Err(e) = file.write_all(&bytes[..fits]).await {
            failure = Some(ApiError::internal(e));
            break;
        }
        room -= fits as u64;
        if fits < bytes.len() {
            failure = Some(ApiError::BadRequest(format!(
                "the body goes past Upload-Length ({} bytes)",
                upload.length
            )));
            break;
        }
    }
    file.sync_data().await.map_err(ApiError::internal)?;
    match failure {
        Some(e) => Err(e),
        None => Ok(upload.length - room),
    }
}

/// Hashes and stores a complete upload in the background (a multi-GB
/// file takes longer than a request may), holding it meanwhile.
fn spawn_finish(uploads: &Uploads, upload: Upload, hold: Hold, actor: String) {
    let uploads = uploads.clone();
    tokio::spawn(async move {
        let _hold = hold;
        let store = uploads.store.clone();
        let id = upload.id.clone();
        match tokio::task::spawn_blocking(move || store.finish(upload)).await {
            Ok(Ok(done)) => {
                let detail = done.finished.as_ref().map_or_else(String::new, |f| {
                    format!(
                        "sha256 {}, {}{}",
                        f.sha256,
                        f.format.as_deref().unwrap_or("not audio"),
                        if f.duplicate { ", duplicate" } else { "" }
                    )
                });
                audit(&uploads, &actor, "upload_finished", &id, detail).await;
            }
            Ok(Err(e)) => tracing::error!("storing upload {id} failed: {e}"),
            Err(e) => tracing::error!("storing upload {id} panicked: {e}"),
        }
    });
}

/// A complete upload whose storing was cut off (the server stopped) is
/// stored again when asked about.
fn resume_finishing(uploads: &Uploads, upload: &Upload, offset: u64) {
    if upload.finished.is_none()
        && offset == upload.length
        && let Some(hold) = uploads.store.hold(&upload.id)
    {
        spawn_finish(uploads, upload.clone(), hold, upload.owner.clone());
    }
}

/// `DELETE /api/uploads/{id}` (tus termination): cancels an upload.
pub(crate) async fn delete(
    State(uploads): State<Uploads>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = uploader(&viewer)?.clone();
    if let Some(refused) = refuse_version(&headers) {
        return Ok(refused);
    }
    let upload = find(&uploads, &id, &user).await?;
    let Some(hold) = uploads.store.hold(&upload.id) else {
        return Err(ApiError::Clash(
            "another request is writing this upload; try again".into(),
        ));
    };
    let store = uploads.store.clone();
    let gone = upload.id.clone();
    tokio::task::spawn_blocking(move || {
        let _hold = hold;
        store.remove(&gone)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    audit(
        &uploads,
        &user.name,
        "upload_deleted",
        &upload.id,
        String::new(),
    )
    .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// What `GET /api/uploads/{id}` answers.
#[derive(Debug, Serialize)]
pub(crate) struct UploadInfo {
    id: String,
    owner: String,
    length: u64,
    offset: u64,
    metadata: std::collections::BTreeMap<String, String>,
    /// `uploading`, `storing` (every byte is in; being hashed and moved)
    /// or `done`.
    state: &'static str,
    sha256: Option<String>,
    /// The audio container, or `None` for a file that is not audio.
    format: Option<String>,
    /// Whether the same file had been uploaded before.
    duplicate: bool,
    /// A session of the same audio, when the record has one.
    session_id: Option<i64>,
}

/// `GET /api/uploads/{id}`.
pub(crate) async fn info(
    State(uploads): State<Uploads>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<UploadInfo>, ApiError> {
    let user = uploader(&viewer)?.clone();
    let upload = find(&uploads, &id, &user).await?;
    let offset = offset_of(&uploads, &upload).await?;
    resume_finishing(&uploads, &upload, offset);
    let finished = upload.finished.clone();
    let session_id = match &finished {
        Some(f) => {
            let sha = f.sha256.clone();
            uploads
                .app
                .with_store(move |store, _| {
                    Ok(store
                        .sessions()?
                        .into_iter()
                        .find(|s| s.audio_sha256.as_deref() == Some(sha.as_str()))
                        .map(|s| s.id))
                })
                .await?
        }
        None => None,
    };
    let state = match (&finished, offset == upload.length) {
        (Some(_), _) => "done",
        (None, true) => "storing",
        (None, false) => "uploading",
    };
    Ok(Json(UploadInfo {
        id: upload.id,
        owner: upload.owner,
        length: upload.length,
        offset,
        metadata: upload.metadata,
        state,
        sha256: finished.as_ref().map(|f| f.sha256.clone()),
        format: finished.as_ref().and_then(|f| f.format.clone()),
        duplicate: finished.as_ref().is_some_and(|f| f.duplicate),
        session_id,
    }))
}
