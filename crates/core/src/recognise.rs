//! Recognition on request: the speech in a stretch of a session's audio,
//! for a segment a stenographer is about to insert.
//!
//! The trait lives here, below both sides, so that the review server asks
//! for it (`POST /api/sessions/{id}/recognise`) without knowing the model,
//! and the model's side (`tocky-retime`'s `Retimer`) answers without
//! depending on the server.

use serde::{Deserialize, Serialize};

use crate::Word;
pub use crate::error::RecogniseError;

/// The speech heard in a stretch of audio. `text` is the words' texts
/// joined by spaces (punctuation stays on its word), so that an insert of
/// this text unchanged can keep these words.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Recognised {
    /// What was said.
    pub text: String,
    /// Its words, timed from the session's start, inside the stretch.
    pub words: Vec<Word>,
}

/// Recognises speech in a session's audio with a loaded model. `S` is a
/// session as the record stores it (`tocky_store::Session`), a type this
/// crate does not know.
pub trait Recognise<S>: Send + Sync {
    /// The speech in `start_ms..end_ms` of `session`'s audio, with times
    /// from the session's start. It blocks for as long as the model runs,
    /// so the server calls it on the blocking pool, one call at a time.
    fn recognise(
        &self,
        session: &S,
        start_ms: u64,
        end_ms: u64,
    ) -> Result<Recognised, RecogniseError>;
}
