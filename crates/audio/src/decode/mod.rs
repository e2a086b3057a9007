//! Decoding any common audio file to 16 kHz mono `f32`, streamed packet by
//! packet so that memory holds the output and one packet, never a second
//! full-length copy.

mod container;
mod panics;
mod reader;

pub use panics::quiet_contained_panics;
pub use reader::{AudioReader, decode_file};

/// Whisper's sample rate.
pub const SAMPLE_RATE: u32 = 16_000;

/// Which channel(s) of a multi-channel file to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelSelection {
    /// The mean of all channels.
    #[default]
    Downmix,
    /// One channel, counted from 0 (a hall recording may carry one microphone group per channel).
    Channel(usize),
}

/// How to decode.
#[derive(Debug, Clone, Default)]
pub struct DecodeOptions {
    /// Which channel(s) to keep.
    pub channel: ChannelSelection,
    /// Refuse audio longer than this many seconds.
    pub max_seconds: Option<u64>,
}

/// What the file is.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    /// The codec's short name, such as `pcm_s16le` or `mp3`.
    pub codec: String,
    /// The source sample rate in Hz.
    pub sample_rate: u32,
    /// The source channel count.
    pub channels: usize,
    /// The frame count the container declares, if it does.
    pub declared_frames: Option<u64>,
}

/// Decoded 16 kHz mono audio.
#[derive(Debug, Clone)]
pub struct DecodedAudio {
    /// Samples in -1..1 at [`SAMPLE_RATE`].
    pub samples: Vec<f32>,
    /// What the file was.
    pub info: SourceInfo,
    /// Corrupt packets that were skipped.
    pub skipped_packets: u64,
    /// Set when the stream ended well before its declared length.
    pub shortfall: Option<Shortfall>,
}

impl DecodedAudio {
    /// The duration in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.samples.len() as u64 * 1000 / u64::from(SAMPLE_RATE)
    }
}
/// A stream that ended early: before the length its header declares (a
/// file cut short by an interrupted copy), or where damage stopped the
/// demuxer. The audio before it was decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Shortfall {
    /// Seconds of audio decoded.
    pub decoded_seconds: f64,
    /// Seconds the container declares, when it declares a length.
    pub declared_seconds: Option<f64>,
    /// What the demuxer said where damage stopped it; `None` when the
    /// file simply ends early.
    pub damage: Option<String>,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the audio ends at {:.1} s", self.decoded_seconds)?;
        if let Some(declared) = self.declared_seconds {
            write!(f, " of the {declared:.1} s the file declares")?;
        }
        match &self.damage {
            Some(damage) => write!(f, ": the rest is damaged ({damage})"),
            None => write!(f, " (cut short or damaged)"),
        }
    }
}
