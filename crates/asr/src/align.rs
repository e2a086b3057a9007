//! Words re-timed after a correction.
//!
//! When a stenographer corrects a segment's text, its words need times
//! again. The old and new word sequences are compared (a longest common
//! subsequence of their Vietnamese-normalised forms, so `hoà` and `hòa` are
//! the same word): words found in both keep their old times exactly and
//! become anchors. Each run of new or changed words is timed only inside
//! the gap between its anchors:
//!
//! 1. the gap is trimmed to its audible frames (loudness against the
//!    segment's own quiet and loud levels);
//! 2. the boundaries between the run's words come from re-recognition
//!    ([`heard`]): only a window of the audio around the run, from the
//!    kept word before it to the kept word after it (the whole segment
//!    when nothing was kept) with about a second of context each side, is
//!    transcribed again by the pipeline, and the run's words take the
//!    times of the recognised words they match, the kept words inside the
//!    window anchoring the match;
//! 3. each boundary is moved into the nearest pause close to it, where
//!    there is one;
//! 4. without the model's times (a window over 30 s, silence), the run is
//!    laid out by letters, as `place` lays out words it had to move.
//!
//! A run of one word needs no boundary inside it, so a correction that
//! changes no two adjacent words does not run the model at all, and its
//! words' probability is NaN (`null`); the model's is the recognised
//! word's. Teacher-forced decoding of the corrected text ([`model`],
//! [`AlignMethod::ForcedDecoding`]) is kept for comparison.
//!
//! Every word ends up inside the segment, in order, without overlaps and
//! with a non-zero length.

mod heard;
mod layout;
mod model;

use tocky_core::Word;
use tocky_core::text::{nfc, scoring_words};

use crate::engine::Engine;
use crate::error::{Error, Result};
use layout::{Frames, time_run};

/// The least room (ms) a new word needs between its anchors; with less,
/// the neighbouring kept words give up their times and are timed again
/// with it (a word inserted between two words said without a pause).
const MIN_ROOM_MS: u64 = 40;

/// The longest audio (ms) the decoder can take at once.
const MAX_MODEL_MS: u64 = 30_000;

/// How to re-align.
#[derive(Debug, Clone)]
pub struct AlignOptions {
    /// The spoken language (ISO 639-1) the decoder is told.
    pub language: String,
    /// CPU threads for the decoder.
    pub threads: usize,
    /// Time runs of new words with the model (see `method`); when false,
    /// they are laid out by letters over the audible frames of their gap.
    pub use_model: bool,
    /// How the model times them.
    pub method: AlignMethod,
}

/// How the model places the boundaries between new words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlignMethod {
    /// Transcribe the segment again with the pipeline (VAD, decoding,
    /// word placement) and take the times of the recognised words that
    /// match the corrected ones.
    #[default]
    Recognise,
    /// Teacher-forced decoding of the corrected text: the most likely
    /// timestamp token at each word boundary. Measured far worse than
    /// `Recognise` (bench-align: whisper base predicts no useful
    /// timestamp inside a sentence it did not choose to end); kept for
    /// comparison.
    ForcedDecoding,
}

impl Default for AlignOptions {
    fn default() -> Self {
        Self {
            language: "vi".into(),
            threads: std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(8),
            use_model: true,
            method: AlignMethod::default(),
        }
    }
}

/// A corrected segment to re-time.
#[derive(Debug, Clone, Copy)]
pub struct AlignRequest<'a> {
    /// 16 kHz mono samples of exactly the segment, `start_ms..end_ms`
    /// (missing samples at the end are taken for silence).
    pub audio: &'a [f32],
    /// The segment's start in the recording (ms).
    pub start_ms: u64,
    /// The segment's end in the recording (ms).
    pub end_ms: u64,
    /// The words as they were timed before the correction (recording
    /// times); empty for a segment typed in by hand.
    pub old_words: &'a [Word],
    /// The corrected text.
    pub text: &'a str,
}

/// Times the words of `req.text` (one [`Word`] per whitespace-separated
/// word, NFC): words unchanged from `req.old_words` keep their times, the
/// others are timed in the gaps between them. Deterministic.
///
/// A kept word is timed again only when words were inserted next to it
/// with less than [`MIN_ROOM_MS`] each between its neighbours.
pub fn realign(engine: &Engine, options: &AlignOptions, req: &AlignRequest) -> Result<Vec<Word>> {
    let texts: Vec<String> = nfc(req.text)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if texts.is_empty() {
        return Ok(Vec::new());
    }
    let span_ms = req.end_ms.saturating_sub(req.start_ms);
    if span_ms < texts.len() as u64 {
        return Err(Error::AlignSpan {
            start_ms: req.start_ms,
            end_ms: req.end_ms,
            words: texts.len(),
        });
    }
    let mut kept = anchors(req, &texts);
    make_room(&mut kept, req);
    // The model places boundaries between new words: a run of one new
    // word between kept ones (the common correction) needs none.
    let runs = kept.windows(2).any(|w| w[0].is_none() && w[1].is_none());
    let timing = match options.method {
        _ if !options.use_model || !runs => None,
        // Only a window around each run is recognised again.
        AlignMethod::Recognise => Some(heard::time_runs(engine, options, req, &texts, &kept)?),
        // The text is decoded up to the end of the last run of two or more.
        AlignMethod::ForcedDecoding if span_ms <= MAX_MODEL_MS => {
            let until = kept
                .windows(2)
                .rposition(|w| w[0].is_none() && w[1].is_none())
                .and_then(|k| (k..kept.len()).find(|&j| kept[j].is_some()))
                .unwrap_or(kept.len());
            Some(model::time_words(
                engine,
                options,
                req.audio,
                &texts[..until],
            )?)
        }
        AlignMethod::ForcedDecoding => None,
    };
    Ok(assemble(req, texts, &kept, timing.as_ref()))
}

/// The words of the text: kept words with their old times, runs of new
/// words timed in their gaps (by `timing` where the model gave one).
fn assemble(
    req: &AlignRequest,
    texts: Vec<String>,
    kept: &[Option<Word>],
    timing: Option<&model::Timing>,
) -> Vec<Word> {
    let frames = Frames::of(req.audio);
    let mut words: Vec<Word> = texts
        .into_iter()
        .zip(kept)
        .enumerate()
        .map(|(k, (text, old))| match old {
            Some(old) => Word {
                text,
                ..old.clone()
            },
            None => Word {
                text,
                start_ms: req.start_ms,
                end_ms: req.start_ms,
                probability: timing
                    .and_then(|t| t.probability.get(k).copied())
                    .unwrap_or(f32::NAN),
            },
        })
        .collect();
    let mut i = 0;
    while i < words.len() {
        if kept[i].is_some() {
            i += 1;
            continue;
        }
        let j = (i..words.len())
            .find(|&j| kept[j].is_some())
            .unwrap_or(words.len());
        let lo = if i == 0 {
            req.start_ms
        } else {
            words[i - 1].end_ms
        };
        let hi = words.get(j).map_or(req.end_ms, |w| w.start_ms);
        let bounds = timing.and_then(|t| {
            t.bounds
                .get(i..=j)?
                .iter()
                .map(|b| b.map(|ms| req.start_ms + ms))
                .collect::<Option<Vec<u64>>>()
        });
        time_run(
            &mut words[i..j],
            lo,
            hi,
            bounds.as_deref(),
            &frames,
            req.start_ms,
        );
        i = j;
    }
    words
}

/// The folded form two words are compared by: lower case, tone mark in a
/// canonical place, without punctuation (or the word itself, lower case,
/// when it is all punctuation).
fn key(word: &str) -> String {
    let syllables = scoring_words(word);
    if syllables.is_empty() {
        word.to_lowercase()
    } else {
        syllables.join(" ")
    }
}

/// For each new word, the old word it is unchanged from, if any: a longest
/// common subsequence of the keys, over the old words usable as anchors
/// (inside the segment, with a length).
fn anchors(req: &AlignRequest, texts: &[String]) -> Vec<Option<Word>> {
    let old: Vec<&Word> = req
        .old_words
        .iter()
        .filter(|w| w.start_ms >= req.start_ms && w.end_ms <= req.end_ms && w.end_ms > w.start_ms)
        .collect();
    let new_keys: Vec<String> = texts.iter().map(|t| key(t)).collect();
    let old_keys: Vec<String> = old.iter().map(|w| key(&w.text)).collect();
    let mut kept = vec![None; new_keys.len()];
    let mut floor = req.start_ms;
    for (i, j) in matches(&new_keys, &old_keys) {
        // Kept words stay in order without overlaps: of two old words
        // that overlap, the later is timed again.
        if old[j].start_ms >= floor {
            kept[i] = Some(old[j].clone());
            floor = old[j].end_ms;
        }
    }
    kept
}

/// The pairs `(i, j)` of a longest common subsequence of `a` and `b`.
fn matches(a: &[String], b: &[String]) -> Vec<(usize, usize)> {
    matches_by(a.len(), b.len(), |i, j| a[i] == b[j])
}

/// The pairs `(i, j)` of a longest common subsequence of `0..n` and
/// `0..m`, where `same(i, j)` says whether `i` and `j` may be paired.
fn matches_by(n: usize, m: usize, same: impl Fn(usize, usize) -> bool) -> Vec<(usize, usize)> {
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if same(i, j) {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut pairs = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if same(i, j) {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

/// Drops the anchors around any run of new words whose gap is too small
/// for them, until every run has room.
fn make_room(kept: &mut [Option<Word>], req: &AlignRequest) {
    loop {
        let mut changed = false;
        let mut i = 0;
        while i < kept.len() {
            if kept[i].is_some() {
                i += 1;
                continue;
            }
            let j = (i..kept.len())
                .find(|&j| kept[j].is_some())
                .unwrap_or(kept.len());
            let lo = if i == 0 {
                Some(req.start_ms)
            } else {
                kept[i - 1].as_ref().map(|w| w.end_ms)
            };
            let hi = kept
                .get(j)
                .map_or(Some(req.end_ms), |w| w.as_ref().map(|w| w.start_ms));
            let (Some(lo), Some(hi)) = (lo, hi) else {
                break;
            };
            if hi.saturating_sub(lo) < MIN_ROOM_MS * (j - i) as u64 {
                if i > 0 {
                    kept[i - 1] = None;
                }
                if j < kept.len() {
                    kept[j] = None;
                }
                changed = i > 0 || j < kept.len();
                break;
            }
            i = j;
        }
        if !changed {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
