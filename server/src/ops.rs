//! The segment operations' routes: split, merge, insert, not speech,
//! bounds, undo, and a session's list of operations. Each answers what
//! the operation wrote and publishes it to the session's live clients.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tocky_core::Word;
use tocky_core::text::nfc;
use tocky_index::SearchIndex;
use tocky_store::ops::Operation;
use tocky_store::{NewSegment, OperationOutcome, Role, SegmentState, SplitAt, Store};

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::live::{LiveEvent, LiveMessage};
use crate::state::AppState;
use crate::{ApiJson, ApiPath, ApiQuery};

/// `POST /api/segments/{id}/split`: `at` is `{"char": n}` (a caret) or
/// `{"word": n}` (before a word).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SplitRequest {
    version: i64,
    at: SplitAt,
}

pub(crate) async fn split(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SplitRequest>,
) -> Result<Json<OperationOutcome>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    run(&state, "split", move |store| {
        Ok(store.split_segment(id, body.version, body.at, &user)?)
    })
    .await
}

/// `POST /api/segments/{id}/merge`: with the next segment, named and
/// versioned so that a merge never takes in a segment the editor has not seen.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergeRequest {
    version: i64,
    next_id: i64,
    next_version: i64,
}

pub(crate) async fn merge(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<MergeRequest>,
) -> Result<Json<OperationOutcome>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    run(&state, "merge", move |store| {
        Ok(store.merge_with_next(id, body.version, body.next_id, body.next_version, &user)?)
    })
    .await
}

/// `POST /api/sessions/{id}/segments`: a segment for a time range that has
/// none. `words` are the timed words of a recognised text
/// (`POST /api/sessions/{id}/recognise`): kept when the text is still
/// theirs, so that they are not re-timed; dropped when it was corrected
/// (the re-timer then times the new text).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InsertRequest {
    start_ms: i64,
    end_ms: i64,
    #[serde(default)]
    text: String,
    #[serde(default)]
    speaker_id: Option<i64>,
    #[serde(default)]
    words: Option<Vec<Word>>,
}

pub(crate) async fn insert(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(session_id): ApiPath<i64>,
    ApiJson(body): ApiJson<InsertRequest>,
) -> Result<(StatusCode, Json<OperationOutcome>), ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    check_text(&state, &body.text)?;
    let words = match body.words {
        Some(words) => kept_words(words, &body.text, body.start_ms, body.end_ms)?,
        None => None,
    };
    let new = NewSegment {
        start_ms: body.start_ms,
        end_ms: body.end_ms,
        text: body.text,
        speaker_id: body.speaker_id,
    };
    // The words go in with the segment, in one transaction: a reader (or
    // the live message) never sees the insert without them.
    let outcome = run(&state, "insert", move |store| {
        let words = words.unwrap_or_default();
        Ok(store.insert_segment_with_words(session_id, &new, &words, &user)?)
    })
    .await?;
    Ok((StatusCode::CREATED, outcome))
}

/// The recognised words an insert keeps: those of `text` exactly (NFC,
/// split at white space), else none. Words outside the range, out of
/// order or without length are refused: they come from the recogniser,
/// which never makes them.
fn kept_words(
    words: Vec<Word>,
    text: &str,
    start_ms: i64,
    end_ms: i64,
) -> Result<Option<Vec<Word>>, ApiError> {
    let mut floor = u64::try_from(start_ms).unwrap_or(0);
    let end = u64::try_from(end_ms).unwrap_or(0);
    for w in &words {
        if w.start_ms < floor || w.end_ms <= w.start_ms || w.end_ms > end {
            return Err(ApiError::BadRequest(format!(
                "word {:?} ({}–{} ms) is not inside {start_ms}–{end_ms} ms after the word before it",
                w.text, w.start_ms, w.end_ms
            )));
        }
        floor = w.end_ms;
    }
    let text = nfc(text.trim());
    let same = words
        .iter()
        .map(|w| nfc(w.text.trim()))
        .eq(text.split_whitespace().map(str::to_owned));
    Ok((same && !words.is_empty()).then_some(words))
}

/// `POST /api/segments/{id}/state`: `speech` or `not_speech`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateRequest {
    version: i64,
    state: SegmentState,
}

pub(crate) async fn set_state(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StateRequest>,
) -> Result<Json<OperationOutcome>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    run(&state, "state", move |store| {
        Ok(store.set_segment_state(id, body.version, body.state, &user)?)
    })
    .await
}

/// `POST /api/segments/{id}/bounds`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BoundsRequest {
    version: i64,
    start_ms: i64,
    end_ms: i64,
}

pub(crate) async fn bounds(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<BoundsRequest>,
) -> Result<Json<OperationOutcome>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    run(&state, "bounds", move |store| {
        Ok(store.move_bounds(id, body.version, body.start_ms, body.end_ms, &user)?)
    })
    .await
}

/// `POST /api/operations/{id}/undo`: 409 with the reason when a row it
/// wrote has changed since.
pub(crate) async fn undo(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<OperationOutcome>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    let (outcome, record_events) = state
        .with_store(move |store, index| {
            let outcome = store.undo_operation(id, &user)?;
            reindex(store, index, &outcome);
            // An agenda or note change comes back as rows of those kinds.
            let events = crate::agenda::operation_events(store, outcome.operation_id);
            Ok((outcome, events))
        })
        .await?;
    published(&state, "undo", &outcome);
    for event in record_events {
        state.publish(event);
    }
    Ok(Json(outcome))
}

/// `GET /api/sessions/{id}/operations` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OperationsParams {
    limit: Option<usize>,
}

/// `GET /api/sessions/{id}/operations`: newest first.
pub(crate) async fn operations(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(session_id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<OperationsParams>,
) -> Result<Json<Vec<Operation>>, ApiError> {
    viewer.require(Role::Stenographer)?;
    let limit = params.limit.unwrap_or(50).min(500);
    let list = state
        .with_store(move |store, _| {
            store.session(session_id)?;
            Ok(store.operations(session_id, limit)?)
        })
        .await?;
    Ok(Json(list))
}

/// Refuses a segment text over the configured size.
pub(crate) fn check_text(state: &AppState, text: &str) -> Result<(), ApiError> {
    let max = state.config().limits.max_text_bytes;
    if text.len() > max {
        return Err(ApiError::BadRequest(format!(
            "a segment's text has at most {max} bytes"
        )));
    }
    Ok(())
}

/// Runs an operation on the store, keeps search current, and tells the
/// live clients. The index follows the store's generation, so one update
/// takes in every segment the operation wrote.
pub(crate) async fn run<F>(
    state: &AppState,
    kind: &'static str,
    f: F,
) -> Result<Json<OperationOutcome>, ApiError>
where
    F: FnOnce(&mut Store) -> Result<OperationOutcome, ApiError> + Send + 'static,
{
    let outcome = state
        .with_store(move |store, index| {
            let outcome = f(store)?;
            reindex(store, index, &outcome);
            Ok(outcome)
        })
        .await?;
    published(state, kind, &outcome);
    Ok(Json(outcome))
}

/// Like an edit's, a failed index update is logged, not answered: the
/// operation stands, and the index catches up by generation.
fn reindex(store: &Store, index: &SearchIndex, outcome: &OperationOutcome) {
    let Some(first) = outcome.segments.first() else {
        return;
    };
    if let Err(e) = index.update(store, None, Some(first.id)) {
        tracing::error!(
            "operation {} was saved but not re-indexed: {e}",
            outcome.operation_id
        );
    }
}

/// Tells the metrics and the session's live clients what an operation wrote.
pub(crate) fn published(state: &AppState, kind: &str, outcome: &OperationOutcome) {
    let Some(first) = outcome.segments.first() else {
        return;
    };
    state.metrics().edit_saved();
    if outcome.segments.iter().any(|s| !s.words_aligned) {
        state.retime_wanted().notify_one();
    }
    state.publish(LiveEvent::new(
        first.session_id,
        &LiveMessage::Operation {
            operation_id: outcome.operation_id,
            kind,
            segments: &outcome.segments,
        },
    ));
}
