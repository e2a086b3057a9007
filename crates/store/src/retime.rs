//! Words re-timed after an edit: which segments wait for it, and saving
//! the result. Re-timing is derived from the text and the audio, so it
//! neither makes a revision nor moves the version: an editor's save never
//! conflicts with it, and a result computed for an older version is dropped.

use rusqlite::params;
use tocky_core::Word;

use crate::{Error, Result, SEGMENT_COLUMNS, Store, StoredSegment, segment_from_row};

impl Store {
    /// Saves re-timed words for a segment, if it is still at `version`
    /// (the version whose text and bounds they were aligned to), and marks
    /// its words aligned. Returns whether they were saved; `false` means
    /// the segment changed meanwhile and a newer re-timing is due.
    pub fn set_words(&mut self, id: i64, version: i64, words: &[Word]) -> Result<bool> {
        let json = serde_json::to_string(words)
            .map_err(|e| Error::Invalid(format!("words of segment {id}: {e}")))?;
        let changed = self.conn.execute(
            "UPDATE segments SET words = ?1, words_aligned = 1
             WHERE id = ?2 AND version = ?3 AND state != 'removed'",
            params![json, id, version],
        )?;
        if changed == 0 {
            // Tell an unknown segment from a changed one.
            crate::get_segment(&self.conn, id)?;
        }
        Ok(changed == 1)
    }

    /// The segments whose words are not aligned to their text, oldest
    /// change first: of one session, or of every session.
    pub fn unaligned_segments(&self, session_id: Option<i64>) -> Result<Vec<StoredSegment>> {
        let mut stmt = self.conn.prepare(&format!(
            "{SEGMENT_COLUMNS} WHERE words_aligned = 0 AND state != 'removed'
                 AND (?1 IS NULL OR session_id = ?1)
             ORDER BY updated_at, id"
        ))?;
        let rows = stmt.query_map([session_id], segment_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
