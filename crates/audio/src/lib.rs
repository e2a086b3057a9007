//! Audio input for tocky: any common file format (through symphonia)
//! decoded and resampled (through rubato) to the 16 kHz mono `f32` that
//! Whisper takes.

pub mod decode;
pub mod error;
pub mod resample;
pub mod vad;

pub use decode::{
    AudioReader, ChannelSelection, DecodeOptions, DecodedAudio, SAMPLE_RATE, Shortfall, SourceInfo,
    decode_file, quiet_contained_panics,
};
pub use error::{Error, Result};
