//! The one error type of this crate.

use std::path::PathBuf;

/// Why audio could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is empty.
    #[error("{path} is empty")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// No demuxer recognises the container, or it is corrupt.
    #[error(
        "{path}: unsupported or corrupt audio container ({reason}); supported: WAV, FLAC, MP3, OGG (Vorbis, Opus), AAC/M4A/MP4, MKV/WebM"
    )]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// What the demuxer said.
        reason: String,
    },
    /// The container holds no audio track that can be decoded.
    #[error("{path}: no decodable audio track ({reason})")]
    NoAudioTrack {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The stream is corrupt beyond what the decoder can skip.
    #[error("{path}: corrupt audio at {at_seconds:.1} s ({reason})")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where decoding stopped.
        at_seconds: f64,
        /// What the decoder said.
        reason: String,
    },
    /// A channel that the file does not have was asked for.
    #[error(
        "{path} has {channels} channel(s); channel {requested} does not exist (channels count from 0)"
    )]
    NoSuchChannel {
        /// The file.
        path: PathBuf,
        /// The channels present.
        channels: usize,
        /// The channel requested.
        requested: usize,
    },
    /// The sample rate is outside what can be resampled safely: a header
    /// claiming 1 Hz or 4 GHz would make the resampler's buffers huge.
    #[error(
        "{path}: a sample rate of {sample_rate} Hz is not supported (supported: {min_hz} to {max_hz} Hz)"
    )]
    UnsupportedSampleRate {
        /// The file.
        path: PathBuf,
        /// The rate the file declares.
        sample_rate: u32,
        /// The lowest rate supported.
        min_hz: u32,
        /// The highest rate supported.
        max_hz: u32,
    },
    /// The resampler could not be built or failed.
    #[error("resampling from {from_hz} Hz failed: {reason}")]
    Resample {
        /// The input rate.
        from_hz: u32,
        /// What rubato said.
        reason: String,
    },
    /// The audio is longer than the configured limit.
    #[error("{path} is longer than the limit of {limit_seconds} s")]
    TooLong {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit_seconds: u64,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
