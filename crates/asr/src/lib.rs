//! Speech recognition for tocky: whisper.cpp through whisper-rs.
//!
//! One [`Engine`] holds the model's weights and can be shared between
//! threads; each transcription creates its own decoder state, so several
//! files (or live channels) can be decoded at once on one copy of the model.

pub mod engine;
pub mod error;
mod words;

pub use engine::{DecodeOptions, Engine, EngineOptions, ModelDescription};
pub use error::{Error, Result};
