//! Edits of the record made by people: segment text, speaker and review
//! status (each kept as a [`Revision`]), restores of revisions, and
//! speakers added to a session. Each is one transaction that writes its
//! audit entry too, so that no change is committed without its entry.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tocky_core::text::nfc;

use crate::clean::check_seat;
use crate::model::{ReviewStatus, Revision, SegmentEdit, SegmentState, Speaker, StoredSegment};
use crate::{Error, Result, Store, audit, bump_generation, get_segment};

/// The longest speaker name, in bytes.
pub const MAX_SPEAKER_NAME_BYTES: usize = 200;

/// What an edit is recorded as in the audit log.
#[derive(Clone, Copy)]
enum EditKind {
    /// A plain edit.
    Edit,
    /// A restore of this revision.
    Restore(i64),
}

impl Store {
    /// Edits a segment, if `expected_version` is still its version;
    /// otherwise returns [`Error::Conflict`] with the current segment and
    /// changes nothing. The edit is kept as a revision.
    pub fn edit_segment(
        &mut self,
        id: i64,
        expected_version: i64,
        edit: &SegmentEdit,
        author: &str,
    ) -> Result<StoredSegment> {
        self.save_edit(id, expected_version, edit, author, EditKind::Edit)
    }

    fn save_edit(
        &mut self,
        id: i64,
        expected_version: i64,
        edit: &SegmentEdit,
        author: &str,
        kind: EditKind,
    ) -> Result<StoredSegment> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = get_segment(&tx, id)?;
        if current.version != expected_version {
            return Err(Error::Conflict {
                current: Box::new(current),
            });
        }
        if current.state == SegmentState::Removed {
            return Err(Error::Invalid(format!(
                "segment {id} is no longer in the record (merged, or its operation undone)"
            )));
        }
        let text = edit
            .text
            .as_deref()
            .map_or_else(|| current.text.clone(), |t| nfc(t.trim()));
        let speaker = edit.speaker_id.unwrap_or(current.speaker_id);
        let status = match edit.review_status {
            Some(status) => status.as_str().to_owned(),
            None => current.review_status.clone(),
        };
        if let Some(speaker) = speaker {
            check_speaker(&tx, speaker, current.session_id)?;
        }
        let version = current.version + 1;
        let generation = bump_generation(&tx)?;
        // New text leaves the words behind until they are aligned again.
        let words_aligned = current.words_aligned && text == current.text;
        tx.execute(
            "UPDATE segments SET text = ?1, speaker_id = ?2, review_status = ?3, version = ?4,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), generation = ?6,
                 words_aligned = ?7
             WHERE id = ?5",
            params![
                text,
                speaker,
                status,
                version,
                id,
                generation,
                words_aligned
            ],
        )?;
        tx.execute(
            "INSERT INTO revisions (segment_id, version, author, text_before, text_after,
                 speaker_before, speaker_after, status_before, status_after)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                id,
                version,
                author,
                current.text,
                text,
                current.speaker_id,
                speaker,
                current.review_status,
                status
            ],
        )?;
        let (action, detail) = match kind {
            EditKind::Edit => ("edit", format!("version {version}")),
            EditKind::Restore(revision) => (
                "restore",
                format!("version {version} from revision {revision}"),
            ),
        };
        audit(&tx, author, action, &format!("segment {id}"), &detail)?;
        let updated = get_segment(&tx, id)?;
        tx.commit()?;
        Ok(updated)
    }

    /// A segment's revisions, oldest first.
    pub fn revisions(&self, segment_id: i64) -> Result<Vec<Revision>> {
        revisions(&self.conn, segment_id)
    }

    /// Brings a segment back to the state a revision saved, as a new edit
    /// (recorded in the audit log as a `restore`).
    pub fn restore_revision(
        &mut self,
        segment_id: i64,
        revision_id: i64,
        expected_version: i64,
        author: &str,
    ) -> Result<StoredSegment> {
        let revision = self
            .revisions(segment_id)?
            .into_iter()
            .find(|r| r.id == revision_id)
            .ok_or(Error::UnknownRevision {
                segment: segment_id,
                revision: revision_id,
            })?;
        let status = if revision.status_after == "reviewed" {
            ReviewStatus::Reviewed
        } else {
            ReviewStatus::Draft
        };
        let edit = SegmentEdit {
            text: Some(revision.text_after),
            speaker_id: Some(revision.speaker_after),
            review_status: Some(status),
        };
        self.save_edit(
            segment_id,
            expected_version,
            &edit,
            author,
            EditKind::Restore(revision_id),
        )
    }

    /// Adds a speaker to a session; returns its id. Nothing is written to
    /// the audit log: a person's addition goes through
    /// [`Self::add_speaker_as`].
    pub fn add_speaker(
        &mut self,
        session_id: i64,
        name: &str,
        seat: Option<&str>,
        channel: Option<i64>,
    ) -> Result<i64> {
        self.insert_speaker(session_id, name, seat, channel, None)
            .map(|s| s.id)
    }

    /// Adds a speaker to a session on behalf of `actor`, and records it in
    /// the audit log (`speaker_add`) in the same transaction.
    pub fn add_speaker_as(
        &mut self,
        session_id: i64,
        name: &str,
        seat: Option<&str>,
        actor: &str,
    ) -> Result<Speaker> {
        self.insert_speaker(session_id, name, seat, None, Some(actor))
    }

    fn insert_speaker(
        &mut self,
        session_id: i64,
        name: &str,
        seat: Option<&str>,
        channel: Option<i64>,
        actor: Option<&str>,
    ) -> Result<Speaker> {
        self.session(session_id)?;
        let name = check_speaker_name(name)?;
        let seat = seat.map(check_seat).transpose()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM speakers WHERE session_id = ?1 AND name = ?2",
                params![session_id, name],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Err(Error::Invalid(format!(
                "session {session_id} has a speaker {name:?} already"
            )));
        }
        tx.execute(
            "INSERT INTO speakers (session_id, name, seat, channel) VALUES (?1, ?2, ?3, ?4)",
            params![session_id, name, seat, channel],
        )?;
        let id = tx.last_insert_rowid();
        bump_generation(&tx)?;
        if let Some(actor) = actor {
            audit(
                &tx,
                actor,
                "speaker_add",
                &format!("session {session_id}"),
                &name,
            )?;
        }
        tx.commit()?;
        Ok(Speaker {
            id,
            name,
            seat,
            channel,
            person_id: None,
        })
    }
}

/// A speaker's name as stored: NFC, trimmed, 1 to
/// [`MAX_SPEAKER_NAME_BYTES`] bytes, without control characters.
/// Refuses a speaker that is not one of the session's.
pub(crate) fn check_speaker(conn: &Connection, speaker: i64, session_id: i64) -> Result<()> {
    let same_session: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM speakers WHERE id = ?1 AND session_id = ?2",
            [speaker, session_id],
            |r| r.get(0),
        )
        .optional()?;
    match same_session {
        Some(_) => Ok(()),
        None => Err(Error::Invalid(format!(
            "speaker {speaker} is not in session {session_id}"
        ))),
    }
}

pub(crate) fn check_speaker_name(name: &str) -> Result<String> {
    let name = nfc(name.trim());
    if name.is_empty() || name.len() > MAX_SPEAKER_NAME_BYTES {
        return Err(Error::Invalid(format!(
            "a speaker's name has 1 to {MAX_SPEAKER_NAME_BYTES} bytes"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "a speaker's name may not hold control characters".into(),
        ));
    }
    Ok(name)
}

fn revisions(conn: &Connection, segment_id: i64) -> Result<Vec<Revision>> {
    get_segment(conn, segment_id)?;
    let mut stmt = conn.prepare(
        "SELECT id, segment_id, version, author, created_at, text_before, text_after,
                speaker_before, speaker_after, status_before, status_after, operation_id
         FROM revisions WHERE segment_id = ?1 ORDER BY version",
    )?;
    let rows = stmt.query_map([segment_id], |r| {
        Ok(Revision {
            id: r.get(0)?,
            segment_id: r.get(1)?,
            version: r.get(2)?,
            author: r.get(3)?,
            created_at: r.get(4)?,
            text_before: r.get(5)?,
            text_after: r.get(6)?,
            speaker_before: r.get(7)?,
            speaker_after: r.get(8)?,
            status_before: r.get(9)?,
            status_after: r.get(10)?,
            operation_id: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
