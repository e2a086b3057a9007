//! A published version's content: the sitting's record frozen as JSON, and
//! the corrections between two versions.
//!
//! The content is [`PublishedRecord`] serialised by serde_json, compact,
//! fields in their declared order and lists in the record's order (no map
//! whose order could vary): the same record always gives the same bytes,
//! and so the same SHA-256.
//!
//! Each segment carries its written form (the record layer, as printed:
//! `tocky_itn`'s rules applied at publication) beside its verbatim text, so
//! that a version prints the same words even after the rules change in a
//! later release. Content published before the written form was frozen
//! (schema version 1) has none: [`PublishedSegment::written_or`] writes it
//! with the rules of today.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::agenda::AgendaItem;
use crate::model::{SegmentState, Session, Speaker};
use crate::notes::SceneNote;
use crate::people::Person;
use crate::record::RecordItem;
use crate::{Error, Result, Store};
use tocky_itn::Itn;

/// [`PublishedRecord::schema`].
pub const SCHEMA: &str = "tocky.published_record";
/// [`PublishedRecord::schema_version`]: 2 adds
/// [`PublishedSegment::written`]; version 1 content still reads.
pub const SCHEMA_VERSION: u32 = 2;

/// A sitting's record as published: what renderers (JSON, AKN, HTML, DOCX)
/// read for a version. Its number, state and publisher are the version's
/// ([`super::VersionInfo`]), not part of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishedRecord {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Always [`SCHEMA_VERSION`] for what this crate writes.
    pub schema_version: u32,
    /// The sitting.
    pub session: PublishedSession,
    /// Its speakers.
    pub speakers: Vec<Speaker>,
    /// The registry's people its speakers are, as they were at publication.
    pub persons: Vec<Person>,
    /// Its agenda, started items or not, in order.
    pub agenda: Vec<AgendaItem>,
    /// Its scene notes, in time order.
    pub notes: Vec<SceneNote>,
    /// Its segments in the record (speech), in time order.
    pub segments: Vec<PublishedSegment>,
    /// The record: items with their speeches and notes ([`Store::record`]).
    pub record: Vec<RecordItem>,
}

/// The sitting's facts that a published record carries (not its
/// workflow state, which moves on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedSession {
    /// Its id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// The sitting's date, `YYYY-MM-DD`.
    pub sitting_date: Option<String>,
    /// The agenda item given at ingest.
    pub agenda_item: Option<String>,
    /// The audio file's name.
    pub audio_file: Option<String>,
    /// The audio's SHA-256.
    pub audio_sha256: Option<String>,
    /// Duration in ms.
    pub duration_ms: i64,
    /// Language code.
    pub language: String,
}

impl PublishedSession {
    /// The session as this version has it: its frozen facts, `status`
    /// `published`, `created_at` (not frozen: it never changes) and
    /// `workflow` as the caller shows it.
    pub fn into_session(self, created_at: String, workflow: &str) -> Session {
        Session {
            id: self.id,
            title: self.title,
            sitting_date: self.sitting_date,
            agenda_item: self.agenda_item,
            audio_file: self.audio_file,
            audio_sha256: self.audio_sha256,
            duration_ms: self.duration_ms,
            language: self.language,
            status: "published".into(),
            created_at,
            workflow: workflow.into(),
        }
    }
}

/// A segment as published: its place, speaker, verbatim text and written
/// form (no words: their timing is re-aligned after edits and is not part
/// of the record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedSegment {
    /// Its id in the store.
    pub id: i64,
    /// Start in ms.
    pub start_ms: i64,
    /// End in ms.
    pub end_ms: i64,
    /// The speaker, if known.
    pub speaker_id: Option<i64>,
    /// The verbatim text, as said and corrected.
    pub text: String,
    /// The written form as the record printed it at publication (fillers
    /// and false starts removed, numbers and references written out);
    /// `None` in content published before it was frozen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<String>,
}

impl PublishedSegment {
    /// The text as the record prints it: the frozen written form, or for
    /// content published before it was frozen, `itn`'s written form of the
    /// verbatim text.
    pub fn written_or(&self, itn: &Itn) -> String {
        match &self.written {
            Some(written) => written.clone(),
            None => itn.line(&self.text).text,
        }
    }
}

/// The frozen record of `session_id` as it is now, with its SHA-256 (hex).
/// Run inside the publishing transaction, so that it is what was checked.
/// `written` writes each segment's written form (publishing passes the
/// store's rules, [`Store::written`]).
pub(super) fn freeze(store: &Store, session_id: i64, written: &Itn) -> Result<(String, String)> {
    let session = store.session(session_id)?;
    let speakers = store.speakers(session_id)?;
    let mut persons: Vec<Person> = Vec::new();
    for id in speakers.iter().filter_map(|s| s.person_id) {
        if persons.iter().all(|p| p.id != id) {
            persons.push(store.person_by_id(id)?);
        }
    }
    persons.sort_by_key(|p| p.id);
    let segments = store
        .segments(session_id)?
        .into_iter()
        .filter(|s| s.state == SegmentState::Speech)
        .map(|s| PublishedSegment {
            id: s.id,
            start_ms: s.start_ms,
            end_ms: s.end_ms,
            speaker_id: s.speaker_id,
            written: Some(written.line(&s.text).text),
            text: s.text,
        })
        .collect();
    let record = PublishedRecord {
        schema: SCHEMA.into(),
        schema_version: SCHEMA_VERSION,
        session: PublishedSession {
            id: session.id,
            title: session.title,
            sitting_date: session.sitting_date,
            agenda_item: session.agenda_item,
            audio_file: session.audio_file,
            audio_sha256: session.audio_sha256,
            duration_ms: session.duration_ms,
            language: session.language,
        },
        speakers,
        persons,
        agenda: store.agenda(session_id)?,
        notes: store.notes(session_id)?,
        segments,
        record: store.record(session_id)?.items,
    };
    let content = serde_json::to_string(&record)
        .map_err(|e| Error::Invalid(format!("the record of session {session_id}: {e}")))?;
    let sha = sha256_hex(content.as_bytes());
    Ok((content, sha))
}

impl Store {
    /// Sets the rules of the record's written form that publishing freezes
    /// into each version and that renderers of the working record apply
    /// (by default, [`tocky_itn::Options::default`]): the server's
    /// `[record]` configuration, or `tocky`'s `--fillers` and
    /// `--keep-fillers`. The verbatim text is never changed by them.
    pub fn set_written(&mut self, options: tocky_itn::Options) {
        self.written = Itn::new(options);
    }

    /// The rules of the record's written form ([`Store::set_written`]).
    pub fn written(&self) -> &Itn {
        &self.written
    }
}

/// The SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What of a published record the corrections compare; the rest of its
/// fields are ignored when read back.
#[derive(Deserialize)]
struct Comparable {
    speakers: Vec<Speaker>,
    agenda: Vec<AgendaItem>,
    notes: Vec<SceneNote>,
    segments: Vec<PublishedSegment>,
}

/// One change between two versions, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Change {
    pub target: &'static str,
    pub target_id: i64,
    pub change: &'static str,
    pub at_ms: Option<i64>,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The corrections from the content `before` to `after`, in the order of
/// the sitting (segments, then notes, then agenda items, each by moment).
pub(super) fn changes(before: &str, after: &str) -> Result<Vec<Change>> {
    let read = |json: &str| -> Result<Comparable> {
        serde_json::from_str(json)
            .map_err(|e| Error::Invalid(format!("a published version cannot be read: {e}")))
    };
    let (old, new) = (read(before)?, read(after)?);
    let mut out = Vec::new();

    let names = |c: &Comparable| -> HashMap<i64, String> {
        c.speakers.iter().map(|s| (s.id, s.name.clone())).collect()
    };
    let (old_names, new_names) = (names(&old), names(&new));
    let speaker = |names: &HashMap<i64, String>, id: Option<i64>| {
        id.map(|id| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")))
    };
    let old_segments: BTreeMap<i64, &PublishedSegment> =
        old.segments.iter().map(|s| (s.id, s)).collect();
    let new_ids: BTreeMap<i64, &PublishedSegment> =
        new.segments.iter().map(|s| (s.id, s)).collect();
    let mut segment_changes = Vec::new();
    for s in &new.segments {
        let change = |change, before, after| Change {
            target: "segment",
            target_id: s.id,
            change,
            at_ms: Some(s.start_ms),
            before,
            after,
        };
        match old_segments.get(&s.id) {
            None => segment_changes.push(change("added", None, Some(s.text.clone()))),
            Some(o) => {
                if o.text != s.text {
                    segment_changes.push(change(
                        "text",
                        Some(o.text.clone()),
                        Some(s.text.clone()),
                    ));
                } else if let (Some(was), Some(is)) = (&o.written, &s.written)
                    && was != is
                {
                    // The same words written otherwise (rules of a later
                    // release): what readers see changed, so it is listed,
                    // in the written form.
                    segment_changes.push(change("text", Some(was.clone()), Some(is.clone())));
                }
                let (was, is) = (
                    speaker(&old_names, o.speaker_id),
                    speaker(&new_names, s.speaker_id),
                );
                if was != is {
                    segment_changes.push(change("speaker", was, is));
                }
            }
        }
    }
    for o in old.segments.iter().filter(|o| !new_ids.contains_key(&o.id)) {
        segment_changes.push(Change {
            target: "segment",
            target_id: o.id,
            change: "removed",
            at_ms: Some(o.start_ms),
            before: Some(o.text.clone()),
            after: None,
        });
    }
    segment_changes.sort_by_key(|c| (c.at_ms, c.target_id));
    out.extend(segment_changes);

    let notes = |c: &Comparable| -> Vec<(i64, Option<i64>, String)> {
        c.notes
            .iter()
            .map(|n| {
                (
                    n.id,
                    Some(n.at_ms),
                    format!("{}: {}", n.kind.as_str(), n.text),
                )
            })
            .collect()
    };
    out.extend(compare("note", &notes(&old), &notes(&new)));
    let items = |c: &Comparable| -> Vec<(i64, Option<i64>, String)> {
        c.agenda
            .iter()
            .map(|i| match &i.reference {
                Some(r) => (i.id, None, format!("{} ({r})", i.title)),
                None => (i.id, None, i.title.clone()),
            })
            .collect()
    };
    out.extend(compare("agenda_item", &items(&old), &items(&new)));
    Ok(out)
}

/// Text changes, additions and removals between two lists of
/// `(id, moment, text)`.
fn compare(
    target: &'static str,
    old: &[(i64, Option<i64>, String)],
    new: &[(i64, Option<i64>, String)],
) -> Vec<Change> {
    let before: HashMap<i64, &str> = old.iter().map(|(id, _, t)| (*id, t.as_str())).collect();
    let after: HashMap<i64, &str> = new.iter().map(|(id, _, t)| (*id, t.as_str())).collect();
    let mut out = Vec::new();
    for (id, at, text) in new {
        let change = match before.get(id) {
            None => "added",
            Some(was) if *was != text => "text",
            Some(_) => continue,
        };
        out.push(Change {
            target,
            target_id: *id,
            change,
            at_ms: *at,
            before: before.get(id).map(|t| (*t).to_owned()),
            after: Some(text.clone()),
        });
    }
    for (id, at, text) in old.iter().filter(|(id, _, _)| !after.contains_key(id)) {
        out.push(Change {
            target,
            target_id: *id,
            change: "removed",
            at_ms: *at,
            before: Some(text.clone()),
            after: None,
        });
    }
    out
}
