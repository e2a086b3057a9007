//! The one error type of this crate.

use std::path::PathBuf;

/// Why recognition failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model file is missing.
    #[error("model file {path} does not exist")]
    ModelMissing {
        /// The path given.
        path: PathBuf,
    },
    /// whisper.cpp refused to load the model.
    #[error(
        "whisper.cpp could not load the model {path}: {reason} (is it a whisper.cpp ggml file?)"
    )]
    ModelLoad {
        /// The model file.
        path: PathBuf,
        /// What whisper-rs reported.
        reason: String,
    },
    /// The model file is damaged, or not a model whisper.cpp can run:
    /// checked before whisper.cpp, which trusts the file, reads it.
    #[error("{path} is not a usable whisper.cpp model: {source}")]
    ModelInvalid {
        /// The model file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: tocky_models::Error,
    },
    /// A decoding option is invalid.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// whisper.cpp failed while decoding.
    #[error("whisper.cpp failed while decoding: {0}")]
    Decode(String),
    /// There is no audio to decode.
    #[error("no audio samples to transcribe")]
    NoAudio,
    /// A segment too short to give each of its words a time.
    #[error("segment {start_ms}..{end_ms} ms is too short for its {words} words")]
    AlignSpan {
        /// The segment's start (ms).
        start_ms: u64,
        /// The segment's end (ms).
        end_ms: u64,
        /// How many words its text has.
        words: usize,
    },
    /// The audio could not be read.
    #[error(transparent)]
    Audio(#[from] tocky_audio::Error),
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
