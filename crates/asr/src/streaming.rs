//! Live recognition of one channel: partial text while someone speaks,
//! final segments at each pause.
//!
//! The voice activity detector ([`Segmenter`] with
//! [`VadOptions::flush_at_pause`]) splits the stream into utterances. While
//! an utterance is open its audio is decoded again about every second for a
//! **partial** hypothesis, stabilised by the LocalAgreement policy
//! ([`LocalAgreement`]): the words that two consecutive decodes agree on are
//! committed and never change on screen; only the tail after them may. At a
//! pause, or when the utterance reaches the window's maximum length (cut at
//! its quietest frame), the utterance is **finalised** with the same
//! decoding safeguards as batch transcription: temperature fallbacks, loop
//! cutting, and the no-speech and hallucination filters.

use tocky_audio::SAMPLE_RATE;
use tocky_audio::vad::{Segmenter, VadOptions};
use tocky_core::Segment;
use tocky_core::text::scoring_words;

use crate::engine::{DecodeOptions, DecoderState, Engine};
use crate::error::Result;
use crate::guard::has_loop;
use crate::hallucination::{is_hallucination, is_sound_annotation};
use crate::pipeline::{TranscribeOptions, TranscribeStats, decode_guarded};

/// How a live channel is recognised.
#[derive(Debug, Clone)]
pub struct StreamingOptions {
    /// Decoding and safeguards for finals (as batch transcription). Its VAD
    /// options tune the utterance detector; `flush_at_pause` is forced on.
    pub transcribe: TranscribeOptions,
    /// How often an open utterance is decoded again for partial text.
    pub partial_interval_ms: u64,
    /// No partial is decoded before the utterance has this much audio.
    pub min_partial_ms: u64,
    /// Beam width for partials (1: greedy, the fastest).
    pub partial_beam_size: usize,
    /// What a final's encoder sees.
    pub final_context: FinalContext,
}

/// What a final's encoder sees: Whisper's whole 30 s window, as batch
/// transcription, or only the utterance's audio (plus a margin).
///
/// The utterance alone is several times faster for the short utterances
/// of a sitting, and on the 2-core reference machine only it meets the
/// latency targets (final p95 2.1 s against 3.8 s for the adaptive
/// choice), at a live WER 1.01 times batch: it is the default. On a very
/// short context the model can loop ("Ấn, Ấn, Ấn …"), which is why the
/// context is never under 10 s. `bench-live` measures each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FinalContext {
    /// Always the whole window: batch quality, at batch cost.
    Full,
    /// Always the utterance alone: the fastest.
    #[default]
    Utterance,
    /// The whole window while the channel keeps up; the utterance alone
    /// while its audio waits more than `max_lag_ms` to be recognised
    /// (see [`StreamingRecognizer::set_lag_ms`]). Partials are skipped
    /// then too: a late partial helps no one, and catching up comes first.
    /// A fast machine gets batch quality, a slow one stays in real time.
    Adaptive {
        /// The lag beyond which the channel counts as behind.
        max_lag_ms: u64,
    },
}

impl std::str::FromStr for FinalContext {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "full" => Ok(Self::Full),
            "utterance" => Ok(Self::Utterance),
            "adaptive" => Ok(Self::Adaptive { max_lag_ms: 1500 }),
            other => Err(format!("{other:?} is not adaptive, full or utterance")),
        }
    }
}

/// Encoder frames (20 ms each) for `samples` of audio: the audio and a
/// margin of 64 frames (1.28 s), at least 512 (10 s: on a shorter context
/// the model loops, "Ấn, Ấn, Ấn …"), at most Whisper's 1500.
pub(crate) fn audio_ctx(samples: usize) -> usize {
    (samples / (SAMPLE_RATE as usize / 50) + 64).clamp(512, 1500)
}

impl Default for StreamingOptions {
    fn default() -> Self {
        let mut transcribe = TranscribeOptions::recommended();
        if let Some(vad) = transcribe.vad.as_mut() {
            // An utterance ends at a shorter pause than in batch work, so
            // that its final text comes sooner.
            vad.min_silence_ms = 400;
        }
        Self {
            transcribe,
            partial_interval_ms: 1000,
            min_partial_ms: 700,
            partial_beam_size: 1,
            final_context: FinalContext::default(),
        }
    }
}

/// What live recognition produces.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The open utterance's text so far.
    Partial(Partial),
    /// A finished utterance: its segments, in stream time.
    Final(Vec<Segment>),
}

/// The text of an utterance still being spoken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partial {
    /// Where the utterance started, in ms of stream time.
    pub start_ms: u64,
    /// Words two consecutive decodes agreed on: they will not change.
    pub committed: String,
    /// The latest decode's words after those: they may still change.
    pub tentative: String,
}

/// The LocalAgreement-2 policy: a word is committed once two consecutive
/// hypotheses agree on it and on every word before it; committed words are
/// never withdrawn.
#[derive(Debug, Clone, Default)]
pub struct LocalAgreement {
    /// Committed words, as decoded.
    committed: Vec<String>,
    /// The previous hypothesis, as decoded.
    previous: Vec<String>,
}

/// Words compare by their scoring form: tone-mark placement, case and
/// punctuation do not make two decodes disagree.
fn same_word(a: &str, b: &str) -> bool {
    scoring_words(a) == scoring_words(b)
}

impl LocalAgreement {
    /// Takes a new hypothesis; returns the committed and tentative text.
    pub fn update(&mut self, hypothesis: &[String]) -> (String, String) {
        let n = self.committed.len();
        // The new hypothesis continues the committed words only if it
        // starts with them; otherwise it is only shown after them.
        let continues = hypothesis.len() >= n
            && self
                .committed
                .iter()
                .zip(hypothesis)
                .all(|(a, b)| same_word(a, b));
        if continues {
            let agreed = hypothesis[n..]
                .iter()
                .zip(self.previous.get(n..).unwrap_or(&[]))
                .take_while(|(a, b)| same_word(a, b))
                .count();
            self.committed.extend_from_slice(&hypothesis[n..n + agreed]);
        }
        let tail = if continues {
            &hypothesis[self.committed.len()..]
        } else {
            hypothesis.get(n..).unwrap_or(&[])
        };
        let tentative = tail.join(" ");
        self.previous = hypothesis.to_vec();
        (self.committed.join(" "), tentative)
    }

    /// Forgets the utterance: the next one starts from nothing.
    pub fn reset(&mut self) {
        self.committed.clear();
        self.previous.clear();
    }
}

/// Counters for the metrics of a live channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamingStats {
    /// Partial decodes run.
    pub partial_decodes: u64,
    /// Final decodes (and their fallbacks, drops …).
    pub finals: TranscribeStats,
    /// Stream time fed, in samples.
    pub samples: u64,
    /// Finals encoded on the utterance alone (all of them with
    /// [`FinalContext::Utterance`]; those decoded while behind with
    /// [`FinalContext::Adaptive`]).
    pub short_finals: u64,
    /// Partials skipped because the channel was behind.
    pub partials_skipped_behind: u64,
}

/// Recognises one channel's audio as it arrives.
pub struct StreamingRecognizer<'e> {
    engine: &'e Engine,
    opts: StreamingOptions,
    vad: VadOptions,
    state: DecoderState,
    segmenter: Segmenter,
    /// Stream time of the segmenter's sample 0 (gaps move it on).
    offset: u64,
    /// Segmenter sample at which the last partial was decoded.
    last_partial_at: u64,
    agreement: LocalAgreement,
    language: Option<String>,
    stats: StreamingStats,
    /// How long the audio being pushed waited to be recognised.
    lag_ms: u64,
}

fn samples_to_ms(samples: u64) -> u64 {
    samples * 1000 / u64::from(SAMPLE_RATE)
}

fn ms_to_samples(ms: u64) -> u64 {
    ms * u64::from(SAMPLE_RATE) / 1000
}

impl<'e> StreamingRecognizer<'e> {
    /// A recogniser for one channel; its decoder state is its own.
    pub fn new(engine: &'e Engine, opts: StreamingOptions) -> Result<Self> {
        engine.validate(&opts.transcribe.decode)?;
        let mut vad = opts.transcribe.vad.clone().unwrap_or_default();
        vad.flush_at_pause = true;
        Ok(Self {
            engine,
            state: engine.new_state()?,
            segmenter: Segmenter::new(vad.clone()),
            vad,
            opts,
            offset: 0,
            last_partial_at: 0,
            agreement: LocalAgreement::default(),
            language: None,
            stats: StreamingStats::default(),
            lag_ms: 0,
        })
    }

    /// Tells the recogniser how long the audio it is about to be pushed
    /// waited to be recognised (from its capture to now); with
    /// [`FinalContext::Adaptive`] it decides whether the channel is behind.
    pub fn set_lag_ms(&mut self, lag_ms: u64) {
        self.lag_ms = lag_ms;
    }

    /// Whether the channel runs behind, by [`FinalContext::Adaptive`]'s bound.
    fn behind(&self) -> bool {
        matches!(self.opts.final_context, FinalContext::Adaptive { max_lag_ms } if self.lag_ms > max_lag_ms)
    }

    /// Counters so far.
    pub fn stats(&self) -> StreamingStats {
        self.stats
    }

    /// Feeds 16 kHz mono samples that follow the previous ones; returns the
    /// partials and finals they produce.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<StreamEvent>> {
        self.stats.samples += samples.len() as u64;
        let mut events = Vec::new();
        for window in self.segmenter.push(samples) {
            events.extend(self.finalise(&window)?);
        }
        if let Some(partial) = self.partial()? {
            events.push(StreamEvent::Partial(partial));
        }
        Ok(events)
    }

    /// Records that `missing_samples` of the stream were lost (a device
    /// gap): the open utterance is finalised, and later times skip the gap.
    pub fn gap(&mut self, missing_samples: u64) -> Result<Vec<StreamEvent>> {
        let events = self.finish()?;
        self.offset += self.segmenter.fed_samples() + missing_samples;
        self.stats.samples += missing_samples;
        self.segmenter = Segmenter::new(self.vad.clone());
        self.last_partial_at = 0;
        Ok(events)
    }

    /// Ends the stream: finalises the open utterance.
    pub fn finish(&mut self) -> Result<Vec<StreamEvent>> {
        let mut events = Vec::new();
        for window in self.segmenter.finish() {
            events.extend(self.finalise(&window)?);
        }
        Ok(events)
    }

    fn finalise(&mut self, window: &tocky_audio::vad::Window) -> Result<Vec<StreamEvent>> {
        self.agreement.reset();
        let shortened;
        let short = match self.opts.final_context {
            FinalContext::Full => false,
            FinalContext::Utterance => true,
            FinalContext::Adaptive { .. } => self.behind(),
        };
        let opts = if short {
            self.stats.short_finals += 1;
            let mut opts = self.opts.transcribe.clone();
            opts.decode.audio_ctx = Some(audio_ctx(window.samples.len()));
            shortened = opts;
            &shortened
        } else {
            &self.opts.transcribe
        };
        let started = std::time::Instant::now();
        let mut segments = decode_guarded(
            self.engine,
            &mut self.state,
            opts,
            window,
            &mut self.stats.finals,
            &mut self.language,
        )?;
        tracing::debug!(
            "final of {} ms decoded in {} ms ({} context, {} ms behind)",
            samples_to_ms(window.samples.len() as u64),
            started.elapsed().as_millis(),
            if short { "utterance" } else { "full" },
            self.lag_ms,
        );
        let offset_ms = samples_to_ms(self.offset);
        for s in &mut segments {
            s.start_ms += offset_ms;
            s.end_ms += offset_ms;
            for w in &mut s.words {
                w.start_ms += offset_ms;
                w.end_ms += offset_ms;
            }
        }
        Ok(if segments.is_empty() {
            Vec::new()
        } else {
            vec![StreamEvent::Final(segments)]
        })
    }

    /// Decodes the open utterance when it is due.
    fn partial(&mut self) -> Result<Option<Partial>> {
        let fed = self.segmenter.fed_samples();
        let Some((from, audio)) = self.segmenter.open_region() else {
            return Ok(None);
        };
        let due = fed.saturating_sub(self.last_partial_at)
            >= ms_to_samples(self.opts.partial_interval_ms);
        if !due || (audio.len() as u64) < ms_to_samples(self.opts.min_partial_ms) {
            return Ok(None);
        }
        // A pause has begun: the final is probably a moment away, and a
        // partial decoded now would only delay it.
        if self.segmenter.trailing_silence_ms() >= 300 {
            return Ok(None);
        }
        if self.behind() {
            self.stats.partials_skipped_behind += 1;
            self.last_partial_at = fed;
            return Ok(None);
        }
        self.last_partial_at = fed;
        // Encode only the audio there is (plus a margin), not Whisper's
        // whole 30 s window: a partial costs a fraction of a full decode.
        let decode = DecodeOptions {
            beam_size: self.opts.partial_beam_size.max(1),
            word_timestamps: false,
            audio_ctx: Some(audio_ctx(audio.len())),
            // Vietnamese runs ~5 syllables a second, each a token or two: a
            // decode past this bound is a loop, and would stall the channel.
            max_tokens: Some(10 + 15 * audio.len() / SAMPLE_RATE as usize),
            ..self.opts.transcribe.decode.clone()
        };
        // One pass at temperature 0: a partial is replaced soon anyway.
        let audio = audio.to_vec();
        let started = std::time::Instant::now();
        let (decoded, _) = self.engine.decode_window(
            &mut self.state,
            &audio,
            &decode,
            0.0,
            self.opts.transcribe.guards.best_of,
        )?;
        tracing::debug!(
            "partial of {} ms decoded in {} ms",
            samples_to_ms(audio.len() as u64),
            started.elapsed().as_millis()
        );
        self.stats.partial_decodes += 1;
        let text = decoded
            .iter()
            .filter(|s| !is_hallucination(&s.text) && !is_sound_annotation(&s.text))
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if has_loop(&text) {
            return Ok(None);
        }
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        let (committed, tentative) = self.agreement.update(&words);
        Ok(Some(Partial {
            start_ms: samples_to_ms(self.offset + from),
            committed,
            tentative,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn local_agreement_commits_what_two_decodes_share() {
        let mut a = LocalAgreement::default();
        assert_eq!(
            a.update(&words("kính thưa")),
            ("".into(), "kính thưa".into())
        );
        assert_eq!(
            a.update(&words("kính thưa quốc")),
            ("kính thưa".into(), "quốc".into())
        );
        // Tone-mark placement and punctuation do not count as disagreement.
        assert_eq!(
            a.update(&words("Kính thưa Quốc hội, hoà")),
            ("kính thưa Quốc".into(), "hội, hoà".into())
        );
        assert_eq!(
            a.update(&words("kính thưa quốc hội hòa bình")),
            ("kính thưa Quốc hội hòa".into(), "bình".into())
        );
    }

    #[test]
    fn committed_words_are_never_withdrawn() {
        let mut a = LocalAgreement::default();
        a.update(&words("một hai ba"));
        let (committed, _) = a.update(&words("một hai bốn"));
        assert_eq!(committed, "một hai");
        // The model changes its mind about a committed word: it stays.
        let (committed, tentative) = a.update(&words("mốt hai bốn năm"));
        assert_eq!(committed, "một hai");
        assert_eq!(tentative, "bốn năm");
        a.reset();
        assert_eq!(a.update(&words("sáu")), ("".into(), "sáu".into()));
    }
}
