//! Whole-file transcription as a service: what the server's
//! OpenAI-compatible API asks of a loaded model ([`TranscribeAudio`]).
//!
//! The server never links the recogniser: `tocky serve` hands it an
//! implementation (tocky-batch's, the same pipeline as `tocky transcribe`),
//! so that the web app sits above no model code and its tests need none.

use std::path::PathBuf;

use crate::document::TranscriptDocument;
pub use crate::error::TranscribeError;

/// One file to transcribe, as a client asked for it.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscribeRequest {
    /// The audio, in a file the caller owns (an upload written to disk):
    /// the decoder reads it in a stream rather than holding it whole.
    pub audio: PathBuf,
    /// The name the client gave the file (recorded in the transcript;
    /// its extension helps the decoder guess the container).
    pub file_name: String,
    /// The spoken language (ISO 639-1) when the client knows it; `None`
    /// leaves the implementation's default.
    pub language: Option<String>,
    /// Text that primes the decoder (names, bill titles).
    pub prompt: Option<String>,
    /// The sampling temperature asked for, 0 to 1.
    pub temperature: f32,
    /// The model asked for, one of [`TranscribeAudio::models`] (checked
    /// by the caller).
    pub model: String,
    /// Whether word times are wanted.
    pub word_timestamps: bool,
}

/// A model the service runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedModel {
    /// Its id, as clients name it (`base`).
    pub id: String,
    /// When its file was made, in Unix seconds (0 when unknown).
    pub created: i64,
}

/// Transcribes whole audio files with a loaded model.
pub trait TranscribeAudio: Send + Sync {
    /// The models this service answers to: the first is the one loaded.
    fn models(&self) -> Vec<ServedModel>;

    /// The transcript of `request`'s audio. It blocks for as long as the
    /// model runs, so a server calls it on its blocking pool.
    fn transcribe(
        &self,
        request: &TranscribeRequest,
    ) -> Result<TranscriptDocument, TranscribeError>;
}
