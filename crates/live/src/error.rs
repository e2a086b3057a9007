//! What can go wrong in a live sitting.

use std::path::PathBuf;

/// A live sitting's error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The audio source failed.
    #[error("audio capture: {0}")]
    Capture(#[from] tocky_capture::Error),
    /// Recognition failed.
    #[error("recognition: {0}")]
    Recognition(#[from] tocky_asr::Error),
    /// The record refused or failed a write.
    #[error("the record: {0}")]
    Store(#[from] tocky_store::Error),
    /// The search index failed.
    #[error("the search index: {0}")]
    Index(#[from] tocky_index::Error),
    /// The audio archive could not be written.
    #[error("archive {path}: {source}")]
    Archive {
        /// The archive file.
        path: PathBuf,
        /// Why.
        source: hound::Error,
    },
    /// The archive reached the largest size a WAV file can describe.
    #[error(
        "archive {path} is full: a WAV file holds at most {seconds:.0} s of {channels} channel(s); start a new sitting to go on"
    )]
    ArchiveFull {
        /// The archive file.
        path: PathBuf,
        /// How much audio it holds.
        seconds: f64,
        /// Its channels.
        channels: usize,
    },
    /// A file or directory could not be used.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The options do not fit the source.
    #[error("{0}")]
    Invalid(String),
    /// A worker thread panicked (a bug).
    #[error("the {0} thread stopped unexpectedly")]
    Thread(&'static str),
}

/// A live sitting's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
