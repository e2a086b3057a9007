//! The record's routes: sessions, segments, speakers, revisions and search.
//!
//! A login (reader and above) reads the working record. A visitor let in
//! by `public_read` reads published material only: the published
//! sittings in the list, a published sitting with its published speakers,
//! and search over the text as published; segments and revisions (drafts)
//! need a login.

use std::collections::HashMap;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use tocky_index::jump::{HitSegment, jump_ms};
use tocky_index::{SearchIndex, SearchQuery};
use tocky_store::published::{PublishedScope, PublishedVersion};
use tocky_store::{
    PublishedRecord, ReviewStatus, Revision, Role, SegmentEdit, Session, SessionSummary, Speaker,
    Store, StoredSegment, VersionState,
};

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::live::{LiveEvent, LiveMessage};
use crate::state::AppState;
use crate::{ApiJson, ApiPath, ApiQuery};

pub(crate) async fn sessions(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Json<Vec<SessionSummary>>, ApiError> {
    viewer.require_public()?;
    let drafts = viewer.sees_drafts();
    let list = state
        .with_store(move |store, _| {
            let list = store.session_summaries()?;
            if drafts {
                return Ok(list);
            }
            // Without a login: the published sittings only, each as its
            // latest version has it (not the working record's state).
            let published: HashMap<i64, PublishedVersion> = store
                .published_versions(PublishedScope::Latest, usize::MAX)?
                .into_iter()
                .map(|v| (v.session_id, v))
                .collect();
            Ok(list
                .into_iter()
                .filter_map(|s| {
                    let version = published.get(&s.session.id)?;
                    let mut session = s.session;
                    session.status = "published".into();
                    session.workflow = workflow_of(version.state).into();
                    Some(SessionSummary {
                        session,
                        segment_count: version.segment_count,
                        reviewed_count: version.segment_count,
                    })
                })
                .collect())
        })
        .await?;
    Ok(Json(list))
}

/// The workflow state a version's state stands for.
fn workflow_of(state: VersionState) -> &'static str {
    match state {
        VersionState::Final => "final",
        VersionState::Provisional => "published",
    }
}

/// `session` as a visitor sees it: its latest published version's title,
/// date, agenda item and audio, and that version's state as its
/// workflow, so that nothing of the working record (a title being edited,
/// a sitting sent back to draft, segments added) shows before it is
/// published; with the version's speakers. 404 when never published.
fn published_view(store: &Store, session: Session) -> Result<(Session, Vec<Speaker>), ApiError> {
    let number = crate::public::latest_number(store, session.id)?;
    let version = store.version(session.id, number)?;
    let record: PublishedRecord =
        serde_json::from_str(&version.content).map_err(ApiError::internal)?;
    let session = record
        .session
        .into_session(session.created_at, workflow_of(version.info.state));
    Ok((session, record.speakers))
}

/// `GET /api/sessions/{id}`.
#[derive(Debug, Serialize)]
pub(crate) struct SessionDetail {
    session: Session,
    speakers: Vec<Speaker>,
}

pub(crate) async fn session(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SessionDetail>, ApiError> {
    viewer.require_public()?;
    let drafts = viewer.sees_drafts();
    let detail = state
        .with_store(move |store, _| {
            let session = store.session(id)?;
            if drafts {
                let speakers = store.speakers(id)?;
                return Ok(SessionDetail { session, speakers });
            }
            // Without a login: a published sitting as its latest version
            // has it, with that version's speakers (not those added since).
            let (session, speakers) = published_view(store, session)?;
            Ok(SessionDetail { session, speakers })
        })
        .await?;
    Ok(Json(detail))
}

pub(crate) async fn segments(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<StoredSegment>>, ApiError> {
    viewer.require_read()?;
    let list = state
        .with_store(move |store, _| Ok(store.segments(id)?))
        .await?;
    Ok(Json(list))
}

/// `POST /api/sessions/{id}/speakers`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSpeaker {
    name: String,
    #[serde(default)]
    seat: Option<String>,
}

pub(crate) async fn add_speaker(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(session_id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewSpeaker>,
) -> Result<(StatusCode, Json<Speaker>), ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    let speaker = state
        .with_store(move |store, _| {
            Ok(store.add_speaker_as(session_id, &body.name, body.seat.as_deref(), &user)?)
        })
        .await?;
    state.publish(LiveEvent::new(
        session_id,
        &LiveMessage::Speaker { speaker: &speaker },
    ));
    Ok((StatusCode::CREATED, Json(speaker)))
}

/// Deserialises a field that may be absent (keep), null (clear) or a value.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// `PATCH /api/segments/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SegmentPatch {
    version: i64,
    #[serde(default)]
    text: Option<String>,
    #[serde(default, deserialize_with = "present")]
    speaker_id: Option<Option<i64>>,
    #[serde(default)]
    review_status: Option<ReviewStatus>,
}

pub(crate) async fn edit_segment(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<SegmentPatch>,
) -> Result<Json<StoredSegment>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    if let Some(text) = &patch.text {
        crate::ops::check_text(&state, text)?;
    }
    let edit = SegmentEdit {
        text: patch.text,
        speaker_id: patch.speaker_id,
        review_status: patch.review_status,
    };
    let segment = state
        .with_store(move |store, index| {
            let segment = store.edit_segment(id, patch.version, &edit, &user)?;
            reindex(store, index, id);
            Ok(segment)
        })
        .await?;
    saved(&state, &segment);
    Ok(Json(segment))
}

/// Re-indexes a segment whose edit is committed. The edit stands whatever
/// happens here, so a failure is logged rather than answered (answering an
/// error would tell the stenographer that a saved correction was not saved,
/// and keep it from the live clients). The index lags the store's
/// generation then, so the next start rebuilds it.
fn reindex(store: &Store, index: &SearchIndex, id: i64) {
    if let Err(e) = index.update(store, None, Some(id)) {
        tracing::error!("segment {id} was saved but not re-indexed: {e}");
    }
}

/// Tells the metrics and the live clients about a saved segment.
fn saved(state: &AppState, segment: &StoredSegment) {
    state.metrics().edit_saved();
    if !segment.words_aligned {
        state.retime_wanted().notify_one();
    }
    state.publish(LiveEvent::new(
        segment.session_id,
        &LiveMessage::Segment { segment },
    ));
}

pub(crate) async fn revisions(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<Revision>>, ApiError> {
    // Revisions hold drafts: a login's only, whatever `public_read` says.
    viewer.require_read()?;
    let list = state
        .with_store(move |store, _| Ok(store.revisions(id)?))
        .await?;
    Ok(Json(list))
}

/// `POST /api/segments/{id}/restore`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RestoreRequest {
    revision_id: i64,
    version: i64,
}

pub(crate) async fn restore(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RestoreRequest>,
) -> Result<Json<StoredSegment>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    let (segment, operation) = state
        .with_store(move |store, index| {
            let revision = store
                .revisions(id)?
                .into_iter()
                .find(|r| r.id == body.revision_id)
                .ok_or(tocky_store::Error::UnknownRevision {
                    segment: id,
                    revision: body.revision_id,
                })?;
            // A revision made by an operation (a split, a merge …) is
            // restored by undoing that operation as a whole.
            let operation = match revision.operation_id {
                Some(op) => {
                    let current = store.segment(id)?;
                    if current.version != body.version {
                        return Err(tocky_store::Error::Conflict {
                            current: Box::new(current),
                        }
                        .into());
                    }
                    Some(store.undo_operation(op, &user)?)
                }
                None => {
                    store.restore_revision(id, body.revision_id, body.version, &user)?;
                    None
                }
            };
            reindex(store, index, id);
            Ok((store.segment(id)?, operation))
        })
        .await?;
    match &operation {
        Some(outcome) => crate::ops::published(&state, "undo", outcome),
        None => saved(&state, &segment),
    }
    Ok(Json(segment))
}

/// The longest search text, in bytes.
const MAX_QUERY_BYTES: usize = 1024;

/// `GET /api/search` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchParams {
    q: String,
    session: Option<i64>,
    speaker: Option<i64>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
    /// Only the text as published (each sitting's latest version); always
    /// so without a login.
    #[serde(default)]
    published: bool,
}

/// One search result, with what the UI shows beside it.
#[derive(Debug, Serialize)]
pub(crate) struct SearchHit {
    segment_id: i64,
    session_id: i64,
    session_title: String,
    sitting_date: Option<String>,
    speaker_id: Option<i64>,
    start_ms: i64,
    /// Where the match is said (the start of its first word), inside the
    /// segment; the segment's start when its words do not tell.
    jump_ms: i64,
    score: f32,
    text: String,
    /// Escaped by the index; matches in `<b>`.
    snippet_html: String,
    /// The published version the hit is in (`published=true` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
    /// The speech it is in, on the version's page (`#s{speech}`;
    /// `published=true` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    speech: Option<i64>,
}

/// `GET /api/search` answer.
#[derive(Debug, Serialize)]
pub(crate) struct SearchResults {
    hits: Vec<SearchHit>,
}

fn check_date(date: Option<String>) -> Result<Option<String>, ApiError> {
    let date = date.filter(|d| !d.is_empty());
    if let Some(d) = &date {
        tocky_core::transcript::check_date(d).map_err(ApiError::BadRequest)?;
    }
    Ok(date)
}

pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<SearchResults>, ApiError> {
    viewer.require_public()?;
    let published = params.published || !viewer.sees_drafts();
    if params.q.trim().is_empty() {
        return Err(ApiError::BadRequest("type something to search for".into()));
    }
    if params.q.len() > MAX_QUERY_BYTES {
        return Err(ApiError::BadRequest(format!(
            "a search has at most {MAX_QUERY_BYTES} bytes"
        )));
    }
    let max = state.config().limits.max_search_results;
    let query = SearchQuery {
        text: params.q,
        session_id: params.session,
        speaker_id: params.speaker,
        from: check_date(params.from)?,
        to: check_date(params.to)?,
        limit: params.limit.unwrap_or(50).clamp(1, max.max(1)),
        published,
    };
    let hits = state
        .with_store(move |store, index| {
            if published {
                // Versions published since the last published search.
                index.sync_published(store)?;
            }
            let hits = index.search(&query)?;
            let typed = query.text.as_str();
            // Only the sessions the hits are in, each read once.
            let mut sessions = std::collections::HashMap::new();
            let mut out = Vec::with_capacity(hits.len());
            for hit in hits {
                let session = sessions
                    .entry(hit.session_id)
                    .or_insert_with(|| store.session(hit.session_id).ok())
                    .as_ref();
                let (speaker_id, jump_ms) = if hit.version.is_some() {
                    // Published text: what the version says, never the
                    // working segment (which may have changed since).
                    (hit.speaker_id, hit.start_ms)
                } else {
                    // The index may trail a deletion by a moment: skip what
                    // is gone.
                    let Ok(segment) = store.segment(hit.segment_id) else {
                        continue;
                    };
                    // Word times only where they follow the corrected text.
                    let jump_ms = i64::try_from(jump_ms(
                        typed,
                        HitSegment {
                            text: &segment.text,
                            words: &segment.words,
                            words_aligned: segment.words_aligned,
                            start_ms: u64::try_from(segment.start_ms).unwrap_or(0),
                            end_ms: u64::try_from(segment.end_ms).unwrap_or(0),
                        },
                    ))
                    .unwrap_or(hit.start_ms);
                    (segment.speaker_id, jump_ms)
                };
                out.push(SearchHit {
                    segment_id: hit.segment_id,
                    session_id: hit.session_id,
                    session_title: session.map(|s| s.title.clone()).unwrap_or_default(),
                    sitting_date: session.and_then(|s| s.sitting_date.clone()),
                    speaker_id,
                    start_ms: hit.start_ms,
                    jump_ms,
                    score: hit.score,
                    text: hit.text,
                    snippet_html: hit.snippet_html,
                    // The working layer has neither.
                    version: hit.version,
                    speech: hit.speech,
                });
            }
            Ok(out)
        })
        .await?;
    Ok(Json(SearchResults { hits }))
}
