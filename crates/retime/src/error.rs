//! The one error type of this crate.

use std::path::PathBuf;

/// Why a segment could not be re-timed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The record failed.
    #[error(transparent)]
    Store(#[from] tocky_store::Error),
    /// Alignment failed.
    #[error(transparent)]
    Align(#[from] tocky_asr::Error),
    /// The session names no audio, or none that can be found.
    #[error("session {session}: its audio {name:?} is not in the media directories")]
    NoAudio {
        /// The session.
        session: i64,
        /// The audio's stored name, if it has one.
        name: Option<String>,
    },
    /// The session's audio could not be decoded.
    #[error("{}: {source}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: tocky_audio::Error,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
