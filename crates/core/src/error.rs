//! The one error type of this crate.

use crate::document::{SCHEMA, SCHEMA_VERSION};

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// Not JSON, or not this shape.
    #[error("not a tocky transcript: {0}")]
    Invalid(#[from] serde_json::Error),
    /// Another schema.
    #[error("schema {0:?} is not {SCHEMA:?}")]
    WrongSchema(String),
    /// A version this build does not know.
    #[error(
        "transcript schema version {found} is not supported (this build reads {SCHEMA_VERSION})"
    )]
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
    },
}

/// Why a recognition on request failed ([`crate::recognise::Recognise`]).
#[derive(Debug, thiserror::Error)]
pub enum RecogniseError {
    /// The session's audio cannot be found or decoded.
    #[error("{0}")]
    NoAudio(String),
    /// The model failed.
    #[error("{0}")]
    Failed(String),
}

/// Why a whole-file transcription ([`crate::transcribe::TranscribeAudio`])
/// failed.
#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    /// The file is empty, not audio, or in a format that cannot be decoded:
    /// the client's fault.
    #[error("{0}")]
    NotAudio(String),
    /// The model asked for is not one this service runs.
    #[error("model {0:?} is not loaded")]
    UnknownModel(String),
    /// The recogniser failed: the server's fault.
    #[error("{0}")]
    Failed(String),
}
