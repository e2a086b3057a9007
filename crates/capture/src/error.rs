//! The one error type of tocky-capture.

use std::path::PathBuf;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong while capturing audio.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No input device has this name.
    #[error("no input device named {name:?} (available: {})", available.join(", "))]
    NoSuchDevice {
        /// The name asked for.
        name: String,
        /// The input devices that exist.
        available: Vec<String>,
    },
    /// The host has no default input device.
    #[error("there is no default input device")]
    NoDefaultDevice,
    /// A selected channel does not exist on the source.
    #[error(
        "channel {requested} does not exist: the source has {channels} channel(s), counted from 0"
    )]
    NoSuchChannel {
        /// The channel asked for.
        requested: usize,
        /// How many channels the source has.
        channels: usize,
    },
    /// The same channel was selected twice.
    #[error("channel {0} is selected twice")]
    DuplicateChannel(usize),
    /// An option is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// The audio backend (cpal) failed.
    #[error("audio device {device:?}: {reason}")]
    Device {
        /// The device's name.
        device: String,
        /// What failed.
        reason: String,
    },
    /// The device was lost and could not be reopened in the time allowed.
    #[error("audio device {device:?} lost and not back after {seconds:.1} s: {reason}")]
    DeviceLost {
        /// The device's name.
        device: String,
        /// How long reopening was tried.
        seconds: f64,
        /// The last error.
        reason: String,
    },
    /// The device delivers samples in a format this crate cannot convert.
    #[error("audio device {device:?} uses the unsupported sample format {format}")]
    UnsupportedSampleFormat {
        /// The device's name.
        device: String,
        /// The format.
        format: String,
    },
    /// Decoding or resampling failed (tocky-audio).
    #[error(transparent)]
    Audio(#[from] tocky_audio::Error),
    /// Reading raw PCM failed.
    #[error("reading raw PCM: {0}")]
    Read(#[source] std::io::Error),
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The hall map is not valid TOML of the expected shape.
    #[error("hall map{}: {reason}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    HallMapSyntax {
        /// The file, when it came from one.
        path: Option<PathBuf>,
        /// The parser's message, with the line.
        reason: String,
    },
    /// The hall map parses but names channels inconsistently.
    #[error("hall map: {0}")]
    HallMap(String),
    /// A background thread could not be started.
    #[error("starting the {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
