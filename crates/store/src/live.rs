//! Sessions recorded live: created when the sitting starts, appended to
//! as each utterance is finalised, closed when it ends.
//!
//! Each append is one transaction, so that a crash loses no segment that
//! was reported as stored.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use tocky_core::Segment;
use tocky_core::text::nfc;

use crate::error::{Error, Result};
use crate::model::{SessionMeta, Speaker, StoredSegment};
use crate::{SEGMENT_COLUMNS, Store, audit, bump_generation, segment_from_row};

/// A speaker known before the sitting starts: a seat of the hall map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSpeaker {
    /// Name as shown to people (a delegate's name, or "Chủ tọa").
    pub name: String,
    /// The seat's label.
    pub seat: Option<String>,
    /// The audio channel the seat's microphone arrives on.
    pub channel: Option<i64>,
}

impl Store {
    /// Creates a session with status `live`, its audio archived as
    /// `audio_file` (a plain file name, served from a media directory),
    /// and the given speakers. Returns the session id and the speakers.
    pub fn create_live_session(
        &mut self,
        meta: &SessionMeta,
        audio_file: &str,
        language: &str,
        speakers: &[NewSpeaker],
        actor: &str,
    ) -> Result<(i64, Vec<Speaker>)> {
        let title = meta
            .title
            .clone()
            .unwrap_or_else(|| format!("Live {audio_file}"));
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO sessions (title, sitting_date, agenda_item, audio_file, language, status)
             VALUES (?1, ?2, ?3, ?4, ?5, 'live')",
            params![
                nfc(&title),
                meta.sitting_date,
                meta.agenda_item.as_deref().map(nfc),
                audio_file,
                language,
            ],
        )?;
        let session_id = tx.last_insert_rowid();
        let mut created = Vec::with_capacity(speakers.len());
        for s in speakers {
            let name = crate::edits::check_speaker_name(&s.name)?;
            let seat = s
                .seat
                .as_deref()
                .map(crate::clean::check_seat)
                .transpose()?;
            if created.iter().any(|c: &Speaker| c.name == name) {
                return Err(Error::Invalid(format!("speaker {name:?} is listed twice")));
            }
            tx.execute(
                "INSERT INTO speakers (session_id, name, seat, channel) VALUES (?1, ?2, ?3, ?4)",
                params![session_id, name, seat, s.channel],
            )?;
            created.push(Speaker {
                id: tx.last_insert_rowid(),
                name,
                seat,
                channel: s.channel,
                person_id: None,
            });
        }
        bump_generation(&tx)?;
        audit(
            &tx,
            actor,
            "live-start",
            &format!("session {session_id}"),
            audio_file,
        )?;
        tx.commit()?;
        Ok((session_id, created))
    }

    /// Appends finalised segments to a live session, attributed to
    /// `speaker_id`; returns them as stored. The session's duration grows
    /// to cover them.
    pub fn append_segments(
        &mut self,
        session_id: i64,
        segments: &[Segment],
        speaker_id: Option<i64>,
    ) -> Result<Vec<StoredSegment>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let status: Option<String> = tx
            .query_row(
                "SELECT status FROM sessions WHERE id = ?1",
                [session_id],
                |r| r.get(0),
            )
            .optional()?;
        match status.as_deref() {
            None => return Err(Error::UnknownSession(session_id)),
            Some("live") => {}
            Some(other) => {
                return Err(Error::Invalid(format!(
                    "session {session_id} is {other}, not live"
                )));
            }
        }
        if let Some(speaker) = speaker_id {
            let same_session: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM speakers WHERE id = ?1 AND session_id = ?2",
                    [speaker, session_id],
                    |r| r.get(0),
                )
                .optional()?;
            if same_session.is_none() {
                return Err(Error::Invalid(format!(
                    "speaker {speaker} is not in session {session_id}"
                )));
            }
        }
        let generation = bump_generation(&tx)?;
        let mut seq: i64 = tx.query_row(
            "SELECT COALESCE(MAX(seq), -1) + 1 FROM segments WHERE session_id = ?1",
            [session_id],
            |r| r.get(0),
        )?;
        let mut ids = Vec::with_capacity(segments.len());
        let mut end_ms = 0;
        {
            let mut insert = tx.prepare(
                "INSERT INTO segments (session_id, seq, start_ms, end_ms, channel, speaker_id, text, words,
                     generation)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for s in segments {
                if s.end_ms < s.start_ms || i64::try_from(s.end_ms).is_err() {
                    return Err(Error::Invalid(format!(
                        "segment {}..{} ms is not a valid span",
                        s.start_ms, s.end_ms
                    )));
                }
                let words =
                    serde_json::to_string(&s.words).map_err(|e| Error::Invalid(e.to_string()))?;
                insert.execute(params![
                    session_id,
                    seq,
                    s.start_ms as i64,
                    s.end_ms as i64,
                    s.channel.map(i64::from),
                    speaker_id,
                    nfc(s.text.trim()),
                    words,
                    generation,
                ])?;
                ids.push(tx.last_insert_rowid());
                seq += 1;
                end_ms = end_ms.max(s.end_ms as i64);
            }
        }
        tx.execute(
            "UPDATE sessions SET duration_ms = MAX(duration_ms, ?1) WHERE id = ?2",
            params![end_ms, session_id],
        )?;
        let mut stored = Vec::with_capacity(ids.len());
        {
            let mut select = tx.prepare(&format!("{SEGMENT_COLUMNS} WHERE id = ?1"))?;
            for id in ids {
                stored.push(select.query_row([id], segment_from_row)?);
            }
        }
        tx.commit()?;
        Ok(stored)
    }

    /// Ends a live session: it becomes a `draft` of `duration_ms` (at
    /// least as long as its segments).
    pub fn end_live_session(
        &mut self,
        session_id: i64,
        duration_ms: u64,
        actor: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE sessions SET status = 'draft', duration_ms = MAX(duration_ms, ?1)
             WHERE id = ?2 AND status = 'live'",
            params![i64::try_from(duration_ms).unwrap_or(i64::MAX), session_id],
        )?;
        if changed == 0 {
            // Unknown, or not live: say which.
            let status: Option<String> = tx
                .query_row(
                    "SELECT status FROM sessions WHERE id = ?1",
                    [session_id],
                    |r| r.get(0),
                )
                .optional()?;
            return Err(match status {
                None => Error::UnknownSession(session_id),
                Some(status) => {
                    Error::Invalid(format!("session {session_id} is {status}, not live"))
                }
            });
        }
        audit(
            &tx,
            actor,
            "live-end",
            &format!("session {session_id}"),
            &format!("{duration_ms} ms"),
        )?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn segment(start_ms: u64, end_ms: u64, text: &str) -> Segment {
        Segment {
            start_ms,
            end_ms,
            text: text.into(),
            channel: Some(1),
            ..Segment::default()
        }
    }

    #[test]
    fn a_live_session_grows_then_ends_as_a_draft() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("r.db")).unwrap();
        let speakers = [
            NewSpeaker {
                name: "Chủ tọa".into(),
                seat: Some("chair".into()),
                channel: Some(0),
            },
            NewSpeaker {
                name: "Đại biểu A".into(),
                seat: Some("12".into()),
                channel: Some(1),
            },
        ];
        let (id, created) = store
            .create_live_session(&SessionMeta::default(), "live-1.wav", "vi", &speakers, "t")
            .unwrap();
        assert_eq!(created.len(), 2);
        assert_eq!(store.session(id).unwrap().status, "live");
        let generation = store.generation().unwrap();

        let first = store
            .append_segments(id, &[segment(0, 900, " kính thưa ")], Some(created[1].id))
            .unwrap();
        let second = store
            .append_segments(id, &[segment(1000, 2500, "Quốc hội")], None)
            .unwrap();
        assert_eq!(first[0].seq, 0);
        assert_eq!(first[0].text, "kính thưa");
        assert_eq!(first[0].speaker_id, Some(created[1].id));
        assert_eq!(second[0].seq, 1);
        assert!(store.generation().unwrap() > generation);
        assert_eq!(store.session(id).unwrap().duration_ms, 2500);

        store.end_live_session(id, 3000, "t").unwrap();
        let session = store.session(id).unwrap();
        assert_eq!(
            (session.status.as_str(), session.duration_ms),
            ("draft", 3000)
        );
        // A closed session takes no more live segments, and is not closed twice.
        assert!(matches!(
            store.append_segments(id, &[segment(3000, 3100, "x")], None),
            Err(Error::Invalid(_))
        ));
        assert!(store.end_live_session(id, 3000, "t").is_err());
        assert!(matches!(
            store.append_segments(999, &[], None),
            Err(Error::UnknownSession(999))
        ));
    }

    #[test]
    fn a_speaker_of_another_session_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("r.db")).unwrap();
        let seat = |name: &str| NewSpeaker {
            name: name.into(),
            seat: None,
            channel: None,
        };
        let (first, _) = store
            .create_live_session(&SessionMeta::default(), "a.wav", "vi", &[seat("A")], "t")
            .unwrap();
        let (_, others) = store
            .create_live_session(&SessionMeta::default(), "b.wav", "vi", &[seat("B")], "t")
            .unwrap();
        assert!(matches!(
            store.append_segments(first, &[segment(0, 10, "a")], Some(others[0].id)),
            Err(Error::Invalid(_))
        ));
        assert!(store.segments(first).unwrap().is_empty());
    }

    #[test]
    fn bad_spans_and_names_are_refused_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("r.db")).unwrap();
        let twice = [
            NewSpeaker {
                name: "A".into(),
                seat: None,
                channel: None,
            },
            NewSpeaker {
                name: " A".into(),
                seat: None,
                channel: None,
            },
        ];
        assert!(
            store
                .create_live_session(&SessionMeta::default(), "x.wav", "vi", &twice, "t")
                .is_err()
        );
        assert!(store.sessions().unwrap().is_empty());
        let (id, _) = store
            .create_live_session(&SessionMeta::default(), "x.wav", "vi", &[], "t")
            .unwrap();
        let bad = [segment(0, 10, "a"), segment(20, 10, "b")];
        assert!(store.append_segments(id, &bad, None).is_err());
        assert!(store.segments(id).unwrap().is_empty());
    }
}
