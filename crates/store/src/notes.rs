//! Scene notes: what the record prints between speeches (applause, the
//! chair's gavel, a vote), each at a moment of the sitting's audio.

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::clean::check_label;
use crate::ops::{Snapshot, record_operation};
use crate::{Error, Result, Store};

/// What a scene note records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SceneKind {
    /// Applause in the hall.
    Applause,
    /// The chair's gavel.
    Gavel,
    /// A vote.
    Vote,
    /// Anything else the record should print.
    Other,
}

impl SceneKind {
    /// Every kind, in the order documented.
    pub const ALL: [Self; 4] = [Self::Applause, Self::Gavel, Self::Vote, Self::Other];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applause => "applause",
            Self::Gavel => "gavel",
            Self::Vote => "vote",
            Self::Other => "other",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A scene note, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SceneNote {
    /// Its id.
    pub id: i64,
    /// Its session.
    pub session_id: i64,
    /// When, in ms from the start of the sitting's audio: the record
    /// prints it between the speeches either side of this moment.
    pub at_ms: i64,
    /// What it records.
    pub kind: SceneKind,
    /// Its text (such as "Hội trường vỗ tay"), NFC.
    pub text: String,
    /// Incremented by every change; a change must name the version it
    /// changes.
    pub version: i64,
}

/// The longest text of a note, in bytes.
pub const MAX_NOTE_TEXT_BYTES: usize = 1000;
/// The latest moment a note may be at, in ms (48 hours: longer than any
/// sitting).
pub const MAX_NOTE_AT_MS: i64 = 48 * 3600 * 1000;

/// A change to a note. Fields left `None` stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoteEdit {
    /// A new moment, in ms.
    pub at_ms: Option<i64>,
    /// A new kind.
    pub kind: Option<SceneKind>,
    /// A new text.
    pub text: Option<String>,
}

/// What a change of a note did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteChange {
    /// The note after it (as it was, for a deletion).
    pub note: SceneNote,
    /// The operation that records it, for undo; `None` when nothing
    /// changed.
    pub operation_id: Option<i64>,
}

impl Store {
    /// A session's scene notes, in time order.
    pub fn notes(&self, session_id: i64) -> Result<Vec<SceneNote>> {
        self.session(session_id)?;
        notes_of(&self.conn, session_id)
    }

    /// One scene note.
    pub fn note(&self, id: i64) -> Result<SceneNote> {
        get_note(&self.conn, id)
    }

    /// Adds a note at `at_ms`, as one operation.
    pub fn add_note(
        &mut self,
        session_id: i64,
        at_ms: i64,
        kind: SceneKind,
        text: &str,
        author: &str,
    ) -> Result<NoteChange> {
        let (at_ms, text) = check(at_ms, kind, text)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if tx
            .query_row("SELECT 1 FROM sessions WHERE id = ?1", [session_id], |_| {
                Ok(())
            })
            .optional()?
            .is_none()
        {
            return Err(Error::UnknownSession(session_id));
        }
        let id: i64 = tx.query_row(
            "INSERT INTO scene_notes (session_id, at_ms, kind, text) VALUES (?1, ?2, ?3, ?4)
             RETURNING id",
            params![session_id, at_ms, kind.as_str(), text],
            |r| r.get(0),
        )?;
        let note = get_note(&tx, id)?;
        let operation_id = record(&tx, session_id, None, Some(&note), author)?;
        tx.commit()?;
        Ok(NoteChange {
            note,
            operation_id: Some(operation_id),
        })
    }

    /// Changes a note, if `version` is still its version (otherwise
    /// [`Error::NoteConflict`] with the note as it is), as one operation.
    pub fn edit_note(
        &mut self,
        id: i64,
        version: i64,
        edit: &NoteEdit,
        author: &str,
    ) -> Result<NoteChange> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let old = current(&tx, id, version)?;
        let kind = edit.kind.unwrap_or(old.kind);
        let (at_ms, text) = check(
            edit.at_ms.unwrap_or(old.at_ms),
            kind,
            edit.text.as_deref().unwrap_or(&old.text),
        )?;
        if at_ms == old.at_ms && kind == old.kind && text == old.text {
            // Nothing to record: the note stays as it is.
            return Ok(NoteChange {
                note: old,
                operation_id: None,
            });
        }
        tx.execute(
            "UPDATE scene_notes SET at_ms = ?2, kind = ?3, text = ?4, version = version + 1
             WHERE id = ?1",
            params![id, at_ms, kind.as_str(), text],
        )?;
        let note = get_note(&tx, id)?;
        let operation_id = record(&tx, old.session_id, Some(&old), Some(&note), author)?;
        tx.commit()?;
        Ok(NoteChange {
            note,
            operation_id: Some(operation_id),
        })
    }

    /// Deletes a note, if `version` is still its version, as one operation
    /// (undoing it brings the note back).
    pub fn delete_note(&mut self, id: i64, version: i64, author: &str) -> Result<NoteChange> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let old = current(&tx, id, version)?;
        tx.execute("DELETE FROM scene_notes WHERE id = ?1", [id])?;
        let operation_id = record(&tx, old.session_id, Some(&old), None, author)?;
        tx.commit()?;
        Ok(NoteChange {
            note: old,
            operation_id: Some(operation_id),
        })
    }
}

/// A note's moment and text as stored, or why refused: the moment within
/// [0, [`MAX_NOTE_AT_MS`]], the text NFC, trimmed, bounded and visible, and
/// not empty for [`SceneKind::Other`] (the other kinds print their own
/// words when the text is empty).
fn check(at_ms: i64, kind: SceneKind, text: &str) -> Result<(i64, String)> {
    if !(0..=MAX_NOTE_AT_MS).contains(&at_ms) {
        return Err(Error::Invalid(format!(
            "a scene note's time is 0 to {MAX_NOTE_AT_MS} ms (got {at_ms})"
        )));
    }
    let text = check_label("a scene note's text", text, MAX_NOTE_TEXT_BYTES)?;
    if text.is_empty() && kind == SceneKind::Other {
        return Err(Error::Invalid(
            "a scene note of kind other needs a text".into(),
        ));
    }
    Ok((at_ms, text))
}

/// The note, if `version` is still its version.
fn current(conn: &Connection, id: i64, version: i64) -> Result<SceneNote> {
    let note = get_note(conn, id)?;
    if note.version != version {
        return Err(Error::NoteConflict {
            current: Box::new(note),
        });
    }
    Ok(note)
}

/// Records a change of one note as an operation.
fn record(
    conn: &Connection,
    session_id: i64,
    before: Option<&SceneNote>,
    after: Option<&SceneNote>,
    author: &str,
) -> Result<i64> {
    let rows = |note: Option<&SceneNote>| Snapshot {
        notes: note.into_iter().cloned().collect(),
        ..Snapshot::default()
    };
    record_operation(
        conn,
        session_id,
        "note",
        author,
        &rows(before),
        &rows(after),
    )
}

const NOTE_COLUMNS: &str = "SELECT id, session_id, at_ms, kind, text, version FROM scene_notes";

fn note_from_row(r: &Row<'_>) -> rusqlite::Result<SceneNote> {
    Ok(SceneNote {
        id: r.get(0)?,
        session_id: r.get(1)?,
        at_ms: r.get(2)?,
        // The schema's CHECK allows only the four names.
        kind: SceneKind::parse(&r.get::<_, String>(3)?).unwrap_or(SceneKind::Other),
        text: r.get(4)?,
        version: r.get(5)?,
    })
}

pub(crate) fn notes_of(conn: &Connection, session_id: i64) -> Result<Vec<SceneNote>> {
    let mut stmt = conn.prepare(&format!(
        "{NOTE_COLUMNS} WHERE session_id = ?1 ORDER BY at_ms, id"
    ))?;
    let rows = stmt.query_map([session_id], note_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn get_note(conn: &Connection, id: i64) -> Result<SceneNote> {
    conn.query_row(
        &format!("{NOTE_COLUMNS} WHERE id = ?1"),
        [id],
        note_from_row,
    )
    .optional()?
    .ok_or(Error::UnknownNote(id))
}
