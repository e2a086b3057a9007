//! The fixture clip both re-timing tests store as a session, and the
//! transcript document that carries it into the store.

use tocky_core::document::{DecoderInfo, SourceInfo, TranscriptDocument};
use tocky_core::{Segment, Transcript};

/// The fixture clip (16 kHz mono WAV) the session's audio is.
pub(crate) const CLIP: &str = "vivos_VIVOSDEV01_R003.wav";
/// Its length.
pub(crate) const CLIP_MS: u64 = 3_687;

/// A transcript of [`CLIP`] with `segments`, as `tocky transcribe` writes
/// one.
pub(crate) fn document(segments: Vec<Segment>) -> TranscriptDocument {
    TranscriptDocument::new(
        SourceInfo {
            file: CLIP.into(),
            sha256: "c".repeat(64),
            bytes: 1,
            codec: "pcm_s16le".into(),
            sample_rate: 16_000,
            channels: 1,
            transcribed_channels: None,
        },
        DecoderInfo {
            model: "ggml-base.bin".into(),
            tocky_version: "0.1.0".into(),
            beam_size: 5,
            vad: true,
            prompt: None,
        },
        Transcript {
            language: "vi".into(),
            duration_ms: CLIP_MS,
            segments,
        },
    )
}
