//! Long audio to a transcript: VAD windows, decoding with fallbacks, and
//! filters, with times mapped back to the recording.
//!
//! For each window:
//! 1. decode at temperature 0 (beam search), with whisper.cpp's own
//!    entropy and log-probability fallback underneath;
//! 2. if the text still loops or compresses too well, decode again at
//!    rising temperatures, keeping the first attempt that passes;
//! 3. drop segments that whisper thinks hold no speech (no-speech
//!    probability high *and* log-probability low) and known hallucinations;
//! 4. as a last resort, cut a loop that survived every temperature down to
//!    one occurrence.

use tocky_audio::vad::{Segmenter, VadOptions, Window};
use tocky_audio::{AudioReader, SAMPLE_RATE};
use tocky_core::text::folded_words;
use tocky_core::{Segment, Transcript};

use crate::engine::{DecodeOptions, DecodedSegment, DecoderState, Engine};
use crate::error::Result;
use crate::guard::{compression_ratio, find_loop, has_loop};
use crate::hallucination::{is_hallucination, is_sound_annotation};
use crate::place::to_source;
use crate::words::group_word_tokens;

/// Thresholds that decide when a decode has failed or a segment is not speech.
#[derive(Debug, Clone)]
pub struct Guards {
    /// Temperatures tried in turn when a decode fails its checks.
    pub temperatures: Vec<f32>,
    /// Candidates sampled at each temperature above 0; the most probable
    /// one is kept.
    pub best_of: usize,
    /// Text compressing better than this (zlib) is a loop.
    pub compression_ratio_threshold: f32,
    /// A segment is silence when its no-speech probability exceeds this …
    pub no_speech_threshold: f32,
    /// … and its mean token log-probability is below this.
    pub logprob_threshold: f32,
    /// A window the model thinks is probably not speech (no-speech
    /// probability over the threshold) whose whole text is this many
    /// syllables or fewer is dropped even when confident: on noise Whisper
    /// says short things with conviction ("Đi nào?").
    pub max_syllables_when_unsure: usize,
    /// Drop segments that are known hallucinations or sound annotations
    /// ([`crate::hallucination`]).
    pub filter_hallucinations: bool,
}

impl Default for Guards {
    fn default() -> Self {
        Self {
            temperatures: vec![0.0, 0.4, 0.8],
            best_of: 5,
            compression_ratio_threshold: 2.4,
            no_speech_threshold: 0.6,
            logprob_threshold: -1.0,
            max_syllables_when_unsure: 3,
            filter_hallucinations: true,
        }
    }
}

/// Everything that shapes a transcription.
#[derive(Debug, Clone, Default)]
pub struct TranscribeOptions {
    /// Decoder settings.
    pub decode: DecodeOptions,
    /// Voice activity detection and windowing; `None` decodes all the audio,
    /// silence included, as plain whisper.cpp does.
    pub vad: Option<VadOptions>,
    /// Failure checks and filters.
    pub guards: Guards,
}

impl TranscribeOptions {
    /// The defaults: Vietnamese, beam 5, VAD on, all guards on.
    pub fn recommended() -> Self {
        Self {
            vad: Some(VadOptions::default()),
            ..Self::default()
        }
    }
}

/// Counters a caller may show or log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TranscribeStats {
    /// Windows decoded.
    pub windows: usize,
    /// Windows decoded again at a higher temperature.
    pub fallbacks: usize,
    /// Segments dropped as silence or hallucination.
    pub dropped_segments: usize,
    /// Loops cut after every temperature failed.
    pub loops_cut: usize,
    /// Speech sent to the decoder, in ms.
    pub speech_ms: u64,
}

/// How far the transcription of one stream has come: every VAD window
/// that ends by `decoded_until_ms` is decoded, and `segments` holds what
/// they said. Saved while a long file is transcribed, it lets a rerun over
/// the same audio with the same options resume there instead of from the
/// start ([`ReaderHooks::resume`]): the windows are the same, and each is
/// decoded from a fresh decoder state, so the result is too.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checkpoint {
    /// Recording time (ms) up to which every window is decoded.
    pub decoded_until_ms: u64,
    /// The language whisper reported, once a window has been decoded.
    pub language: Option<String>,
    /// The segments so far, in recording time.
    pub segments: Vec<Segment>,
}

/// What [`Engine::transcribe_reader_with`] reports as it goes, and where
/// it starts.
pub struct ReaderHooks<'a> {
    /// Receives the recording time (ms) passed so far, skipped windows
    /// included.
    pub progress: &'a mut dyn FnMut(u64),
    /// Receives where the run stands after each window it decodes.
    pub checkpoint: &'a mut dyn FnMut(&Checkpoint),
    /// Where an earlier run over the same audio and options stopped:
    /// windows that end by then are not decoded again, and its segments
    /// open the transcript. Used only with VAD (without it the audio is one
    /// window).
    pub resume: Option<Checkpoint>,
}

/// A transcription in progress over one stream.
struct Run<'a> {
    engine: &'a Engine,
    opts: &'a TranscribeOptions,
    done: Checkpoint,
    stats: TranscribeStats,
}

impl Engine {
    /// Transcribes 16 kHz mono samples held in memory.
    pub fn transcribe(&self, samples: &[f32], opts: &TranscribeOptions) -> Result<Transcript> {
        if samples.is_empty() {
            return Err(crate::Error::NoAudio);
        }
        let mut run = Run::new(self, opts)?;
        match &opts.vad {
            Some(vad) => {
                let mut segmenter = Segmenter::new(vad.clone());
                for window in segmenter
                    .push(samples)
                    .into_iter()
                    .chain(segmenter.finish())
                {
                    run.window(&window)?;
                }
            }
            None => run.window(&whole(samples.to_vec(), 0))?,
        }
        Ok(run.finish(duration_ms(samples.len() as u64)).0)
    }

    /// Transcribes a file as it is decoded, window by window: memory stays
    /// bounded however long the recording. `progress` receives the recording
    /// time (ms) decoded so far.
    pub fn transcribe_reader(
        &self,
        reader: &mut AudioReader,
        opts: &TranscribeOptions,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(Transcript, TranscribeStats)> {
        let hooks = ReaderHooks {
            progress,
            checkpoint: &mut |_| {},
            resume: None,
        };
        self.transcribe_reader_with(reader, opts, hooks)
    }

    /// [`Engine::transcribe_reader`], resumable: it reports a
    /// [`Checkpoint`] after each window and can start from one.
    pub fn transcribe_reader_with(
        &self,
        reader: &mut AudioReader,
        opts: &TranscribeOptions,
        hooks: ReaderHooks<'_>,
    ) -> Result<(Transcript, TranscribeStats)> {
        let ReaderHooks {
            progress,
            checkpoint,
            resume,
        } = hooks;
        let mut run = Run::new(self, opts)?;
        let mut total: u64 = 0;
        let mut chunk = Vec::with_capacity(1 << 16);
        match &opts.vad {
            Some(vad) => {
                let resume_at = resume.as_ref().map_or(0, |r| r.decoded_until_ms);
                if let Some(resume) = resume {
                    run.done = resume;
                }
                let mut segmenter = Segmenter::new(vad.clone());
                let mut window = |run: &mut Run<'_>, window: &Window| -> Result<()> {
                    // The windows before the resume point were decoded by
                    // the run that saved it.
                    if window.end_ms() > resume_at {
                        run.window(window)?;
                        checkpoint(&run.done);
                    }
                    progress(window.end_ms());
                    Ok(())
                };
                loop {
                    chunk.clear();
                    let more = reader.read_into(&mut chunk)?;
                    total += chunk.len() as u64;
                    for w in segmenter.push(&chunk) {
                        window(&mut run, &w)?;
                    }
                    if !more {
                        break;
                    }
                }
                for w in segmenter.finish() {
                    window(&mut run, &w)?;
                }
            }
            None => {
                // Without VAD, whisper.cpp takes the audio in one piece.
                let mut all = Vec::new();
                while reader.read_into(&mut all)? {}
                total = all.len() as u64;
                if !all.is_empty() {
                    run.window(&whole(all, 0))?;
                }
            }
        }
        if total == 0 {
            return Err(crate::Error::NoAudio);
        }
        progress(duration_ms(total));
        Ok(run.finish(duration_ms(total)))
    }
}

fn duration_ms(samples: u64) -> u64 {
    samples * 1000 / u64::from(SAMPLE_RATE)
}

/// A window holding all of `samples`, starting at recording sample `start`.
fn whole(samples: Vec<f32>, start: u64) -> Window {
    let len = samples.len();
    Window {
        samples,
        pieces: vec![tocky_audio::vad::Piece {
            window_start: 0,
            source_start: start,
            len,
        }],
    }
}

impl<'a> Run<'a> {
    fn new(engine: &'a Engine, opts: &'a TranscribeOptions) -> Result<Self> {
        engine.validate(&opts.decode)?;
        Ok(Self {
            engine,
            opts,
            done: Checkpoint::default(),
            stats: TranscribeStats::default(),
        })
    }

    fn window(&mut self, window: &Window) -> Result<()> {
        // Each window gets a decoder state of its own, so that what it
        // says depends on its audio alone and a resumed run says what an
        // uninterrupted one does: whisper.cpp's state carries the random
        // generator of its first decoder from one call to the next (it
        // samples whenever a decode falls back to a temperature above 0),
        // and nothing outside the state can reset it. (A state costs a few
        // milliseconds to make; a window, seconds to decode.)
        let mut state = self.engine.new_state()?;
        let segments = decode_guarded(
            self.engine,
            &mut state,
            self.opts,
            window,
            &mut self.stats,
            &mut self.done.language,
        )?;
        self.done.segments.extend(segments);
        self.done.decoded_until_ms = self.done.decoded_until_ms.max(window.end_ms());
        Ok(())
    }

    fn finish(mut self, duration_ms: u64) -> (Transcript, TranscribeStats) {
        self.done.segments.sort_by_key(|s| (s.start_ms, s.end_ms));
        let transcript = Transcript {
            language: self
                .done
                .language
                .unwrap_or_else(|| self.opts.decode.language.clone()),
            duration_ms,
            segments: self.done.segments,
        };
        (transcript, self.stats)
    }
}

/// Decodes one window with fallbacks and filters (see the module's
/// documentation); returns its segments in recording time.
pub(crate) fn decode_guarded(
    engine: &Engine,
    state: &mut DecoderState,
    opts: &TranscribeOptions,
    window: &Window,
    stats: &mut TranscribeStats,
    language_seen: &mut Option<String>,
) -> Result<Vec<Segment>> {
    if window.samples.is_empty() {
        return Ok(Vec::new());
    }
    stats.windows += 1;
    stats.speech_ms += window.speech_ms();
    let guards = &opts.guards;
    let temperatures = if guards.temperatures.is_empty() {
        vec![0.0]
    } else {
        guards.temperatures.clone()
    };
    let mut chosen = None;
    for (attempt, &t) in temperatures.iter().enumerate() {
        let (decoded, language) =
            engine.decode_window(state, &window.samples, &opts.decode, t, guards.best_of)?;
        let text: String = decoded
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let failed =
            compression_ratio(&text) > guards.compression_ratio_threshold || has_loop(&text);
        if attempt > 0 {
            stats.fallbacks += 1;
        }
        language_seen.get_or_insert(language);
        let last = attempt + 1 == temperatures.len();
        if !failed || last {
            if failed {
                tracing::debug!(
                    "window at {} ms still loops at temperature {t}",
                    window.start_ms()
                );
            }
            chosen = Some((decoded, failed));
            break;
        }
        tracing::debug!(
            "window at {} ms failed at temperature {t}; retrying",
            window.start_ms()
        );
    }
    let Some((decoded, still_failing)) = chosen else {
        return Ok(Vec::new());
    };
    let pad_ms = opts.vad.as_ref().map_or(0, |v| v.speech_pad_ms);
    let mut segments = Vec::new();
    let syllables: usize = decoded.iter().map(|s| folded_words(&s.text).len()).sum();
    for mut seg in decoded {
        let unsure = seg.no_speech_prob > guards.no_speech_threshold;
        let silent = unsure
            && (seg.avg_logprob < guards.logprob_threshold
                || syllables <= guards.max_syllables_when_unsure);
        let invented = guards.filter_hallucinations
            && (is_hallucination(&seg.text) || is_sound_annotation(&seg.text));
        if silent || invented {
            tracing::debug!("dropped segment {:?}", seg.text);
            stats.dropped_segments += 1;
            continue;
        }
        if still_failing && cut_loop(&mut seg) {
            stats.loops_cut += 1;
        }
        segments.extend(to_source(seg, window, pad_ms));
    }
    Ok(segments)
}

/// Removes the repeats of a loop from a segment's words and text.
fn cut_loop(seg: &mut DecodedSegment) -> bool {
    let (words, ranges): (Vec<_>, Vec<_>) = group_word_tokens(&seg.tokens).into_iter().unzip();
    let folded: Vec<String> = words
        .iter()
        .map(|w| folded_words(&w.text).concat())
        .collect();
    let Some(found) = find_loop(&folded) else {
        return false;
    };
    let keep_until = found.start + found.n;
    let drop_until = found.start + found.n * found.count;
    let mut kept: Vec<_> = words[..keep_until].to_vec();
    kept.extend_from_slice(&words[drop_until..]);
    seg.text = kept
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    // Keep only the tokens of the kept words, by position: a loop's tokens
    // often share one timestamp with the words around it.
    let cut_from = ranges.get(keep_until).map_or(seg.tokens.len(), |r| r.start);
    let cut_to = ranges.get(drop_until).map_or(seg.tokens.len(), |r| r.start);
    seg.tokens.drain(cut_from..cut_to.max(cut_from));
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::{TimedToken, group_words};

    fn token(text: &str, start_ms: u64, end_ms: u64) -> TimedToken {
        TimedToken {
            bytes: text.as_bytes().to_vec(),
            start_ms,
            end_ms,
            probability: 0.5,
        }
    }

    fn segment(tokens: Vec<TimedToken>) -> DecodedSegment {
        let text: String = tokens
            .iter()
            .map(|t| String::from_utf8_lossy(&t.bytes).into_owned())
            .collect();
        DecodedSegment {
            start_ms: 0,
            end_ms: 3000,
            text: text.trim().to_owned(),
            tokens,
            avg_logprob: -0.2,
            no_speech_prob: 0.0,
        }
    }

    fn token_words(seg: &DecodedSegment) -> Vec<String> {
        group_words(&seg.tokens)
            .into_iter()
            .map(|w| w.text)
            .collect()
    }

    #[test]
    fn a_cut_loop_keeps_the_tokens_of_the_words_it_keeps() {
        // whisper.cpp often gives a loop's tokens one shared timestamp,
        // the same as the words next to it.
        let mut tokens = vec![token(" Kính", 0, 300), token(" thưa", 300, 600)];
        for _ in 0..3 {
            tokens.push(token(" đại", 600, 600));
            tokens.push(token(" biểu", 600, 600));
        }
        tokens.push(token(" xin", 600, 600));
        let mut seg = segment(tokens.clone());
        assert!(cut_loop(&mut seg));
        assert_eq!(seg.text, "Kính thưa đại biểu xin");
        assert_eq!(token_words(&seg), ["Kính", "thưa", "đại", "biểu", "xin"]);

        // A loop that ends the segment, sharing the time of the word
        // before it.
        tokens.pop();
        let mut seg = segment(tokens);
        assert!(cut_loop(&mut seg));
        assert_eq!(seg.text, "Kính thưa đại biểu");
        assert_eq!(token_words(&seg), ["Kính", "thưa", "đại", "biểu"]);
    }

    #[test]
    fn a_loop_split_over_tokens_is_cut_whole_words_at_a_time() {
        // "biểu" in two tokens, and an empty-text token inside the loop.
        let mut tokens = vec![token(" Kính", 0, 300)];
        for i in 0..3 {
            let t = 300 + 200 * i;
            tokens.push(token(" bi", t, t + 50));
            tokens.push(token("ểu", t + 50, t + 100));
            tokens.push(token(" hội", t + 100, t + 200));
            tokens.push(token(" ", t + 200, t + 200));
        }
        tokens.push(token(" xong", 900, 1000));
        let mut seg = segment(tokens);
        assert!(cut_loop(&mut seg));
        assert_eq!(seg.text, "Kính biểu hội xong");
        assert_eq!(token_words(&seg), ["Kính", "biểu", "hội", "xong"]);
    }
}
