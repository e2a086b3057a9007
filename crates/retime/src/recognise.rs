//! Recognition on request for the review server: the [`Retimer`]'s model
//! and its cached session audio recognise a stretch that a stenographer is
//! about to insert (`POST /api/sessions/{id}/recognise`). Decoding is the
//! one re-recognition uses (`tocky_asr::align`): the pipeline with its VAD,
//! greedy, encoding only the stretch's audio.

use tocky_asr::{DecodeOptions, TranscribeOptions};
use tocky_audio::SAMPLE_RATE;
use tocky_core::Word;
use tocky_core::recognise::{Recognise, RecogniseError, Recognised};
use tocky_store::Session;

use crate::{Error, Retimer};

/// Encoder frames (20 ms each) for `samples` of audio: the audio and a
/// margin of 64 frames, at least 512 (on a shorter context the model
/// loops), at most Whisper's 1500. The rule of `tocky_asr`'s live and
/// alignment decoding, which keeps it private.
fn audio_ctx(samples: usize) -> usize {
    (samples / (SAMPLE_RATE as usize / 50) + 64).clamp(512, 1500)
}

impl Retimer {
    /// The speech in `start_ms..end_ms` of `session`'s audio: its words,
    /// timed from the session's start, inside the stretch, in order, each
    /// with a length.
    pub fn recognise_range(
        &self,
        session: &Session,
        start_ms: u64,
        end_ms: u64,
    ) -> crate::Result<Recognised> {
        let audio = self.audio_of(session)?;
        let samples = audio.slice_ms(start_ms, end_ms);
        if samples.is_empty() {
            // Past the end of what the file holds: nothing is said there.
            return Ok(Recognised::default());
        }
        let options = TranscribeOptions {
            decode: DecodeOptions {
                language: self.options.language.clone(),
                threads: self.options.threads.max(1),
                audio_ctx: Some(audio_ctx(samples.len())),
                // Greedy, as re-recognition: a stenographer checks the text
                // anyway, and a beam costs several times as much.
                beam_size: 1,
                ..DecodeOptions::default()
            },
            ..TranscribeOptions::recommended()
        };
        let heard = self.engine.transcribe(&samples, &options)?;
        let end_ms = end_ms.min(start_ms + samples.len() as u64 * 1000 / u64::from(SAMPLE_RATE));
        let words = inside(
            heard.segments.into_iter().flat_map(|s| s.words),
            start_ms,
            end_ms,
        );
        let text = words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Recognised { text, words })
    }
}

/// `words` (ms from the stretch's start) moved to the session's time and
/// kept inside `start_ms..end_ms`, in order, each at least 1 ms long (a
/// word with no room left gets the last millisecond: the text keeps it).
fn inside(words: impl Iterator<Item = Word>, start_ms: u64, end_ms: u64) -> Vec<Word> {
    let mut floor = start_ms;
    let last = end_ms.saturating_sub(1).max(start_ms);
    words
        .filter_map(|mut w| {
            let text = w.text.trim();
            if text.is_empty() {
                return None;
            }
            w.text = text.to_owned();
            w.start_ms = (start_ms + w.start_ms).clamp(floor, last);
            w.end_ms = (start_ms + w.end_ms).clamp(w.start_ms + 1, end_ms.max(w.start_ms + 1));
            floor = w.end_ms.min(last);
            Some(w)
        })
        .collect()
}

impl Recognise<Session> for Retimer {
    fn recognise(
        &self,
        session: &Session,
        start_ms: u64,
        end_ms: u64,
    ) -> Result<Recognised, RecogniseError> {
        self.recognise_range(session, start_ms, end_ms)
            .map_err(|e| match e {
                Error::NoAudio { .. } | Error::Decode { .. } => {
                    RecogniseError::NoAudio(e.to_string())
                }
                e => RecogniseError::Failed(e.to_string()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, start_ms: u64, end_ms: u64) -> Word {
        Word {
            text: text.into(),
            start_ms,
            end_ms,
            probability: 0.9,
        }
    }

    #[test]
    fn words_move_to_the_session_and_stay_inside_the_stretch() {
        let words = inside(
            [
                word(" một", 0, 300),
                word("hai", 250, 600),
                word("ba", 900, 1_500),
                word(" ", 1_500, 1_600),
            ]
            .into_iter(),
            10_000,
            11_000,
        );
        let spans: Vec<_> = words
            .iter()
            .map(|w| (w.text.as_str(), w.start_ms, w.end_ms))
            .collect();
        assert_eq!(
            spans,
            [
                ("một", 10_000, 10_300),
                ("hai", 10_300, 10_600),
                ("ba", 10_900, 11_000)
            ]
        );
    }
}
