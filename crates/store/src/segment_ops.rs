//! The stenographer's segment operations: split, merge with the next,
//! insert into a gap, mark as not speech (and back), move bounds. Each is
//! one transaction that checks the versions it was given, writes its rows,
//! and records an [`Operation`](crate::ops::Operation) (so it can be
//! undone), the segments' revisions and the audit entry.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use tocky_core::Word;
use tocky_core::text::nfc;

use crate::model::{SegmentState, StoredSegment};
use crate::ops::{Snapshot, record_operation, write_segment};
use crate::{
    Error, Result, SEGMENT_COLUMNS, Store, bump_generation, get_segment, segment_from_row,
};

/// Where to split a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitAt {
    /// Before this character of the text (Unicode scalar values from 0,
    /// as a caret stands).
    Char(usize),
    /// Before this word (from 0), words being the text's whitespace-separated parts.
    Word(usize),
}

/// A segment typed into a gap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSegment {
    /// Start in ms.
    pub start_ms: i64,
    /// End in ms.
    pub end_ms: i64,
    /// Its text (may be empty, to be filled in or recognised later).
    pub text: String,
    /// Its speaker, of the same session.
    pub speaker_id: Option<i64>,
}

/// What an operation did: its id and the segments it wrote, as they are
/// now, in time order (one that left the record has state `removed`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationOutcome {
    /// The operation, for undo.
    pub operation_id: i64,
    /// The segments it changed or made.
    pub segments: Vec<StoredSegment>,
}

impl Store {
    /// Splits a segment in two at a caret or before a word. Words go to
    /// the side they belong to; the split time is where the right side's
    /// first word starts when the words follow the text, else in
    /// proportion to the letters on each side (and both sides then wait
    /// for re-timing).
    pub fn split_segment(
        &mut self,
        id: i64,
        expected_version: i64,
        at: SplitAt,
        author: &str,
    ) -> Result<OperationOutcome> {
        let tx = self.begin()?;
        let cur = current(&tx, id, expected_version)?;
        let plan = plan_split(&cur, at)?;
        let generation = bump_generation(&tx)?;
        let left = StoredSegment {
            end_ms: plan.time_ms,
            text: plan.left_text,
            words: plan.left_words,
            words_aligned: plan.aligned,
            version: cur.version + 1,
            ..cur.clone()
        };
        let right = StoredSegment {
            id: next_id(&tx)?,
            seq: next_seq(&tx, cur.session_id)?,
            start_ms: plan.time_ms,
            text: plan.right_text,
            words: plan.right_words,
            words_aligned: plan.aligned,
            version: 1,
            ..cur.clone()
        };
        finish(
            tx,
            "split",
            author,
            vec![cur],
            vec![left, right],
            generation,
        )
    }

    /// Merges a segment with the one after it (`next_id`, which must still
    /// be the next one in the session, at `next_version`): one segment
    /// with both texts and words, the first one's speaker, reviewed only
    /// if both were. The second leaves the record (kept for undo).
    pub fn merge_with_next(
        &mut self,
        id: i64,
        expected_version: i64,
        next_id: i64,
        next_version: i64,
        author: &str,
    ) -> Result<OperationOutcome> {
        let tx = self.begin()?;
        let first = current(&tx, id, expected_version)?;
        let second = current(&tx, next_id, next_version)?;
        if second.session_id != first.session_id {
            return Err(Error::Invalid(format!(
                "segment {next_id} is in session {}, segment {id} in session {}: \
                 a merge stays within one session",
                second.session_id, first.session_id
            )));
        }
        let (_, next) = neighbours(&tx, &first)?;
        if next.as_ref().map(|n| n.id) != Some(next_id) {
            return Err(Error::Invalid(match next {
                Some(n) => format!(
                    "segment {next_id} is not the one after segment {id} (that is segment {})",
                    n.id
                ),
                None => format!("segment {id} is the last of its session"),
            }));
        }
        if first.state != SegmentState::Speech || second.state != SegmentState::Speech {
            return Err(Error::Invalid(
                "a segment marked as not speech cannot be merged; restore it first".into(),
            ));
        }
        // The merged text would fall under the item before: the stenographer
        // moves the item's start (or merges elsewhere) first.
        let starts_item: Option<String> = tx
            .query_row(
                "SELECT title FROM agenda_items WHERE start_segment_id = ?1",
                [next_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(title) = starts_item {
            return Err(Error::Invalid(format!(
                "segment {next_id} starts the agenda item {title:?}; move the item's start first"
            )));
        }
        let generation = bump_generation(&tx)?;
        let mut words = first.words.clone();
        words.extend(second.words.iter().cloned());
        let both_reviewed = first.review_status == "reviewed" && second.review_status == "reviewed";
        let merged = StoredSegment {
            end_ms: first.end_ms.max(second.end_ms),
            text: join_text(&first.text, &second.text),
            words,
            words_aligned: first.words_aligned && second.words_aligned,
            speaker_id: first.speaker_id.or(second.speaker_id),
            review_status: if both_reviewed { "reviewed" } else { "draft" }.into(),
            version: first.version + 1,
            ..first.clone()
        };
        let gone = StoredSegment {
            state: SegmentState::Removed,
            version: second.version + 1,
            ..second.clone()
        };
        finish(
            tx,
            "merge",
            author,
            vec![first, second],
            vec![merged, gone],
            generation,
        )
    }

    /// Inserts a segment into a time range that has none. Its words wait
    /// for re-timing (or, with no text yet, for recognition).
    pub fn insert_segment(
        &mut self,
        session_id: i64,
        new: &NewSegment,
        author: &str,
    ) -> Result<OperationOutcome> {
        self.insert_segment_with_words(session_id, new, &[], author)
    }

    /// Like [`Store::insert_segment`], with the timed words recognised for
    /// exactly its text: saved with the segment, in the same transaction
    /// (so no reader, and no crash, ever sees the insert without them), and
    /// marked aligned. Words outside the range or out of order are refused.
    /// No words, or no text, is an ordinary insert.
    pub fn insert_segment_with_words(
        &mut self,
        session_id: i64,
        new: &NewSegment,
        words: &[Word],
        author: &str,
    ) -> Result<OperationOutcome> {
        let tx = self.begin()?;
        let duration: i64 = tx
            .query_row(
                "SELECT duration_ms FROM sessions WHERE id = ?1",
                [session_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(Error::UnknownSession(session_id))?;
        check_range(new.start_ms, new.end_ms, duration)?;
        let overlapping: Option<(i64, i64, i64)> = tx
            .query_row(
                "SELECT id, start_ms, end_ms FROM segments
                 WHERE session_id = ?1 AND state != 'removed' AND start_ms < ?3 AND end_ms > ?2
                 ORDER BY start_ms LIMIT 1",
                params![session_id, new.start_ms, new.end_ms],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        if let Some((other, start, end)) = overlapping {
            return Err(Error::Invalid(format!(
                "{}–{} ms overlaps segment {other} ({start}–{end} ms): an insert goes into a gap",
                new.start_ms, new.end_ms
            )));
        }
        if let Some(speaker) = new.speaker_id {
            crate::edits::check_speaker(&tx, speaker, session_id)?;
        }
        check_words(words, new.start_ms, new.end_ms)?;
        let generation = bump_generation(&tx)?;
        let text = nfc(new.text.trim());
        let words = if text.is_empty() {
            Vec::new()
        } else {
            words.to_vec()
        };
        let row = StoredSegment {
            id: next_id(&tx)?,
            session_id,
            seq: next_seq(&tx, session_id)?,
            start_ms: new.start_ms,
            end_ms: new.end_ms,
            channel: None,
            speaker_id: new.speaker_id,
            words_aligned: text.is_empty() || !words.is_empty(),
            text,
            words,
            version: 1,
            review_status: "draft".into(),
            updated_at: String::new(),
            state: SegmentState::Speech,
        };
        finish(tx, "insert", author, Vec::new(), vec![row], generation)
    }

    /// Marks a segment as not speech (out of the record and search, still
    /// listed) or as speech again.
    pub fn set_segment_state(
        &mut self,
        id: i64,
        expected_version: i64,
        state: SegmentState,
        author: &str,
    ) -> Result<OperationOutcome> {
        if state == SegmentState::Removed {
            return Err(Error::Invalid(
                "a segment leaves the record by a merge, not by its state".into(),
            ));
        }
        let tx = self.begin()?;
        let cur = current(&tx, id, expected_version)?;
        if cur.state == state {
            return Err(Error::Invalid(format!(
                "segment {id} is already marked as {}",
                state.as_str()
            )));
        }
        let generation = bump_generation(&tx)?;
        let row = StoredSegment {
            state,
            version: cur.version + 1,
            ..cur.clone()
        };
        finish(tx, "state", author, vec![cur], vec![row], generation)
    }

    /// Moves a segment's start and end, never further across a neighbour
    /// than it already reaches (segments of different channels may overlap
    /// as recorded, but no move makes a new overlap). Its words are clipped
    /// to the new bounds and wait for re-timing.
    pub fn move_bounds(
        &mut self,
        id: i64,
        expected_version: i64,
        start_ms: i64,
        end_ms: i64,
        author: &str,
    ) -> Result<OperationOutcome> {
        let tx = self.begin()?;
        let cur = current(&tx, id, expected_version)?;
        let duration: i64 = tx.query_row(
            "SELECT duration_ms FROM sessions WHERE id = ?1",
            [cur.session_id],
            |r| r.get(0),
        )?;
        check_range(start_ms, end_ms, duration.max(cur.end_ms))?;
        let (prev, next) = neighbours(&tx, &cur)?;
        if let Some(p) = prev.filter(|p| start_ms < p.end_ms.min(cur.start_ms)) {
            return Err(Error::Invalid(format!(
                "a start at {start_ms} ms crosses segment {}, which ends at {} ms",
                p.id, p.end_ms
            )));
        }
        if let Some(n) = next.filter(|n| end_ms > n.start_ms.max(cur.end_ms)) {
            return Err(Error::Invalid(format!(
                "an end at {end_ms} ms crosses segment {}, which starts at {} ms",
                n.id, n.start_ms
            )));
        }
        if (start_ms, end_ms) == (cur.start_ms, cur.end_ms) {
            return Err(Error::Invalid(format!(
                "segment {id} already spans {start_ms}–{end_ms} ms"
            )));
        }
        let generation = bump_generation(&tx)?;
        let row = StoredSegment {
            start_ms,
            end_ms,
            words: clip_words(&cur.words, start_ms, end_ms),
            words_aligned: false,
            version: cur.version + 1,
            ..cur.clone()
        };
        finish(tx, "bounds", author, vec![cur], vec![row], generation)
    }

    fn begin(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }
}

/// The segment, if it is still at `expected_version` and in the record.
fn current(conn: &Connection, id: i64, expected_version: i64) -> Result<StoredSegment> {
    let cur = get_segment(conn, id)?;
    if cur.state == SegmentState::Removed {
        return Err(Error::Invalid(format!(
            "segment {id} is no longer in the record (merged, or its operation undone)"
        )));
    }
    if cur.version != expected_version {
        return Err(Error::Conflict {
            current: Box::new(cur),
        });
    }
    Ok(cur)
}

/// Writes the rows, records the operation and commits.
fn finish(
    tx: Transaction<'_>,
    kind: &str,
    author: &str,
    before: Vec<StoredSegment>,
    after: Vec<StoredSegment>,
    generation: i64,
) -> Result<OperationOutcome> {
    let session_id = after.first().map_or(0, |s| s.session_id);
    let mut written = Vec::with_capacity(after.len());
    for row in &after {
        write_segment(&tx, row, generation)?;
        written.push(get_segment(&tx, row.id)?);
    }
    let before = Snapshot {
        segments: before,
        ..Snapshot::default()
    };
    let after = Snapshot {
        segments: written.clone(),
        ..Snapshot::default()
    };
    let operation_id = record_operation(&tx, session_id, kind, author, &before, &after)?;
    tx.commit()?;
    written.sort_by_key(|s| (s.start_ms, s.seq));
    Ok(OperationOutcome {
        operation_id,
        segments: written,
    })
}

/// The segments just before and after `seg` in its session's order,
/// ignoring removed ones.
fn neighbours(
    conn: &Connection,
    seg: &StoredSegment,
) -> Result<(Option<StoredSegment>, Option<StoredSegment>)> {
    let find = |condition: &str, order: &str| -> Result<Option<StoredSegment>> {
        Ok(conn
            .query_row(
                &format!(
                    "{SEGMENT_COLUMNS} WHERE session_id = ?1 AND state != 'removed' AND id != ?4
                     AND {condition} ORDER BY {order} LIMIT 1"
                ),
                params![seg.session_id, seg.start_ms, seg.seq, seg.id],
                segment_from_row,
            )
            .optional()?)
    };
    let prev = find(
        "(start_ms < ?2 OR (start_ms = ?2 AND seq < ?3))",
        "start_ms DESC, seq DESC",
    )?;
    let next = find(
        "(start_ms > ?2 OR (start_ms = ?2 AND seq > ?3))",
        "start_ms, seq",
    )?;
    Ok((prev, next))
}

fn check_range(start_ms: i64, end_ms: i64, duration_ms: i64) -> Result<()> {
    if start_ms < 0 || end_ms <= start_ms {
        return Err(Error::Invalid(format!(
            "{start_ms}–{end_ms} ms is not a time range (0 ≤ start < end)"
        )));
    }
    if duration_ms > 0 && end_ms > duration_ms {
        return Err(Error::Invalid(format!(
            "{end_ms} ms is past the end of the session's audio ({duration_ms} ms)"
        )));
    }
    Ok(())
}

/// Words given with an insert lie inside its range, each after the one
/// before and of some length.
fn check_words(words: &[Word], start_ms: i64, end_ms: i64) -> Result<()> {
    let mut floor = u64::try_from(start_ms).unwrap_or(0);
    let end = u64::try_from(end_ms).unwrap_or(0);
    for w in words {
        if w.start_ms < floor || w.end_ms <= w.start_ms || w.end_ms > end {
            return Err(Error::Invalid(format!(
                "word {:?} ({}–{} ms) is not inside {start_ms}–{end_ms} ms after the word before it",
                w.text, w.start_ms, w.end_ms
            )));
        }
        floor = w.end_ms;
    }
    Ok(())
}

fn next_id(conn: &Connection) -> Result<i64> {
    // Under the write lock, and rows are never deleted but with their session.
    Ok(
        conn.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM segments", [], |r| {
            r.get(0)
        })?,
    )
}

fn next_seq(conn: &Connection, session_id: i64) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(seq), -1) + 1 FROM segments WHERE session_id = ?1",
        [session_id],
        |r| r.get(0),
    )?)
}

fn join_text(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => nfc(&format!("{a} {b}")),
    }
}

/// Words within `[start_ms, end_ms)`, cut to it.
fn clip_words(words: &[Word], start_ms: i64, end_ms: i64) -> Vec<Word> {
    let (start, end) = (start_ms.max(0) as u64, end_ms.max(0) as u64);
    words
        .iter()
        .filter(|w| w.end_ms > start && w.start_ms < end)
        .map(|w| Word {
            start_ms: w.start_ms.max(start),
            end_ms: w.end_ms.min(end),
            ..w.clone()
        })
        .collect()
}

/// Where and how a split falls.
struct SplitPlan {
    time_ms: i64,
    left_text: String,
    right_text: String,
    left_words: Vec<Word>,
    right_words: Vec<Word>,
    /// Whether both sides' words still follow their text.
    aligned: bool,
}

fn plan_split(seg: &StoredSegment, at: SplitAt) -> Result<SplitPlan> {
    let text = seg.text.as_str();
    // Byte offsets of each whitespace-separated word.
    let tokens: Vec<(usize, &str)> = text
        .split_whitespace()
        .map(|t| (t.as_ptr() as usize - text.as_ptr() as usize, t))
        .collect();
    let byte = match at {
        SplitAt::Word(k) if k >= 1 && k < tokens.len() => tokens[k].0,
        SplitAt::Word(k) => {
            return Err(Error::Invalid(format!(
                "a split before word {k} is outside the text (it has {} words; split before 1–{})",
                tokens.len(),
                tokens.len().saturating_sub(1)
            )));
        }
        SplitAt::Char(c) => text.char_indices().nth(c).map_or(text.len(), |(b, _)| b),
    };
    let (left_text, right_text) = (text[..byte].trim_end(), text[byte..].trim_start());
    if left_text.is_empty() || right_text.is_empty() {
        return Err(Error::Invalid(format!(
            "a split at {at:?} is outside the text: it would leave one side empty"
        )));
    }
    if seg.end_ms - seg.start_ms < 2 {
        return Err(Error::Invalid(format!(
            "segment {} is too short to split",
            seg.id
        )));
    }
    // Whole words on the left, and whether the caret stands between words.
    let left_count = tokens.iter().filter(|(b, _)| *b < byte).count();
    let between_words = tokens
        .iter()
        .all(|(b, t)| byte <= *b || byte >= b + t.len());
    let words_follow_text = seg.words_aligned && seg.words.len() == tokens.len();
    let letters = |s: &str| s.chars().filter(|c| !c.is_whitespace()).count() as i64;
    let proportional =
        seg.start_ms + (seg.end_ms - seg.start_ms) * letters(left_text) / letters(text).max(1);
    let time_ms = if words_follow_text && between_words {
        seg.words[left_count].start_ms as i64
    } else {
        proportional
    }
    .clamp(seg.start_ms + 1, seg.end_ms - 1);
    let (left_words, right_words) = if words_follow_text && between_words {
        let (l, r) = seg.words.split_at(left_count);
        (l.to_vec(), r.to_vec())
    } else {
        seg.words
            .iter()
            .cloned()
            .partition(|w| ((w.start_ms + w.end_ms) / 2) < time_ms as u64)
    };
    Ok(SplitPlan {
        time_ms,
        left_text: left_text.to_owned(),
        right_text: right_text.to_owned(),
        left_words: clip_words(&left_words, seg.start_ms, time_ms),
        right_words: clip_words(&right_words, time_ms, seg.end_ms),
        aligned: words_follow_text && between_words,
    })
}
