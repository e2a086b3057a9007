//! Words re-timed after corrections.
//!
//! A correction of a segment's text or bounds leaves its words behind
//! (`StoredSegment::words_aligned` is false). A [`Retimer`] aligns them
//! again against the session's audio with [`tocky_asr::realign`] (kept
//! words keep their times; new ones come from a forced alignment) and
//! saves them only if the segment is still at the version it read, so a
//! newer edit is never overwritten. [`service::spawn`] runs it in the
//! background of the review server and sends each result to the
//! session's live pages; `tocky realign` runs it for a whole session.
//! The same model and audio recognise a stretch on request for the review
//! server (`Retimer` is a [`tocky_core::recognise::Recognise`]). The crate
//! sits below the server: it reports through tocky-core's traits, which the
//! server implements.

mod audio;
pub mod error;
mod recognise;
pub mod service;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use tocky_asr::{AlignOptions, AlignRequest, Engine};
use tocky_store::{Session, Store, StoredSegment};

pub use error::{Error, Result};
/// How many segments a pass re-timed, found changed, or could not do.
pub use tocky_core::retime::Summary;

use crate::audio::SessionAudio;

/// Finds a session's audio file (the review server looks inside its media
/// directories only).
pub type AudioLocator = Box<dyn Fn(&Session) -> Option<PathBuf> + Send + Sync>;

/// What re-timing one segment did.
#[derive(Debug, Clone, PartialEq)]
pub enum Retimed {
    /// Its words were saved; the segment as it is now.
    Saved(StoredSegment),
    /// It changed while it was being aligned; the newer version waits for
    /// its own re-timing.
    Changed,
}

/// Re-times segments with one loaded model; the last session's decoded
/// audio is kept, since edits come in runs within one session.
pub struct Retimer {
    engine: Arc<Engine>,
    options: AlignOptions,
    locate: AudioLocator,
    audio: Mutex<Option<Arc<SessionAudio>>>,
}

impl Retimer {
    /// A re-timer using `engine`, finding audio with `locate`.
    pub fn new(engine: Arc<Engine>, options: AlignOptions, locate: AudioLocator) -> Self {
        Self {
            engine,
            options,
            locate,
            audio: Mutex::new(None),
        }
    }

    /// Aligns one segment's words to its text and saves them, unless the
    /// segment changed meanwhile.
    pub fn retime(&self, store: &mut Store, segment: &StoredSegment) -> Result<Retimed> {
        let audio = self.audio_of(&store.session(segment.session_id)?)?;
        let (start_ms, end_ms) = (segment.start_ms.max(0) as u64, segment.end_ms.max(0) as u64);
        let samples = audio.slice_ms(start_ms, end_ms);
        let words = tocky_asr::realign(
            &self.engine,
            &self.options,
            &AlignRequest {
                audio: &samples,
                start_ms,
                end_ms,
                old_words: &segment.words,
                text: &segment.text,
            },
        )?;
        if store.set_words(segment.id, segment.version, &words)? {
            Ok(Retimed::Saved(store.segment(segment.id)?))
        } else {
            Ok(Retimed::Changed)
        }
    }

    /// Re-times every segment whose words are behind, of one session or of
    /// all, until none is left (a segment edited meanwhile is taken again
    /// at its new version). `skip` says which (segment, version) pairs not
    /// to try (ones that failed before); `on_saved` sees each result.
    pub fn retime_pending(
        &self,
        store: &mut Store,
        session: Option<i64>,
        skip: &mut std::collections::HashSet<(i64, i64)>,
        mut on_saved: impl FnMut(&StoredSegment),
    ) -> Result<Summary> {
        let mut summary = Summary::default();
        loop {
            let pending: Vec<StoredSegment> = store
                .unaligned_segments(session)?
                .into_iter()
                .filter(|s| !skip.contains(&(s.id, s.version)))
                .collect();
            let Some(segment) = pending.into_iter().next() else {
                return Ok(summary);
            };
            match self.retime(store, &segment) {
                Ok(Retimed::Saved(now)) => {
                    summary.saved += 1;
                    on_saved(&now);
                }
                Ok(Retimed::Changed) => summary.changed += 1,
                Err(Error::Store(e)) => return Err(Error::Store(e)),
                Err(e) => {
                    tracing::warn!("segment {} not re-timed: {e}", segment.id);
                    summary.failed += 1;
                    skip.insert((segment.id, segment.version));
                }
            }
        }
    }

    fn audio_of(&self, session: &Session) -> Result<Arc<SessionAudio>> {
        let mut cached = self.audio.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(audio) = cached.as_ref().filter(|a| a.session_id == session.id) {
            return Ok(Arc::clone(audio));
        }
        let path = (self.locate)(session).ok_or_else(|| Error::NoAudio {
            session: session.id,
            name: session.audio_file.clone(),
        })?;
        let audio = Arc::new(SessionAudio::decode(session.id, &path)?);
        *cached = Some(Arc::clone(&audio));
        Ok(audio)
    }
}
