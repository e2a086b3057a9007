//! The one error type of this crate.

use std::path::PathBuf;

/// Why a batch, or one file of it, could not be transcribed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pattern that picks files from folders does not parse.
    #[error("bad glob {glob:?}")]
    BadGlob {
        /// The pattern.
        glob: String,
        /// Why.
        #[source]
        source: globset::Error,
    },
    /// The input's size could not be read.
    #[error("cannot read the file")]
    Unreadable(#[source] std::io::Error),
    /// The input could not be hashed.
    #[error(transparent)]
    Hash(#[from] tocky_models::Error),
    /// The input could not be decoded (its message names the file).
    #[error(transparent)]
    Audio(#[from] tocky_audio::Error),
    /// Recognition failed.
    #[error(transparent)]
    Asr(#[from] tocky_asr::Error),
    /// An output or a checkpoint could not be written.
    #[error("writing {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A checkpoint exists but cannot be read.
    #[error("{}: cannot read the checkpoint", path.display())]
    CheckpointUnreadable {
        /// The checkpoint file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A checkpoint of this format version that does not parse: damaged
    /// on disk or edited by hand.
    #[error("{}: corrupt checkpoint", path.display())]
    CorruptCheckpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What the parser said.
        #[source]
        source: serde_json::Error,
    },
    /// The batch was cancelled before this file was finished.
    #[error("cancelled")]
    Cancelled,
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and its causes on one line, `message: cause: cause`, as
/// `anyhow` prints them with `{:#}`: the reason a failed file is reported
/// with, the same whether a terminal or a job record shows it.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut line = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        line.push_str(": ");
        line.push_str(&c.to_string());
        cause = c.source();
    }
    line
}
