//! The sitting's record: the derived record (agenda items, speeches, scene
//! notes), the agenda ("a new item starts here", a whole list, a start
//! cleared) and scene notes. Reading needs the reader role, changing the
//! stenographer's; each change is one store operation (undoable at
//! `POST /api/operations/{id}/undo`) and is published to the session's
//! live clients as an `agenda` or `note` message.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use tocky_store::{
    AgendaChange, AgendaEntry, AgendaItem, ItemStart, NoteChange, NoteEdit, Role, SceneKind,
    SceneNote, StartChange, Store,
};

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::live::LiveEvent;
use crate::state::AppState;
use crate::{ApiJson, ApiPath, ApiQuery};

/// The live messages of this module, beside `live::LiveMessage`'s.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum RecordMessage<'a> {
    /// The session's agenda changed: the whole of it, in order.
    Agenda {
        /// The operation that changed it.
        operation_id: Option<i64>,
        /// Every item.
        items: &'a [AgendaItem],
    },
    /// A scene note was added, changed or deleted.
    Note {
        /// The operation that changed it.
        operation_id: Option<i64>,
        /// The note as it is now (as it was, when deleted).
        note: &'a SceneNote,
        /// Whether it was deleted.
        deleted: bool,
    },
}

fn publish(state: &AppState, session_id: i64, message: &RecordMessage<'_>) {
    state.publish(live_event(session_id, message));
}

fn live_event(session_id: i64, message: &RecordMessage<'_>) -> LiveEvent {
    let json = serde_json::to_string(message).unwrap_or_else(|_| "{}".into());
    LiveEvent {
        session_id,
        json: json.into(),
    }
}

/// Publishes an agenda change, when anything changed.
fn agenda_changed(state: &AppState, session_id: i64, change: &AgendaChange) {
    if change.operation_id.is_some() {
        state.metrics().edit_saved();
        publish(
            state,
            session_id,
            &RecordMessage::Agenda {
                operation_id: change.operation_id,
                items: &change.items,
            },
        );
    }
}

fn note_changed(state: &AppState, change: &NoteChange, deleted: bool) {
    if change.operation_id.is_some() {
        state.metrics().edit_saved();
        publish(
            state,
            change.note.session_id,
            &RecordMessage::Note {
                operation_id: change.operation_id,
                note: &change.note,
                deleted,
            },
        );
    }
}

/// The live messages for the agenda items and notes that an operation
/// wrote (an undo or redo of an agenda or note change, whose outcome
/// lists only segments): the whole agenda when it touched any item, and
/// each note it wrote or deleted. Run on the store after the operation;
/// publish what it returns. A failure to read is logged, and nothing is
/// returned: the operation stands.
pub fn operation_events(store: &Store, operation_id: i64) -> Vec<LiveEvent> {
    let op = match store.operation(operation_id) {
        Ok(op) => op,
        Err(e) => {
            tracing::error!("operation {operation_id}: not published: {e}");
            return Vec::new();
        }
    };
    let event = |message: &RecordMessage<'_>| live_event(op.session_id, message);
    let mut events = Vec::new();
    if !op.before.agenda.is_empty() || !op.after.agenda.is_empty() {
        match store.agenda(op.session_id) {
            Ok(items) => events.push(event(&RecordMessage::Agenda {
                operation_id: Some(op.id),
                items: &items,
            })),
            Err(e) => tracing::error!("operation {operation_id}: agenda not published: {e}"),
        }
    }
    for note in &op.after.notes {
        events.push(event(&RecordMessage::Note {
            operation_id: Some(op.id),
            note,
            deleted: false,
        }));
    }
    for note in &op.before.notes {
        if !op.after.notes.iter().any(|n| n.id == note.id) {
            events.push(event(&RecordMessage::Note {
                operation_id: Some(op.id),
                note,
                deleted: true,
            }));
        }
    }
    events
}

/// `GET /api/sessions/{id}/record`: the record, derived now, with each of
/// its segments' written forms ([`crate::written`]).
pub(crate) async fn record(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<crate::written::RecordView>, ApiError> {
    viewer.require_read()?;
    let record = state
        .with_store(move |store, _| Ok(crate::written::record_view(store, id)?))
        .await?;
    Ok(Json(record))
}

/// `GET /api/sessions/{id}/agenda`: the items, in order.
pub(crate) async fn agenda(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<AgendaItem>>, ApiError> {
    viewer.require_read()?;
    let items = state
        .with_store(move |store, _| Ok(store.agenda(id)?))
        .await?;
    Ok(Json(items))
}

/// Deserialises a field that may be absent (keep), null (clear) or a value.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// One item of `PUT /api/sessions/{id}/agenda`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutItem {
    /// The item it is, when it exists; otherwise matched by title, then place.
    #[serde(default)]
    id: Option<i64>,
    /// The version of `id` the editor saw (checked when given).
    #[serde(default)]
    version: Option<i64>,
    title: String,
    #[serde(default)]
    reference: Option<String>,
    /// Absent: as it is; null: not started; a segment id: starts there.
    #[serde(default, deserialize_with = "present")]
    start_segment_id: Option<Option<i64>>,
}

/// `PUT /api/sessions/{id}/agenda`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutAgenda {
    items: Vec<PutItem>,
}

pub(crate) async fn put_agenda(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(session_id): ApiPath<i64>,
    ApiJson(body): ApiJson<PutAgenda>,
) -> Result<Json<AgendaChange>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    let entries: Vec<AgendaEntry> = body
        .items
        .into_iter()
        .map(|i| AgendaEntry {
            id: i.id,
            version: i.version,
            title: i.title,
            reference: i.reference,
            start: match i.start_segment_id {
                None => StartChange::Keep,
                Some(None) => StartChange::Clear,
                Some(Some(segment)) => StartChange::At(segment),
            },
        })
        .collect();
    let change = state
        .with_store(move |store, _| Ok(store.set_agenda(session_id, &entries, &user)?))
        .await?;
    agenda_changed(&state, session_id, &change);
    Ok(Json(change))
}

/// `POST /api/sessions/{id}/agenda/start`: "a new item starts here". With
/// `item_id` (and its `version`), that item starts here (moving its
/// start); with `title`, a new item does; with neither, the next item
/// waiting to start.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartRequest {
    segment_id: i64,
    #[serde(default)]
    item_id: Option<i64>,
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    reference: Option<String>,
}

pub(crate) async fn start(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(session_id): ApiPath<i64>,
    ApiJson(body): ApiJson<StartRequest>,
) -> Result<Json<AgendaChange>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    let target = match (body.item_id, body.title) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "name an item (item_id) or a new one (title), not both".into(),
            ));
        }
        (Some(id), None) => ItemStart::Item {
            id,
            version: body.version.ok_or_else(|| {
                ApiError::BadRequest("starting a named item needs its version".into())
            })?,
        },
        (None, Some(title)) => ItemStart::New {
            title,
            reference: body.reference,
        },
        (None, None) => ItemStart::Next,
    };
    let change = state
        .with_store(move |store, _| {
            Ok(store.start_agenda_item(session_id, body.segment_id, &target, &user)?)
        })
        .await?;
    agenda_changed(&state, session_id, &change);
    Ok(Json(change))
}

/// The version a `DELETE` names, in its query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VersionParam {
    version: i64,
}

/// `DELETE /api/agenda/{id}/start?version=N`: the item has not started.
pub(crate) async fn clear_start(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<VersionParam>,
) -> Result<Json<AgendaChange>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    let (session_id, change) = state
        .with_store(move |store, _| {
            let session_id = store.agenda_item(id)?.session_id;
            Ok((
                session_id,
                store.clear_agenda_start(id, params.version, &user)?,
            ))
        })
        .await?;
    agenda_changed(&state, session_id, &change);
    Ok(Json(change))
}

/// `GET /api/sessions/{id}/notes`: in time order.
pub(crate) async fn notes(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<SceneNote>>, ApiError> {
    viewer.require_read()?;
    let notes = state
        .with_store(move |store, _| Ok(store.notes(id)?))
        .await?;
    Ok(Json(notes))
}

/// `POST /api/sessions/{id}/notes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewNote {
    at_ms: i64,
    kind: SceneKind,
    #[serde(default)]
    text: String,
}

pub(crate) async fn add_note(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(session_id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewNote>,
) -> Result<(StatusCode, Json<NoteChange>), ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    let change = state
        .with_store(move |store, _| {
            Ok(store.add_note(session_id, body.at_ms, body.kind, &body.text, &user)?)
        })
        .await?;
    note_changed(&state, &change, false);
    Ok((StatusCode::CREATED, Json(change)))
}

/// `PATCH /api/notes/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotePatch {
    version: i64,
    #[serde(default)]
    at_ms: Option<i64>,
    #[serde(default)]
    kind: Option<SceneKind>,
    #[serde(default)]
    text: Option<String>,
}

pub(crate) async fn edit_note(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<NotePatch>,
) -> Result<Json<NoteChange>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    let edit = NoteEdit {
        at_ms: patch.at_ms,
        kind: patch.kind,
        text: patch.text,
    };
    let change = state
        .with_store(move |store, _| Ok(store.edit_note(id, patch.version, &edit, &user)?))
        .await?;
    note_changed(&state, &change, false);
    Ok(Json(change))
}

/// `DELETE /api/notes/{id}?version=N`: answers the note as it was.
pub(crate) async fn delete_note(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<VersionParam>,
) -> Result<Json<NoteChange>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    let change = state
        .with_store(move |store, _| Ok(store.delete_note(id, params.version, &user)?))
        .await?;
    note_changed(&state, &change, true);
    Ok(Json(change))
}
