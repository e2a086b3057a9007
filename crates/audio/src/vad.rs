//! Voice activity detection and the cutting of long audio into windows for
//! Whisper.
//!
//! Whisper decodes at most 30 s at a time and, given silence, applause or
//! murmur, tends to invent words. [`Segmenter`] scores every 16 ms frame with
//! earshot's neural VAD, finds speech regions with hysteresis, pads them a
//! little, and packs consecutive regions into windows of at most
//! [`VadOptions::max_window_ms`]. Non-speech never reaches the decoder, and a
//! window carries the map from its own sample positions back to the
//! recording's, so timestamps stay absolute.
//!
//! It is streaming: memory holds the open window and a few hundred
//! milliseconds of look-back, whatever the length of the recording.

use earshot::Detector;

use crate::decode::SAMPLE_RATE;

/// Samples per VAD frame (16 ms at 16 kHz), fixed by earshot.
pub const FRAME: usize = 256;

/// Tuning of the detector and the window packer.
#[derive(Debug, Clone)]
pub struct VadOptions {
    /// A frame scoring at least this starts speech.
    pub threshold: f32,
    /// While in speech, frames under this count as silence.
    pub negative_threshold: f32,
    /// Speech regions shorter than this are dropped (clicks, coughs).
    pub min_speech_ms: u64,
    /// A pause this long ends a speech region.
    pub min_silence_ms: u64,
    /// Audio kept before and after each region, so word edges are not clipped.
    pub speech_pad_ms: u64,
    /// The longest window handed to the decoder.
    pub max_window_ms: u64,
    /// Silence inserted between packed regions, so the decoder hears a break.
    pub gap_ms: u64,
    /// A pause longer than this closes the window: speech minutes apart is
    /// not packed together, and windows keep flowing through long silences.
    pub max_pause_ms: u64,
    /// Hand each speech region over as its own window as soon as it ends,
    /// instead of packing regions together: live recognition finalises an
    /// utterance at its pause.
    pub flush_at_pause: bool,
}

impl Default for VadOptions {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            negative_threshold: 0.35,
            min_speech_ms: 250,
            min_silence_ms: 500,
            speech_pad_ms: 200,
            max_window_ms: 28_000,
            gap_ms: 300,
            max_pause_ms: 30_000,
            flush_at_pause: false,
        }
    }
}

/// One stretch of the recording inside a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Where it starts in the window's samples.
    pub window_start: usize,
    /// Where it starts in the recording, in samples.
    pub source_start: u64,
    /// Its length in samples.
    pub len: usize,
}

/// Audio to decode in one go: speech regions packed with short gaps.
#[derive(Debug, Clone, Default)]
pub struct Window {
    /// The packed 16 kHz samples.
    pub samples: Vec<f32>,
    /// The regions it holds, in order.
    pub pieces: Vec<Piece>,
}

impl Window {
    /// The recording time (ms) of a time (ms) within this window. A time in
    /// a gap maps to the end of the piece before it.
    pub fn source_ms(&self, window_ms: u64) -> u64 {
        let sample = (window_ms * u64::from(SAMPLE_RATE) / 1000) as usize;
        let piece = self
            .pieces
            .iter()
            .rev()
            .find(|p| p.window_start <= sample)
            .or(self.pieces.first());
        let Some(p) = piece else { return 0 };
        let offset = sample.saturating_sub(p.window_start).min(p.len) as u64;
        (p.source_start + offset) * 1000 / u64::from(SAMPLE_RATE)
    }

    /// The index of the piece that holds window time `window_ms` (a time in
    /// a gap belongs to the piece before it).
    pub fn piece_at(&self, window_ms: u64) -> usize {
        let sample = (window_ms * u64::from(SAMPLE_RATE) / 1000) as usize;
        self.pieces
            .iter()
            .rposition(|p| p.window_start <= sample)
            .unwrap_or(0)
    }

    /// Window times (ms) where piece `index` starts and ends.
    pub fn piece_bounds_ms(&self, index: usize) -> (u64, u64) {
        self.pieces.get(index).map_or((0, 0), |p| {
            let rate = u64::from(SAMPLE_RATE);
            (
                p.window_start as u64 * 1000 / rate,
                (p.window_start + p.len) as u64 * 1000 / rate,
            )
        })
    }

    /// Where the window starts in the recording (ms).
    pub fn start_ms(&self) -> u64 {
        self.pieces
            .first()
            .map_or(0, |p| p.source_start * 1000 / u64::from(SAMPLE_RATE))
    }

    /// Where the window ends in the recording (ms).
    pub fn end_ms(&self) -> u64 {
        self.pieces.last().map_or(0, |p| {
            (p.source_start + p.len as u64) * 1000 / u64::from(SAMPLE_RATE)
        })
    }

    /// Speech duration in the window (ms), gaps excluded.
    pub fn speech_ms(&self) -> u64 {
        self.pieces.iter().map(|p| p.len as u64).sum::<u64>() * 1000 / u64::from(SAMPLE_RATE)
    }
}

fn ms_to_samples(ms: u64) -> usize {
    (ms * u64::from(SAMPLE_RATE) / 1000) as usize
}

/// Streaming speech segmentation: push samples, collect windows.
pub struct Segmenter {
    opts: VadOptions,
    detector: Box<Detector>,
    /// Samples not yet dropped; `buf[0]` is recording sample `buf_start`.
    buf: Vec<f32>,
    buf_start: u64,
    /// Recording samples scored so far (a multiple of FRAME).
    scored: u64,
    in_speech: bool,
    region_start: u64,
    last_speech_end: u64,
    /// Scores of the open region's frames, for choosing a quiet cut.
    region_scores: Vec<f32>,
    /// End of the last emitted region, so pads never overlap.
    emitted_until: u64,
    window: Window,
    ready: Vec<Window>,
    frame: [i16; FRAME],
}

impl Segmenter {
    /// A segmenter with the given tuning.
    pub fn new(opts: VadOptions) -> Self {
        Self {
            opts,
            detector: Detector::default_boxed(),
            buf: Vec::new(),
            buf_start: 0,
            scored: 0,
            in_speech: false,
            region_start: 0,
            last_speech_end: 0,
            region_scores: Vec::new(),
            emitted_until: 0,
            window: Window::default(),
            ready: Vec::new(),
            frame: [0; FRAME],
        }
    }

    /// Samples held in memory: the open window and the look-back. Stays
    /// bounded (about one window) however long the stream.
    pub fn buffered_samples(&self) -> usize {
        self.buf.len() + self.window.samples.len()
    }

    /// Feeds 16 kHz mono samples; returns the windows that are complete.
    pub fn push(&mut self, samples: &[f32]) -> Vec<Window> {
        self.buf.extend_from_slice(samples);
        while self.buf_start + self.buf.len() as u64 >= self.scored + FRAME as u64 {
            let at = (self.scored - self.buf_start) as usize;
            for (dst, src) in self.frame.iter_mut().zip(&self.buf[at..at + FRAME]) {
                // earshot asserts [-1, 1] on f32 input; clamp through i16.
                *dst = (src.clamp(-1.0, 1.0) * 32767.0) as i16;
            }
            let score = self.detector.predict_i16(&self.frame);
            self.on_frame(score);
            self.scored += FRAME as u64;
        }
        std::mem::take(&mut self.ready)
    }

    /// Ends the stream: closes any open region and returns the last windows.
    pub fn finish(&mut self) -> Vec<Window> {
        let end = self.buf_start + self.buf.len() as u64;
        if self.in_speech {
            self.in_speech = false;
            self.close_region(self.region_start, end.max(self.last_speech_end), true);
        }
        if !self.window.pieces.is_empty() {
            self.ready.push(std::mem::take(&mut self.window));
        }
        std::mem::take(&mut self.ready)
    }

    fn on_frame(&mut self, score: f32) {
        let frame_start = self.scored;
        let frame_end = frame_start + FRAME as u64;
        let min_silence = ms_to_samples(self.opts.min_silence_ms) as u64;
        let pad = ms_to_samples(self.opts.speech_pad_ms);
        if !self.in_speech {
            if score >= self.opts.threshold {
                self.in_speech = true;
                self.region_start = frame_start;
                self.last_speech_end = frame_end;
                self.region_scores.clear();
                self.region_scores.push(score);
            } else {
                // Keep only what a future region's leading pad may need.
                self.drop_before(frame_end.saturating_sub(pad as u64 + FRAME as u64));
            }
            return;
        }
        self.region_scores.push(score);
        if score >= self.opts.negative_threshold {
            self.last_speech_end = frame_end;
        } else if frame_end - self.last_speech_end >= min_silence {
            self.in_speech = false;
            self.close_region(self.region_start, self.last_speech_end, true);
            return;
        }
        // A region too long for one window is cut at its quietest frame
        // in the last third, so that no word is split if it can be helped.
        let max_region = (ms_to_samples(self.opts.max_window_ms) - 2 * pad) as u64;
        if frame_end - self.region_start >= max_region {
            let n = self.region_scores.len();
            let from = n * 2 / 3;
            let quietest = (from..n)
                .min_by(|a, b| self.region_scores[*a].total_cmp(&self.region_scores[*b]))
                .unwrap_or(n - 1);
            let cut = self.region_start + (quietest as u64 + 1) * FRAME as u64;
            self.close_region(self.region_start, cut, false);
            self.region_scores.drain(..=quietest.min(n - 1));
            self.region_start = cut;
        }
    }

    /// Emits the speech from `start` to `end` (recording samples), padded
    /// unless `padded` is false (a forced cut in running speech).
    fn close_region(&mut self, start: u64, end: u64, padded: bool) {
        let min_speech = ms_to_samples(self.opts.min_speech_ms) as u64;
        if padded && end.saturating_sub(start) < min_speech {
            return;
        }
        let pad = if padded {
            ms_to_samples(self.opts.speech_pad_ms) as u64
        } else {
            0
        };
        let available_end = self.buf_start + self.buf.len() as u64;
        let from = start
            .saturating_sub(pad)
            .max(self.emitted_until)
            .max(self.buf_start);
        let to = (end + pad).min(available_end);
        if to <= from {
            return;
        }
        let slice = &self.buf[(from - self.buf_start) as usize..(to - self.buf_start) as usize];
        let gap = ms_to_samples(self.opts.gap_ms);
        let max_window = ms_to_samples(self.opts.max_window_ms);
        let last_end = self
            .window
            .pieces
            .last()
            .map(|p| p.source_start + p.len as u64);
        let long_pause = last_end.is_some_and(|end| {
            from.saturating_sub(end) > ms_to_samples(self.opts.max_pause_ms) as u64
        });
        let too_long = self.window.samples.len() + gap + slice.len() > max_window;
        if !self.window.pieces.is_empty() && (too_long || long_pause) {
            self.ready.push(std::mem::take(&mut self.window));
        }
        if !self.window.pieces.is_empty() {
            self.window.samples.extend(std::iter::repeat_n(0.0, gap));
        }
        self.window.pieces.push(Piece {
            window_start: self.window.samples.len(),
            source_start: from,
            len: slice.len(),
        });
        self.window.samples.extend_from_slice(slice);
        self.emitted_until = to;
        self.drop_before(to.saturating_sub(pad));
        if self.opts.flush_at_pause {
            self.ready.push(std::mem::take(&mut self.window));
        }
    }

    /// The speech region still open, if any: its first recording sample
    /// (leading pad included) and its audio so far. Live recognition
    /// decodes it for partial text before the region ends.
    pub fn open_region(&self) -> Option<(u64, &[f32])> {
        if !self.in_speech {
            return None;
        }
        let pad = ms_to_samples(self.opts.speech_pad_ms) as u64;
        let from = self
            .region_start
            .saturating_sub(pad)
            .max(self.emitted_until)
            .max(self.buf_start);
        let at = usize::try_from(from - self.buf_start).ok()?;
        self.buf.get(at..).map(|audio| (from, audio))
    }

    /// How long the open region has been silent (ms): live recognition
    /// skips a partial when the region is about to close anyway.
    pub fn trailing_silence_ms(&self) -> u64 {
        if !self.in_speech {
            return 0;
        }
        self.scored.saturating_sub(self.last_speech_end) * 1000 / u64::from(SAMPLE_RATE)
    }

    /// Recording samples fed so far.
    pub fn fed_samples(&self) -> u64 {
        self.buf_start + self.buf.len() as u64
    }

    fn drop_before(&mut self, sample: u64) {
        // Never drop what the open region or the unscored tail needs.
        let keep_from = if self.in_speech {
            sample.min(
                self.region_start
                    .saturating_sub(ms_to_samples(self.opts.speech_pad_ms) as u64),
            )
        } else {
            sample
        };
        let keep_from = keep_from.min(self.scored);
        if keep_from > self.buf_start {
            let n = ((keep_from - self.buf_start) as usize).min(self.buf.len());
            self.buf.drain(..n);
            self.buf_start += n as u64;
        }
    }
}

/// Segments a whole recording at once.
pub fn segment(samples: &[f32], opts: &VadOptions) -> Vec<Window> {
    let mut s = Segmenter::new(opts.clone());
    let mut windows = s.push(samples);
    windows.extend(s.finish());
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_gives_no_windows() {
        assert!(segment(&vec![0.0; 16_000 * 5], &VadOptions::default()).is_empty());
        assert!(segment(&[], &VadOptions::default()).is_empty());
    }

    #[test]
    fn source_times_map_through_gaps() {
        let w = Window {
            samples: vec![0.0; 16_000 * 3],
            pieces: vec![
                Piece {
                    window_start: 0,
                    source_start: 16_000 * 10,
                    len: 16_000,
                },
                Piece {
                    window_start: 16_000 * 2,
                    source_start: 16_000 * 60,
                    len: 16_000,
                },
            ],
        };
        assert_eq!(w.source_ms(500), 10_500);
        assert_eq!(
            w.source_ms(1_500),
            11_000,
            "a gap maps to the end of the piece before"
        );
        assert_eq!(w.source_ms(2_250), 60_250);
        assert_eq!(
            (w.start_ms(), w.end_ms(), w.speech_ms()),
            (10_000, 61_000, 2_000)
        );
    }
}
