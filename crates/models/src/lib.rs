//! Whisper models for tocky: reading CTranslate2 (faster-whisper) files,
//! converting them to whisper.cpp's ggml format, reading ggml headers,
//! quantizing ggml models, and provisioning the pinned models of
//! `models/manifest.toml`.
//!
//! The conversion is general over Whisper sizes (tiny to large-v3, with its
//! 128 mel bands and 51866 tokens) and deterministic, so its output can be
//! pinned by checksum.

pub mod convert;
pub mod ct2;
pub mod error;
pub mod fetch;
pub mod ggml;
pub mod manifest;
pub mod mel;
pub mod quantize;
pub mod vocab;

pub use convert::{ConvertReport, convert, convert_files};
pub use error::{Error, Result};
pub use fetch::{FetchOptions, FetchOutcome, default_cache_dir, fetch, resolve_model, sha256_file};
pub use ggml::{GgmlModelInfo, GgmlType, Hparams, check_loadable, read_info};
pub use manifest::{DEFAULT_MODEL, Manifest, ModelEntry};
pub use quantize::{QuantType, QuantizeReport, quantize, quantize_file};
