//! What an export holds: the session, its speakers and the people they
//! are, its segments in the record, its agenda and notes, and the record
//! itself (items, speeches with their headings and text, notes), read in
//! one go from the store. The JSON export is this, serialised.

use std::collections::HashMap;

use serde::Serialize;
use tocky_store::{
    AgendaItem, Person, PersonRole, RecordEntry, SceneNote, Session, Speaker, Speech, Store,
    StoredSegment,
};

/// The JSON export's `schema`.
pub const SCHEMA: &str = "tocky.session";
/// The JSON export's `schema_version`: 2 adds `schema_version`, `persons`,
/// `agenda`, `notes` and `record`, and leaves out segments that are not
/// speech; the fields of version 1 (unversioned) are kept as they were.
pub const SCHEMA_VERSION: u32 = 2;

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
    /// Its segments' texts, joined by spaces.
    pub text: String,
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
    /// Reads session `id` and derives its record ([`Store::record`]).
    pub fn load(store: &Store, id: i64) -> tocky_store::Result<Self> {
        let session = store.session(id)?;
        let speakers = store.speakers(id)?;
        let record = store.record(id)?;
        let segments: Vec<StoredSegment> = store
            .segments(id)?
            .into_iter()
            .filter(|s| s.state == tocky_store::SegmentState::Speech)
            .collect();
        let mut persons: Vec<Person> = Vec::new();
        for person_id in speakers.iter().filter_map(|s| s.person_id) {
            if persons.iter().all(|p| p.id != person_id)
                && let Ok(person) = store.person_by_id(person_id)
            {
                persons.push(person);
            }
        }
        let texts: HashMap<i64, &str> = segments.iter().map(|s| (s.id, s.text.as_str())).collect();
        let by_person: HashMap<i64, &Person> = persons.iter().map(|p| (p.id, p)).collect();
        let date = session.sitting_date.as_deref();
        let record = record
            .items
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
                            let text = speech
                                .segment_ids
                                .iter()
                                .filter_map(|id| texts.get(id))
                                .map(|t| t.trim())
                                .filter(|t| !t.is_empty())
                                .collect::<Vec<_>>()
                                .join(" ");
                            ExportEntry::Speech(ExportSpeech {
                                speech,
                                heading,
                                text,
                            })
                        }
                    })
                    .collect(),
            })
            .collect();
        Ok(Self {
            schema: SCHEMA,
            schema_version: SCHEMA_VERSION,
            agenda: store.agenda(id)?,
            notes: store.notes(id)?,
            session,
            speakers,
            persons,
            segments,
            record,
        })
    }

    /// The segments in the record by id.
    pub fn segment_map(&self) -> HashMap<i64, &StoredSegment> {
        self.segments.iter().map(|s| (s.id, s)).collect()
    }
}
