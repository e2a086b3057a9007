//! Operations: changes over several rows at once (a split, a merge, an
//! insert, an agenda change …), each kept whole as the rows it changed,
//! before and after, so that it can be undone as one. Each segment it
//! changed also gets a revision pointing at it, so a segment's history
//! shows the operation, and restoring that revision undoes it.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::agenda::AgendaItem;
use crate::model::{SegmentState, StoredSegment};
use crate::notes::SceneNote;
use crate::rows;
use crate::{Error, OperationOutcome, Result, Store, audit, bump_generation, get_segment};

/// The rows an operation changed, as they were before it or after it. A
/// row in `after` but not in `before` was created by it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Segments, whole.
    #[serde(default)]
    pub segments: Vec<StoredSegment>,
    /// Agenda items, whole.
    #[serde(default)]
    pub agenda: Vec<AgendaItem>,
    /// Scene notes, whole.
    #[serde(default)]
    pub notes: Vec<SceneNote>,
}

/// One recorded operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Its id.
    pub id: i64,
    /// The session it changed.
    pub session_id: i64,
    /// What it was: `split`, `merge`, `insert`, `state`, `bounds`,
    /// `agenda`, `note` or `undo`.
    pub kind: String,
    /// Who did it.
    pub author: String,
    /// When.
    pub created_at: String,
    /// The operation that undid it, if one did.
    pub undone_by: Option<i64>,
    /// The rows before.
    pub before: Snapshot,
    /// The rows after.
    pub after: Snapshot,
}

impl Store {
    /// One operation.
    pub fn operation(&self, id: i64) -> Result<Operation> {
        get_operation(&self.conn, id)
    }

    /// Undoes an operation as a new operation (kind `undo`, so undoing
    /// that redoes it): every row it wrote is put back as it was before.
    /// Refused, changing nothing, when any of those rows changed since
    /// (the reason names the row), or when it was undone already.
    pub fn undo_operation(&mut self, id: i64, author: &str) -> Result<OperationOutcome> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let op = get_operation(&tx, id)?;
        if let Some(by) = op.undone_by {
            return Err(Error::UndoRefused {
                operation: id,
                reason: format!("it was undone already (by operation {by})"),
            });
        }
        let mut current = Snapshot::default();
        for after in &op.after.segments {
            let now = get_segment(&tx, after.id).map_err(|_| Error::UndoRefused {
                operation: id,
                reason: format!("segment {} no longer exists", after.id),
            })?;
            if now.version != after.version {
                return Err(Error::UndoRefused {
                    operation: id,
                    reason: format!(
                        "segment {} changed since (version {}, the {} left version {})",
                        after.id, now.version, op.kind, after.version
                    ),
                });
            }
            current.segments.push(now);
        }
        let rows_now = rows::current(&tx, &op)?;
        let mut restored = Snapshot::default();
        let generation = bump_generation(&tx)?;
        for now in &current.segments {
            let row = match op.before.segments.iter().find(|b| b.id == now.id) {
                Some(before) => before.clone(),
                // Made by the operation: out of the record again, kept for a redo.
                None => StoredSegment {
                    state: SegmentState::Removed,
                    ..now.clone()
                },
            };
            let row = StoredSegment {
                version: now.version + 1,
                ..row
            };
            write_segment(&tx, &row, generation)?;
            restored.segments.push(get_segment(&tx, row.id)?);
        }
        let rows_back = rows::write_back(&tx, &op, &rows_now)?;
        (current.agenda, current.notes) = (rows_now.agenda, rows_now.notes);
        (restored.agenda, restored.notes) = (rows_back.agenda, rows_back.notes);
        let undo = record_operation(&tx, op.session_id, "undo", author, &current, &restored)?;
        tx.execute(
            "UPDATE operations SET undone_by = ?1 WHERE id = ?2",
            params![undo, id],
        )?;
        tx.commit()?;
        Ok(OperationOutcome {
            operation_id: undo,
            segments: restored.segments,
        })
    }

    /// A session's operations, newest first, at most `limit`.
    pub fn operations(&self, session_id: i64, limit: usize) -> Result<Vec<Operation>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM operations WHERE session_id = ?1 ORDER BY id DESC LIMIT ?2")?;
        let ids = stmt
            .query_map(params![session_id, limit as i64], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        ids.into_iter()
            .map(|id| get_operation(&self.conn, id))
            .collect()
    }
}

/// Saves an operation, a revision for each segment it left in place or
/// created, and its audit entry. Returns its id.
pub(crate) fn record_operation(
    conn: &Connection,
    session_id: i64,
    kind: &str,
    author: &str,
    before: &Snapshot,
    after: &Snapshot,
) -> Result<i64> {
    let json = |s: &Snapshot| {
        serde_json::to_string(s).map_err(|e| Error::Invalid(format!("operation rows: {e}")))
    };
    let id: i64 = conn.query_row(
        "INSERT INTO operations (session_id, kind, author, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        params![session_id, kind, author, json(before)?, json(after)?],
        |r| r.get(0),
    )?;
    for seg in &after.segments {
        let old = before.segments.iter().find(|b| b.id == seg.id);
        conn.execute(
            "INSERT INTO revisions (segment_id, version, author, text_before, text_after,
                 speaker_before, speaker_after, status_before, status_after, operation_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                seg.id,
                seg.version,
                author,
                old.map_or("", |o| o.text.as_str()),
                seg.text,
                old.and_then(|o| o.speaker_id),
                seg.speaker_id,
                old.map_or(seg.review_status.as_str(), |o| o.review_status.as_str()),
                seg.review_status,
                id
            ],
        )?;
    }
    let ids: Vec<String> = after
        .segments
        .iter()
        .chain(&before.segments)
        .map(|s| s.id.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut detail = format!("operation {id}");
    if !ids.is_empty() {
        detail.push_str(&format!("; segments {}", ids.join(", ")));
    }
    let rows = rows::describe(before, after);
    if !rows.is_empty() {
        detail.push_str(&format!("; {rows}"));
    }
    audit(
        conn,
        author,
        kind,
        &format!("session {session_id}"),
        &detail,
    )?;
    Ok(id)
}

/// Writes a whole segment row, creating it or updating it in place (never
/// delete-and-insert, which would drop its revisions), at `generation`.
pub(crate) fn write_segment(conn: &Connection, s: &StoredSegment, generation: i64) -> Result<()> {
    let words = serde_json::to_string(&s.words)
        .map_err(|e| Error::Invalid(format!("words of segment {}: {e}", s.id)))?;
    conn.execute(
        "INSERT INTO segments (id, session_id, seq, start_ms, end_ms, channel, speaker_id, text,
             words, version, review_status, state, words_aligned, generation)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, start_ms = excluded.start_ms,
             end_ms = excluded.end_ms, channel = excluded.channel,
             speaker_id = excluded.speaker_id, text = excluded.text, words = excluded.words,
             version = excluded.version, review_status = excluded.review_status,
             state = excluded.state, words_aligned = excluded.words_aligned,
             generation = excluded.generation,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        params![
            s.id,
            s.session_id,
            s.seq,
            s.start_ms,
            s.end_ms,
            s.channel,
            s.speaker_id,
            s.text,
            words,
            s.version,
            s.review_status,
            s.state.as_str(),
            s.words_aligned,
            generation
        ],
    )?;
    Ok(())
}

fn get_operation(conn: &Connection, id: i64) -> Result<Operation> {
    let row = conn
        .query_row(
            "SELECT id, session_id, kind, author, created_at, undone_by, before, after
             FROM operations WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                ))
            },
        )
        .optional()?
        .ok_or(Error::UnknownOperation(id))?;
    // Written by this crate; unreadable rows read as empty.
    let snapshot = |s: &str| serde_json::from_str(s).unwrap_or_default();
    Ok(Operation {
        id: row.0,
        session_id: row.1,
        kind: row.2,
        author: row.3,
        created_at: row.4,
        undone_by: row.5,
        before: snapshot(&row.6),
        after: snapshot(&row.7),
    })
}
