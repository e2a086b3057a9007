//! What a batch is asked to do: one options struct shared by its files.

use std::path::PathBuf;
use std::time::Duration;

use tocky_asr::TranscribeOptions;

use crate::{Format, ModelId};

/// How often, at most, a file's checkpoint is rewritten by default: a
/// crash loses at most this much decoding (plus the window in flight).
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(10);

/// Which channels of each input to transcribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channels {
    /// All channels averaged into one.
    Downmix,
    /// One channel (from 0).
    One(usize),
    /// Each channel separately; every segment records its channel.
    Each,
}

/// The settings of a batch.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Formats written for each input (with an output directory); the
    /// JSON document is always written too, last: its presence with the
    /// input's hash marks the input done.
    pub formats: Vec<Format>,
    /// Where outputs and checkpoints go. Without one nothing is written,
    /// nothing is skipped or resumed, and each transcript is only handed
    /// to the observer.
    pub output_dir: Option<PathBuf>,
    /// Which channels to transcribe.
    pub channels: Channels,
    /// Transcribe again even when the outputs are up to date, and ignore
    /// checkpoints.
    pub force: bool,
    /// Decoder, VAD and guard settings.
    pub transcribe: TranscribeOptions,
    /// The model, as transcripts name it and checkpoints match it.
    pub model: ModelId,
    /// Files transcribed at once (at least 1; never more than there are
    /// files).
    pub workers: usize,
    /// How often, at most, a file's checkpoint is rewritten.
    pub checkpoint_every: Duration,
}
