//! Agenda items and scene notes in operations: what an undo checks and
//! writes back for them, beside the segments that `ops` handles.
//!
//! Unlike segments, which an operation never deletes (they leave the
//! record as `removed`), agenda items and notes are deleted when an
//! operation removes them, and undoing that inserts them again under
//! their old ids.

use std::collections::{BTreeSet, HashSet};

use rusqlite::{Connection, OptionalExtension, params};

use crate::agenda::{agenda_of, get_item, segment_key};
use crate::notes::get_note;
use crate::ops::{Operation, Snapshot};
use crate::{Error, Result};

/// The agenda items and notes that an operation changed, for its audit
/// entry ("agenda items 3, 4; scene notes 7"); empty when there are none.
pub(crate) fn describe(before: &Snapshot, after: &Snapshot) -> String {
    let ids = |ids: BTreeSet<i64>| {
        ids.into_iter()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let agenda: BTreeSet<i64> = before
        .agenda
        .iter()
        .chain(&after.agenda)
        .map(|i| i.id)
        .collect();
    let notes: BTreeSet<i64> = before
        .notes
        .iter()
        .chain(&after.notes)
        .map(|n| n.id)
        .collect();
    let mut parts = Vec::new();
    if !agenda.is_empty() {
        parts.push(format!("agenda items {}", ids(agenda)));
    }
    if !notes.is_empty() {
        parts.push(format!("scene notes {}", ids(notes)));
    }
    parts.join("; ")
}

/// The agenda items and notes that `op` left, as they are now; refused
/// when any changed since, is gone, or (for one it deleted) exists again.
pub(crate) fn current(conn: &Connection, op: &Operation) -> Result<Snapshot> {
    let refuse = |reason: String| Error::UndoRefused {
        operation: op.id,
        reason,
    };
    let mut now = Snapshot::default();
    for after in &op.after.agenda {
        let item = get_item(conn, after.id)
            .map_err(|_| refuse(format!("agenda item {} no longer exists", after.id)))?;
        if item.version != after.version {
            return Err(refuse(format!(
                "agenda item {:?} changed since (version {}, the {} left version {})",
                item.title, item.version, op.kind, after.version
            )));
        }
        now.agenda.push(item);
    }
    for after in &op.after.notes {
        let note = get_note(conn, after.id)
            .map_err(|_| refuse(format!("scene note {} no longer exists", after.id)))?;
        if note.version != after.version {
            return Err(refuse(format!(
                "scene note {} changed since (version {}, the {} left version {})",
                note.id, note.version, op.kind, after.version
            )));
        }
        now.notes.push(note);
    }
    let left: HashSet<i64> = op.after.agenda.iter().map(|i| i.id).collect();
    for gone in op.before.agenda.iter().filter(|b| !left.contains(&b.id)) {
        if get_item(conn, gone.id).is_ok() {
            return Err(refuse(format!(
                "agenda item {} exists again under the same id",
                gone.id
            )));
        }
    }
    let left: HashSet<i64> = op.after.notes.iter().map(|n| n.id).collect();
    for gone in op.before.notes.iter().filter(|b| !left.contains(&b.id)) {
        if get_note(conn, gone.id).is_ok() {
            return Err(refuse(format!(
                "scene note {} exists again under the same id",
                gone.id
            )));
        }
    }
    Ok(now)
}

/// Puts `op`'s agenda items and notes back as they were before it: rows it
/// made are deleted, rows it changed or deleted are written as they were,
/// each with a version above any it had. `now` is what [`current`] found.
/// Returns the rows as written. Refused when the agenda they make would
/// break its rules (two items at one place or segment, a start out of
/// time order or out of the record).
pub(crate) fn write_back(conn: &Connection, op: &Operation, now: &Snapshot) -> Result<Snapshot> {
    let refuse = |reason: String| Error::UndoRefused {
        operation: op.id,
        reason,
    };
    let mut restored = Snapshot::default();
    // Items out of the way first: places and starts are unique.
    for item in &now.agenda {
        conn.execute(
            "UPDATE agenda_items SET position = -1 - id, start_segment_id = NULL WHERE id = ?1",
            [item.id],
        )?;
    }
    for item in &now.agenda {
        if !op.before.agenda.iter().any(|b| b.id == item.id) {
            conn.execute("DELETE FROM agenda_items WHERE id = ?1", [item.id])?;
        }
    }
    for before in &op.before.agenda {
        let version = now
            .agenda
            .iter()
            .find(|n| n.id == before.id)
            .map_or(before.version, |n| n.version.max(before.version))
            + 1;
        let clash: Option<String> = conn
            .query_row(
                "SELECT title FROM agenda_items WHERE session_id = ?1 AND id != ?2
                     AND (position = ?3 OR start_segment_id = ?4)",
                params![
                    before.session_id,
                    before.id,
                    before.position,
                    before.start_segment_id
                ],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(other) = clash {
            return Err(refuse(format!(
                "agenda item {other:?} has taken the place or start of {:?}",
                before.title
            )));
        }
        conn.execute(
            "INSERT INTO agenda_items (id, session_id, position, title, reference,
                 start_segment_id, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET position = excluded.position,
                 title = excluded.title, reference = excluded.reference,
                 start_segment_id = excluded.start_segment_id, version = excluded.version",
            params![
                before.id,
                before.session_id,
                before.position,
                before.title,
                before.reference,
                before.start_segment_id,
                version
            ],
        )?;
        restored.agenda.push(get_item(conn, before.id)?);
    }
    if let Some(session_id) = op.before.agenda.first().map(|i| i.session_id) {
        check_order(conn, session_id).map_err(|e| refuse(e.to_string()))?;
    }
    for note in &now.notes {
        if !op.before.notes.iter().any(|b| b.id == note.id) {
            conn.execute("DELETE FROM scene_notes WHERE id = ?1", [note.id])?;
        }
    }
    for before in &op.before.notes {
        let version = now
            .notes
            .iter()
            .find(|n| n.id == before.id)
            .map_or(before.version, |n| n.version.max(before.version))
            + 1;
        conn.execute(
            "INSERT INTO scene_notes (id, session_id, at_ms, kind, text, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET at_ms = excluded.at_ms, kind = excluded.kind,
                 text = excluded.text, version = excluded.version",
            params![
                before.id,
                before.session_id,
                before.at_ms,
                before.kind.as_str(),
                before.text,
                version
            ],
        )?;
        restored.notes.push(get_note(conn, before.id)?);
    }
    Ok(restored)
}

/// Whether a session's started items are in time order, each at a segment
/// still in the record.
fn check_order(conn: &Connection, session_id: i64) -> Result<()> {
    let mut last: Option<((i64, i64), String)> = None;
    for item in agenda_of(conn, session_id)? {
        let Some(segment) = item.start_segment_id else {
            continue;
        };
        // Starts put back are starts the items held.
        let key = segment_key(conn, session_id, segment, true)?;
        if let Some((before, title)) = &last
            && key <= *before
        {
            return Err(Error::Invalid(format!(
                "item {:?} would start before item {title:?}, which comes earlier",
                item.title
            )));
        }
        last = Some((key, item.title));
    }
    Ok(())
}
