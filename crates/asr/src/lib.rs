//! Speech recognition for tocky: whisper.cpp through whisper-rs, made safe
//! for hours of real parliamentary audio.
//!
//! One [`Engine`] holds the model's weights and can be shared between
//! threads; each transcription has its own decoder state, so several files
//! (or live channels) can be decoded at once on one copy of the model.
//! [`Engine::transcribe_reader`] streams a file through voice activity
//! detection into windows, decodes each with fallbacks against loops, and
//! filters silence and known hallucinations.

pub mod align;
pub mod device;
pub mod engine;
pub mod error;
pub mod guard;
pub mod hallucination;
pub mod pipeline;
mod place;
pub mod streaming;
mod words;

pub use align::{AlignMethod, AlignOptions, AlignRequest, realign};
pub use device::DeviceChoice;
pub use engine::{DecodeOptions, DecoderState, Engine, EngineOptions, ModelDescription};
pub use error::{Error, Result};
pub use pipeline::{Checkpoint, Guards, ReaderHooks, TranscribeOptions, TranscribeStats};
pub use streaming::{
    FinalContext, LocalAgreement, Partial, StreamEvent, StreamingOptions, StreamingRecognizer,
    StreamingStats,
};
