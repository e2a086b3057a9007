//! What an export holds: the session, its speakers and the people they
//! are, its segments in the record, its agenda and notes, and the record
//! itself (items, speeches with their headings and text, notes), read in
//! one go from the store. The JSON export is this, serialised. A
//! published version's export ([`SessionExport::load_version`]) is built
//! from that version's frozen content alone, so that it never changes.
//!
//! Every speech is printed in written form (docs/itn.md: numbers and
//! references written out, fillers and false starts removed), segment by
//! segment, by the store's rules ([`Store::written`]); a version prints
//! the written form frozen at its publication (or, for one published
//! before that was frozen, its verbatim text by today's rules). The
//! verbatim text in the store is never changed: the JSON keeps it in
//! `segments` and beside each speech's text.

use std::collections::HashMap;

use serde::Serialize;
use tocky_itn::Itn;
use tocky_store::{
    AgendaItem, Person, PersonRole, PublishedRecord, RecordEntry, RecordItem, SceneNote,
    SegmentState, Session, Speaker, Speech, Store, StoredSegment, VersionInfo, WorkflowStep,
};

/// The JSON export's `schema`.
pub const SCHEMA: &str = "tocky.session";
/// The JSON export's `schema_version`: 2 adds `schema_version`, `persons`,
/// `agenda`, `notes` and `record`, and leaves out segments that are not
/// speech; the fields of version 1 (unversioned) are kept as they were. 3:
/// a speech's `text` is its written form, and its verbatim text is beside
/// it in `verbatim`.
pub const SCHEMA_VERSION: u32 = 3;

/// A session as exported.
#[derive(Debug, Clone, Serialize)]
pub struct SessionExport {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The session.
    pub session: Session,
    /// Its speakers.
    pub speakers: Vec<Speaker>,
    /// The registry's people its speakers are linked to.
    pub persons: Vec<Person>,
    /// Its segments in the record (speech), in time order.
    pub segments: Vec<StoredSegment>,
    /// Its agenda, started items or not, in order.
    pub agenda: Vec<AgendaItem>,
    /// Its scene notes, in time order.
    pub notes: Vec<SceneNote>,
    /// The record: what came before the first item (if anything), then
    /// each started item, with its speeches and notes in time order.
    pub record: Vec<ExportItem>,
    /// The published version exported, if one is (absent from the JSON of
    /// the working record, which keeps its fields as they were).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<ExportVersion>,
    /// The sitting's workflow steps (checked, approved, published, final)
    /// that the AKN export lists; for a version, those up to its
    /// publication. Not part of the JSON, which the workflow API serves.
    #[serde(skip)]
    pub workflow: Vec<WorkflowStep>,
    /// Each segment's written form, by segment id: what the record prints
    /// for it ([`SessionExport::segment_text`]).
    #[serde(skip)]
    pub written: HashMap<i64, String>,
    /// The words of each segment whose written form differs from its
    /// verbatim text, timed by the verbatim words they come from
    /// ([`crate::written::written_words`]), for subtitles; only for the
    /// working record's segments whose words are aligned.
    #[serde(skip)]
    pub written_timing: HashMap<i64, Vec<tocky_core::Word>>,
}

/// The facts of a published version that never change once it is
/// published (not its state or its successor, which do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportVersion {
    /// Its number, from 1.
    pub number: i64,
    /// Who published it.
    pub published_by: String,
    /// When (UTC, ISO 8601).
    pub published_at: String,
    /// The SHA-256 of its frozen content.
    pub sha256: String,
}

impl From<&VersionInfo> for ExportVersion {
    fn from(info: &VersionInfo) -> Self {
        Self {
            number: info.number,
            published_by: info.published_by.clone(),
            published_at: info.published_at.clone(),
            sha256: info.sha256.clone(),
        }
    }
}

/// The workflow steps an export lists: the moves forward (not the ones
/// back to draft, which the record's edits make).
fn forward_steps(history: Vec<WorkflowStep>) -> Vec<WorkflowStep> {
    history
        .into_iter()
        .filter(|s| {
            matches!(
                s.to.as_str(),
                "checked" | "approved" | "published" | "final"
            )
        })
        .collect()
}

/// One part of the record.
#[derive(Debug, Clone, Serialize)]
pub struct ExportItem {
    /// The agenda item; `None` for what came before the first.
    pub item: Option<AgendaItem>,
    /// Its speeches and notes, in time order.
    pub entries: Vec<ExportEntry>,
}

/// A speech or a scene note of the record.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExportEntry {
    /// A speech.
    Speech(ExportSpeech),
    /// A scene note.
    Note(SceneNote),
}

/// A speech as printed.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSpeech {
    /// The store's speech (speaker, person, segments, bounds).
    #[serde(flatten)]
    pub speech: Speech,
    /// Who speaks as the record prints it: the person's title and name
    /// (and delegation, for a delegate) when the speaker is linked to the
    /// registry, else the speaker's name; `None` when unknown.
    pub heading: Option<String>,
    /// The text as the record prints it: its segments' written forms,
    /// joined by spaces.
    pub text: String,
    /// Its segments' verbatim texts (as said and corrected), joined by
    /// spaces.
    pub verbatim: String,
    /// Its segments' written forms, one per segment that prints anything
    /// (AKN prints a paragraph for each).
    #[serde(skip)]
    pub paragraphs: Vec<String>,
}

/// The record's label of a role without a more precise title.
pub(crate) fn role_label(role: PersonRole) -> Option<&'static str> {
    match role {
        PersonRole::Delegate => Some("Đại biểu"),
        PersonRole::Chair => Some("Chủ tịch Quốc hội"),
        PersonRole::ViceChair => Some("Phó Chủ tịch Quốc hội"),
        PersonRole::SecretaryGeneral => Some("Tổng Thư ký Quốc hội"),
        PersonRole::Minister => Some("Thành viên Chính phủ"),
        PersonRole::Invited => None,
    }
}

/// How the record names `person` on `date` (YYYY-MM-DD, if known): the
/// title of the role that holds then (the first role when no date is
/// known), the name, and a delegate's delegation.
pub fn person_heading(person: &Person, date: Option<&str>) -> String {
    let role = match date {
        Some(date) => person.roles_on(date).next(),
        None => person.roles.first(),
    };
    let title = role.and_then(|r| r.title.as_deref().or_else(|| role_label(r.role)));
    let mut heading = match title {
        Some(title) => format!("{title} {}", person.name),
        None => person.name.clone(),
    };
    if let (Some(r), Some(delegation)) = (role, person.delegation.as_deref())
        && r.role == PersonRole::Delegate
    {
        heading.push_str(&format!(" ({delegation})"));
    }
    heading
}

impl SessionExport {
    /// Reads session `id` as it is now: its working record
    /// ([`Store::record`]) and every workflow step so far.
    pub fn load(store: &Store, id: i64) -> tocky_store::Result<Self> {
        let session = store.session(id)?;
        let speakers = store.speakers(id)?;
        let record = store.record(id)?;
        let segments: Vec<StoredSegment> = store
            .segments(id)?
            .into_iter()
            .filter(|s| s.state == SegmentState::Speech)
            .collect();
        let mut persons: Vec<Person> = Vec::new();
        for person_id in speakers.iter().filter_map(|s| s.person_id) {
            if persons.iter().all(|p| p.id != person_id)
                && let Ok(person) = store.person_by_id(person_id)
            {
                persons.push(person);
            }
        }
        let mut written = HashMap::new();
        let mut timing = HashMap::new();
        for s in &segments {
            let w = store.written().line(&s.text);
            if w.text != s.text
                && s.words_aligned
                && let Some(words) =
                    crate::written::written_words(&s.text, &s.words, &w.text, &w.spans)
            {
                timing.insert(s.id, words);
            }
            written.insert(s.id, w.text);
        }
        let mut export = Self::assemble(
            session,
            speakers,
            persons,
            segments,
            written,
            store.agenda(id)?,
            store.notes(id)?,
            record.items,
        );
        export.workflow = forward_steps(store.workflow(id)?.history);
        export.written_timing = timing;
        Ok(export)
    }

    /// Reads version `number` of session `id` from its frozen content
    /// ([`Store::version`]), with the workflow steps up to its publication:
    /// the same version always gives the same export. Only the session's
    /// creation time, which never changes, is read from the session.
    pub fn load_version(store: &Store, id: i64, number: i64) -> tocky_store::Result<Self> {
        let version = store.version(id, number)?;
        let frozen: PublishedRecord = serde_json::from_str(&version.content).map_err(|e| {
            tocky_store::Error::Invalid(format!("version {number} of session {id}: {e}"))
        })?;
        let created_at = store.session(id)?.created_at;
        let mut history = store.workflow(id)?.history;
        // Steps after this version's publication (its finalisation, later
        // versions) would change its export: they are cut off.
        if let Some(end) = history
            .iter()
            .position(|s| s.to == "published" && s.version == Some(number))
        {
            history.truncate(end + 1);
        }
        let mut export = Self::from_published(frozen, &version.info, created_at, store.written());
        export.workflow = forward_steps(history);
        Ok(export)
    }

    /// The export of a version's frozen content (no workflow steps): the
    /// session's fields that are not frozen are fixed, so that they cannot
    /// change its bytes; `created_at` is the session's creation time. Each
    /// segment prints its frozen written form; `itn` writes one for content
    /// published before the written form was frozen.
    pub fn from_published(
        frozen: PublishedRecord,
        info: &VersionInfo,
        created_at: String,
        itn: &Itn,
    ) -> Self {
        // `published` whatever the version's state: finalising must not
        // change its bytes.
        let session = frozen.session.into_session(created_at, "published");
        let written = frozen
            .segments
            .iter()
            .map(|p| (p.id, p.written_or(itn)))
            .collect();
        // A frozen segment has no words (their timing is not part of the
        // record): subtitles are timed by its bounds.
        let segments = frozen
            .segments
            .into_iter()
            .enumerate()
            .map(|(i, p)| StoredSegment {
                id: p.id,
                session_id: session.id,
                seq: i64::try_from(i).unwrap_or(i64::MAX),
                start_ms: p.start_ms,
                end_ms: p.end_ms,
                channel: None,
                speaker_id: p.speaker_id,
                text: p.text,
                words: Vec::new(),
                version: 0,
                review_status: "reviewed".into(),
                updated_at: info.published_at.clone(),
                state: SegmentState::Speech,
                words_aligned: false,
            })
            .collect();
        let mut export = Self::assemble(
            session,
            frozen.speakers,
            frozen.persons,
            segments,
            written,
            frozen.agenda,
            frozen.notes,
            frozen.record,
        );
        export.version = Some(ExportVersion::from(info));
        export
    }

    /// The export of these parts: each speech's heading and text (from
    /// `written`, each segment's written form by id).
    #[allow(clippy::too_many_arguments)] // the parts of an export, each its own
    fn assemble(
        session: Session,
        speakers: Vec<Speaker>,
        persons: Vec<Person>,
        segments: Vec<StoredSegment>,
        written: HashMap<i64, String>,
        agenda: Vec<AgendaItem>,
        notes: Vec<SceneNote>,
        record: Vec<RecordItem>,
    ) -> Self {
        let texts: HashMap<i64, &str> = segments.iter().map(|s| (s.id, s.text.as_str())).collect();
        let printed: HashMap<i64, &str> = written.iter().map(|(id, t)| (*id, t.as_str())).collect();
        let by_person: HashMap<i64, &Person> = persons.iter().map(|p| (p.id, p)).collect();
        let date = session.sitting_date.as_deref();
        let record = record
            .into_iter()
            .map(|part| ExportItem {
                item: part.item,
                entries: part
                    .entries
                    .into_iter()
                    .map(|entry| match entry {
                        RecordEntry::Note(note) => ExportEntry::Note(note),
                        RecordEntry::Speech(speech) => {
                            let heading = match speech.person_id.and_then(|p| by_person.get(&p)) {
                                Some(person) => Some(person_heading(person, date)),
                                None => speech.speaker.clone(),
                            };
                            let joined = |texts: &HashMap<i64, &str>| -> Vec<String> {
                                speech
                                    .segment_ids
                                    .iter()
                                    .filter_map(|id| texts.get(id))
                                    .map(|t| t.trim())
                                    .filter(|t| !t.is_empty())
                                    .map(str::to_owned)
                                    .collect()
                            };
                            let verbatim = joined(&texts).join(" ");
                            let paragraphs = joined(&printed);
                            ExportEntry::Speech(ExportSpeech {
                                text: paragraphs.join(" "),
                                verbatim,
                                paragraphs,
                                speech,
                                heading,
                            })
                        }
                    })
                    .collect(),
            })
            .collect();
        Self {
            schema: SCHEMA,
            schema_version: SCHEMA_VERSION,
            agenda,
            notes,
            session,
            speakers,
            persons,
            segments,
            record,
            version: None,
            workflow: Vec::new(),
            written,
            written_timing: HashMap::new(),
        }
    }

    /// The segments in the record by id.
    pub fn segment_map(&self) -> HashMap<i64, &StoredSegment> {
        self.segments.iter().map(|s| (s.id, s)).collect()
    }

    /// What the record prints for `segment`: its written form (its
    /// verbatim text if it has none).
    pub fn segment_text<'a>(&'a self, segment: &'a StoredSegment) -> &'a str {
        self.written
            .get(&segment.id)
            .map_or(segment.text.as_str(), String::as_str)
    }
}
