//! What the store holds, as Rust values.

use serde::{Deserialize, Serialize};
use tocky_core::Word;

/// A recorded sitting (or one agenda item of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Its id.
    pub id: i64,
    /// A title for people.
    pub title: String,
    /// The sitting's date, `YYYY-MM-DD`.
    pub sitting_date: Option<String>,
    /// The agenda item.
    pub agenda_item: Option<String>,
    /// The audio file's name.
    pub audio_file: Option<String>,
    /// The audio's SHA-256.
    pub audio_sha256: Option<String>,
    /// Duration in ms.
    pub duration_ms: i64,
    /// Language code.
    pub language: String,
    /// `live` while recognised live, else `draft` (`reviewed` and
    /// `published` are of records made before the workflow; see `workflow`).
    pub status: String,
    /// When it was created (UTC, ISO 8601).
    pub created_at: String,
    /// Where the working record stands in the workflow: `draft`,
    /// `checked`, `approved`, `published` or `final` (docs/workflow.md).
    #[serde(default = "draft")]
    pub workflow: String,
}

fn draft() -> String {
    "draft".into()
}

/// Facts about a session that a transcript does not carry.
#[derive(Debug, Clone, Default)]
pub struct SessionMeta {
    /// A title; the audio file's name when absent.
    pub title: Option<String>,
    /// The sitting's date, `YYYY-MM-DD`.
    pub sitting_date: Option<String>,
    /// The agenda item.
    pub agenda_item: Option<String>,
}

/// A segment as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSegment {
    /// Its id.
    pub id: i64,
    /// Its session.
    pub session_id: i64,
    /// Its position in the session.
    pub seq: i64,
    /// Start in ms.
    pub start_ms: i64,
    /// End in ms.
    pub end_ms: i64,
    /// The audio channel, when channels were transcribed separately.
    pub channel: Option<i64>,
    /// The speaker, if known.
    pub speaker_id: Option<i64>,
    /// The text, NFC.
    pub text: String,
    /// Words with times and probabilities: as transcribed, or as last
    /// re-aligned to the text (see `words_aligned`).
    pub words: Vec<Word>,
    /// Incremented by every edit; an edit must name the version it changes.
    pub version: i64,
    /// `draft` or `reviewed`.
    pub review_status: String,
    /// When it last changed.
    pub updated_at: String,
    /// Whether it is in the record.
    pub state: SegmentState,
    /// Whether `words` are the words of the current text, timed within the
    /// current bounds (false after an edit, until re-alignment).
    pub words_aligned: bool,
}

/// Whether a segment is in the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentState {
    /// Speech: in the record and in search.
    Speech,
    /// Not speech (noise, an aside): hidden from the record and search,
    /// listed so that it can be restored.
    NotSpeech,
    /// Out of the record by an operation (merged into the segment before
    /// it, or made by an operation since undone); kept only so that the
    /// operation can be undone or redone, and listed nowhere.
    Removed,
}

impl SegmentState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Speech => "speech",
            Self::NotSpeech => "not_speech",
            Self::Removed => "removed",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "speech" => Some(Self::Speech),
            "not_speech" => Some(Self::NotSpeech),
            "removed" => Some(Self::Removed),
            _ => None,
        }
    }
}

/// A change to a segment. Fields left `None` stay as they are.
#[derive(Debug, Clone, Default)]
pub struct SegmentEdit {
    /// New text.
    pub text: Option<String>,
    /// New speaker (`Some(None)` clears it).
    pub speaker_id: Option<Option<i64>>,
    /// New review status.
    pub review_status: Option<ReviewStatus>,
}

/// A segment's review status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewStatus {
    /// Machine or partly corrected text.
    Draft,
    /// Checked by a stenographer.
    Reviewed,
}

impl ReviewStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Reviewed => "reviewed",
        }
    }
}

/// One saved edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    /// Its id.
    pub id: i64,
    /// The segment.
    pub segment_id: i64,
    /// The version this edit produced.
    pub version: i64,
    /// Who saved it.
    pub author: String,
    /// When.
    pub created_at: String,
    /// Text before.
    pub text_before: String,
    /// Text after.
    pub text_after: String,
    /// Speaker before.
    pub speaker_before: Option<i64>,
    /// Speaker after.
    pub speaker_after: Option<i64>,
    /// Review status before.
    pub status_before: String,
    /// Review status after.
    pub status_after: String,
    /// The operation (split, merge, …) that made this revision, if it was
    /// not a plain edit: restoring it means undoing that operation.
    pub operation_id: Option<i64>,
}

/// What an ingest did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// A new session with this many segments.
    Created {
        /// The new session.
        session_id: i64,
        /// Segments stored.
        segments: usize,
    },
    /// The same audio was ingested before; nothing changed.
    AlreadyPresent {
        /// The existing session.
        session_id: i64,
    },
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When (UTC, ISO 8601).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What: `ingest`, `edit`, `login`, `restore` …
    pub action: String,
    /// What it was done to.
    pub subject: Option<String>,
}

/// What the search index needs of a segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRow {
    /// The segment.
    pub segment_id: i64,
    /// Its session.
    pub session_id: i64,
    /// Its speaker, if known.
    pub speaker_id: Option<i64>,
    /// Where it starts in the audio (ms), for the jump.
    pub start_ms: i64,
    /// The session's sitting date, `YYYY-MM-DD`.
    pub sitting_date: Option<String>,
    /// The text.
    pub text: String,
    /// Whether search should find it (a speech segment), or only drop it.
    pub in_record: bool,
}

/// A session with how far its review has got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The session.
    #[serde(flatten)]
    pub session: Session,
    /// Its segments.
    pub segment_count: i64,
    /// Those marked reviewed.
    pub reviewed_count: i64,
}

/// Someone who speaks in a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Speaker {
    /// Its id.
    pub id: i64,
    /// The name, NFC.
    pub name: String,
    /// The seat in the hall, if known.
    pub seat: Option<String>,
    /// The microphone channel, if known.
    pub channel: Option<i64>,
    /// The person in the registry this speaker is, once linked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<i64>,
}

/// What an account may do. Each role may do all that the roles before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Searches and listens.
    Reader,
    /// Also edits the transcript, and marks a sitting checked.
    Stenographer,
    /// Also approves, publishes and finalises a sitting's record.
    Editor,
    /// Also manages accounts.
    Admin,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Stenographer => "stenographer",
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "reader" => Ok(Self::Reader),
            "stenographer" => Ok(Self::Stenographer),
            "editor" => Ok(Self::Editor),
            "admin" => Ok(Self::Admin),
            other => Err(format!(
                "unknown role {other:?} (expected admin, editor, stenographer or reader)"
            )),
        }
    }
}

/// An account of the review server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The login name.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// When it was created.
    pub created_at: String,
}

/// Where the record stands for a search index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchSync {
    /// The store generation.
    pub generation: i64,
    /// An index that reflects a generation below this one must be rebuilt
    /// whole: the record was replaced (a restore) after it.
    pub rebuild_from: i64,
}
