//! The sitting's record, derived (never stored): the agenda's items in
//! order, each with its speeches and the scene notes between them.
//!
//! A speech is a run of consecutive segments (in time order) of one
//! speaker within one agenda item. Segments that are not speech are left
//! out and do not break a speech; a scene note, an item's start or a
//! change of speaker does. A note falls before the first segment that
//! starts at or after its moment, so a note at an item's first moment
//! closes the item before it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::agenda::{AgendaItem, agenda_of};
use crate::model::SegmentState;
use crate::notes::{SceneNote, notes_of};
use crate::{Result, Store, get_segment};

/// A sitting's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Its session.
    pub session_id: i64,
    /// Its parts in time order: what came before the first started item
    /// (only when there is any), then every started item.
    pub items: Vec<RecordItem>,
}

/// One part of the record: an agenda item, or what came before the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordItem {
    /// The item; `None` for what came before the first started item.
    pub item: Option<AgendaItem>,
    /// Its speeches and notes, in time order.
    pub entries: Vec<RecordEntry>,
}

/// A speech or a scene note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RecordEntry {
    /// A speech.
    Speech(Speech),
    /// A scene note.
    Note(SceneNote),
}

/// Consecutive segments of one speaker within one agenda item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Speech {
    /// The session's speaker; `None` when the segments have none.
    pub speaker_id: Option<i64>,
    /// The registry's person the speaker is, if linked.
    pub person_id: Option<i64>,
    /// The speaker's name, if known.
    pub speaker: Option<String>,
    /// Its segments, in time order.
    pub segment_ids: Vec<i64>,
    /// Where its first segment starts (ms).
    pub start_ms: i64,
    /// Where its last segment ends (ms).
    pub end_ms: i64,
}

/// What happens at a moment of the sitting, in the order the record meets
/// it: a note first, then an item's start, then the segment it starts at.
enum Event {
    Note(SceneNote),
    Start(AgendaItem),
    Segment(crate::model::StoredSegment),
}

impl Store {
    /// The sitting's record, derived from its segments, speakers, agenda
    /// and scene notes in one consistent read.
    pub fn record(&self, session_id: i64) -> Result<Record> {
        // One read transaction: the parts come from one snapshot. Inside a
        // caller's transaction (publishing) the reads already share one.
        let tx = match self.conn.is_autocommit() {
            true => Some(self.conn.unchecked_transaction()?),
            false => None,
        };
        let conn = &self.conn;
        let segments = self.segments(session_id)?;
        let speakers: HashMap<i64, (String, Option<i64>)> = self
            .speakers(session_id)?
            .into_iter()
            .map(|s| (s.id, (s.name, s.person_id)))
            .collect();
        let mut events: Vec<((i64, u8, i64), Event)> = Vec::new();
        for note in notes_of(conn, session_id)? {
            events.push(((note.at_ms, 0, note.id), Event::Note(note)));
        }
        for item in agenda_of(conn, session_id)? {
            let Some(start) = item.start_segment_id else {
                continue;
            };
            // An item whose first segment left the record (merged into the
            // one before) still starts at that segment's time.
            let Ok(segment) = get_segment(conn, start) else {
                continue;
            };
            events.push(((segment.start_ms, 1, segment.seq), Event::Start(item)));
        }
        for segment in segments {
            events.push(((segment.start_ms, 2, segment.seq), Event::Segment(segment)));
        }
        // Stable: at one moment, notes, then starts, then segments; within
        // a kind, by id or place.
        events.sort_by(|a, b| {
            let ((at_a, kind_a, n_a), (at_b, kind_b, n_b)) = (a.0, b.0);
            (at_a, kind_a.min(1), n_a, kind_a).cmp(&(at_b, kind_b.min(1), n_b, kind_b))
        });
        if let Some(tx) = tx {
            tx.commit()?;
        }

        let mut items = vec![RecordItem {
            item: None,
            entries: Vec::new(),
        }];
        let mut speech: Option<Speech> = None;
        for (_, event) in events {
            let entries = match items.last_mut() {
                Some(last) => &mut last.entries,
                None => continue,
            };
            match event {
                Event::Note(note) => {
                    entries.extend(speech.take().map(RecordEntry::Speech));
                    entries.push(RecordEntry::Note(note));
                }
                Event::Start(item) => {
                    entries.extend(speech.take().map(RecordEntry::Speech));
                    items.push(RecordItem {
                        item: Some(item),
                        entries: Vec::new(),
                    });
                }
                Event::Segment(segment) => {
                    if segment.state != SegmentState::Speech {
                        continue;
                    }
                    match &mut speech {
                        Some(s) if s.speaker_id == segment.speaker_id => {
                            s.segment_ids.push(segment.id);
                            s.end_ms = s.end_ms.max(segment.end_ms);
                        }
                        _ => {
                            entries.extend(speech.take().map(RecordEntry::Speech));
                            let known = segment.speaker_id.and_then(|id| speakers.get(&id));
                            speech = Some(Speech {
                                speaker_id: segment.speaker_id,
                                person_id: known.and_then(|k| k.1),
                                speaker: known.map(|k| k.0.clone()),
                                segment_ids: vec![segment.id],
                                start_ms: segment.start_ms,
                                end_ms: segment.end_ms,
                            });
                        }
                    }
                }
            }
        }
        if let Some(last) = items.last_mut() {
            last.entries.extend(speech.take().map(RecordEntry::Speech));
        }
        if items.first().is_some_and(|i| i.entries.is_empty()) {
            items.remove(0);
        }
        Ok(Record { session_id, items })
    }
}
