//! The one error type of this crate.

use std::path::PathBuf;

use crate::agenda::AgendaItem;
use crate::model::StoredSegment;
use crate::notes::SceneNote;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The schema could not be brought up to date.
    #[error("cannot migrate the database schema: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A transcript document was refused.
    #[error("{0}")]
    Document(#[from] tocky_core::document::DocumentError),
    /// Input that breaks the record's rules.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// No session with this id.
    #[error("no session {0}")]
    UnknownSession(i64),
    /// No segment with this id.
    #[error("no segment {0}")]
    UnknownSegment(i64),
    /// No revision with this id for that segment.
    #[error("segment {segment} has no revision {revision}")]
    UnknownRevision {
        /// The segment.
        segment: i64,
        /// The revision asked for.
        revision: i64,
    },
    /// No account with this name.
    #[error("no user {0:?}")]
    UnknownUser(String),
    /// An account with this name exists already.
    #[error("user {0:?} exists already")]
    UserExists(String),
    /// No speaker with this id.
    #[error("no speaker {0}")]
    UnknownSpeaker(i64),
    /// No person with this id or key in the registry.
    #[error("no person {0:?}")]
    UnknownPerson(String),
    /// One entry of a list of people was refused; nothing of the list was
    /// written.
    #[error("person {index} ({key:?}): {reason}")]
    InvalidPerson {
        /// Its place in the list, from 0.
        index: usize,
        /// Its stable id as given.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No operation with this id.
    #[error("no operation {0}")]
    UnknownOperation(i64),
    /// An operation cannot be undone as things are now.
    #[error("operation {operation} cannot be undone: {reason}")]
    UndoRefused {
        /// The operation.
        operation: i64,
        /// Why, naming the row.
        reason: String,
    },
    /// No agenda item with this id.
    #[error("no agenda item {0}")]
    UnknownAgendaItem(i64),
    /// No scene note with this id.
    #[error("no scene note {0}")]
    UnknownNote(i64),
    /// A change of an agenda item was made against an old version.
    #[error("agenda item {} was changed by someone else (now version {}); reload and try again", current.id, current.version)]
    AgendaConflict {
        /// The item as it is now.
        current: Box<AgendaItem>,
    },
    /// A change of a scene note was made against an old version.
    #[error("scene note {} was changed by someone else (now version {}); reload and try again", current.id, current.version)]
    NoteConflict {
        /// The note as it is now.
        current: Box<SceneNote>,
    },
    /// A step of a sitting's workflow that is not allowed now; nothing
    /// was written.
    #[error("{refusal}")]
    WorkflowRefused {
        /// The session.
        session: i64,
        /// Why.
        refusal: Refusal,
    },
    /// No published version with this number.
    #[error("session {session} has no published version {number}")]
    UnknownVersion {
        /// The session.
        session: i64,
        /// The number asked for.
        number: i64,
    },
    /// A live API key with this name exists already.
    #[error("an API key named {0:?} exists already (revoke it first)")]
    ApiTokenExists(String),
    /// No job with this id.
    #[error("no job {0}")]
    UnknownJob(i64),
    /// A worker's lease on a job is no longer its own (it expired and the
    /// job was taken again, or the job was cancelled or finished): the
    /// worker must stop working on it; nothing was written.
    #[error("job {job} is no longer leased to this worker (it is {state})")]
    LeaseLost {
        /// The job.
        job: i64,
        /// Where the job stands now.
        state: String,
    },
    /// A change of a job that is not allowed as it stands (cancelling a
    /// finished job, retrying a queued one …); nothing was written.
    #[error("job {job}: {reason}")]
    JobRefused {
        /// The job.
        job: i64,
        /// Why, in words.
        reason: String,
    },
    /// An edit was made against an old version: someone saved in between.
    #[error("segment {} was changed by someone else (now version {}); reload and merge", current.id, current.version)]
    Conflict {
        /// The segment as it is now.
        current: Box<StoredSegment>,
    },
}

/// Why a workflow step was refused, in words for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Segments of the record are not marked reviewed.
    #[error("{count} {} not reviewed yet", if *count == 1 { "segment is" } else { "segments are" })]
    Unreviewed {
        /// How many.
        count: i64,
    },
    /// The sitting has no speech in its record.
    #[error("an empty sitting cannot be {step}")]
    Empty {
        /// The step's participle: `checked`, `approved`, `published`.
        step: &'static str,
    },
    /// The step does not follow from where the sitting is.
    #[error("only {needed} sitting can be {step} (it is {state})")]
    OutOfOrder {
        /// The step's participle.
        step: &'static str,
        /// What the sitting must be first, with its article ("a checked").
        needed: &'static str,
        /// Where it is.
        state: String,
    },
    /// The sitting is there already.
    #[error("the sitting is {state} already")]
    Already {
        /// Where it is.
        state: String,
    },
    /// A live sitting is still being recognised.
    #[error("a live sitting cannot be {step} before it ends")]
    Live {
        /// The step's participle.
        step: &'static str,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
