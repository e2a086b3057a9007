//! Re-recognition of the stretch around each run of new words.
//!
//! Only a **window** of the segment is transcribed again by the pipeline
//! (VAD, greedy decoding, word placement): from the kept word before the
//! run (or the segment's start) to the kept word after it (or the
//! segment's end), widened by [`MARGIN_MS`] of context on each side, with
//! the encoder given only the window's audio (`audio_ctx`). A correction
//! typed in with no kept words has one window, the whole segment. Runs
//! whose windows overlap, or fit together in the encoder's least context,
//! share one window: it costs the same as one of them.
//!
//! The window's words (the runs, and the kept words wholly inside it) are
//! matched to the recognised words of that window only (a longest common
//! subsequence of Vietnamese-normalised forms), and a recognised word may
//! time a word only where it overlaps that word's place: a kept word's own
//! time, a new word's gap between its kept neighbours (with
//! [`SLACK_MS`]). Kept words keep their exact times as anchors; new words
//! take the times of the recognised words they match, and boundaries not
//! heard are spread by letters between the nearest known ones.

use std::ops::Range;

use tocky_core::Word;

use super::model::Timing;
use super::{AlignOptions, AlignRequest, MAX_MODEL_MS, key, matches_by};
use crate::engine::{DecodeOptions, Engine};
use crate::error::Result;
use crate::pipeline::TranscribeOptions;

/// Audio (ms) recognised beyond a run's gap on each side (at least its
/// anchor words): Whisper hears a word better with some speech around it.
pub(super) const MARGIN_MS: u64 = 1_000;

/// The encoder's least context (512 frames of 20 ms, `audio_ctx`): two
/// runs whose windows together fit in it cost one encoding, not two.
pub(super) const MIN_CONTEXT_MS: u64 = 10_240;

/// How far (ms) outside a word's place a recognised word may lie and
/// still time it: recognised word times are that loose.
const SLACK_MS: u64 = 250;

/// A stretch of the segment recognised again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Window {
    /// Where it starts in the recording (ms).
    pub(super) from_ms: u64,
    /// Where it ends in the recording (ms).
    pub(super) to_ms: u64,
    /// The words of the text it covers: its runs of new words and the
    /// kept words wholly inside it next to them.
    pub(super) words: Range<usize>,
}

/// The windows to recognise for the runs of two or more new words in
/// `kept` (`None` for a new word), in order; windows over [`MAX_MODEL_MS`]
/// are left out (their runs are laid out by letters).
pub(super) fn windows(req: &AlignRequest, kept: &[Option<Word>]) -> Vec<Window> {
    let n = kept.len();
    let mut out: Vec<Window> = Vec::new();
    let mut i = 0;
    while i < n {
        if kept[i].is_some() {
            i += 1;
            continue;
        }
        let j = (i..n).find(|&j| kept[j].is_some()).unwrap_or(n);
        if j - i >= 2 {
            let before = i.checked_sub(1).and_then(|k| kept[k].as_ref());
            let after = kept.get(j).and_then(Option::as_ref);
            let lo = before.map_or(req.start_ms, |w| w.end_ms);
            let hi = after.map_or(req.end_ms, |w| w.start_ms);
            let from = lo
                .saturating_sub(MARGIN_MS)
                .min(before.map_or(lo, |w| w.start_ms))
                .max(req.start_ms);
            let to = (hi + MARGIN_MS)
                .max(after.map_or(hi, |w| w.end_ms))
                .min(req.end_ms);
            let merged = out.last_mut().filter(|last| {
                let length = to - last.from_ms;
                (from <= last.to_ms || length <= MIN_CONTEXT_MS) && length <= MAX_MODEL_MS
            });
            match merged {
                Some(last) => {
                    last.to_ms = to;
                    last.words.end = j;
                }
                None => out.push(Window {
                    from_ms: from,
                    to_ms: to,
                    words: i..j,
                }),
            }
        }
        i = j;
    }
    out.retain(|w| w.to_ms - w.from_ms <= MAX_MODEL_MS);
    // The kept words inside a window anchor the match.
    for w in &mut out {
        while w.words.start > 0
            && kept[w.words.start - 1]
                .as_ref()
                .is_some_and(|k| k.start_ms >= w.from_ms)
        {
            w.words.start -= 1;
        }
        while kept
            .get(w.words.end)
            .and_then(Option::as_ref)
            .is_some_and(|k| k.end_ms <= w.to_ms)
        {
            w.words.end += 1;
        }
    }
    out
}

/// Times the runs of two or more new words of `texts` (`kept[k]` is
/// `None` for a new word) by re-recognising a window around each. Bounds
/// are given only for the words of a window; elsewhere `None`.
pub(super) fn time_runs(
    engine: &Engine,
    options: &AlignOptions,
    req: &AlignRequest,
    texts: &[String],
    kept: &[Option<Word>],
) -> Result<Timing> {
    let n = texts.len();
    let mut timing = Timing {
        bounds: vec![None; n + 1],
        probability: vec![f32::NAN; n],
    };
    for window in windows(req, kept) {
        time_window(engine, options, req, texts, kept, &window, &mut timing)?;
    }
    Ok(timing)
}

/// Recognises `window` and writes the bounds (ms from the segment's
/// start) and probabilities of its new words into `timing`.
fn time_window(
    engine: &Engine,
    options: &AlignOptions,
    req: &AlignRequest,
    texts: &[String],
    kept: &[Option<Word>],
    window: &Window,
    timing: &mut Timing,
) -> Result<()> {
    let (from, to) = (window.from_ms, window.to_ms);
    let sample = |ms: u64| (((ms - req.start_ms) * 16) as usize).min(req.audio.len());
    let audio = req.audio.get(sample(from)..sample(to)).unwrap_or(&[]);
    let heard: Vec<Word> = recognise(engine, options, audio)?
        .into_iter()
        .map(|w| Word {
            start_ms: (from + w.start_ms).min(to),
            end_ms: (from + w.end_ms).min(to),
            ..w
        })
        .collect();
    let range = window.words.clone();
    let a = range.start;
    let n = range.len();
    let places = places(req, kept, range.clone());
    let keys: Vec<String> = texts[range.clone()].iter().map(|t| key(t)).collect();
    let heard_keys: Vec<String> = heard.iter().map(|w| key(&w.text)).collect();
    let pairs = matches_by(n, heard.len(), |x, r| {
        let (lo, hi) = places[x];
        keys[x] == heard_keys[r]
            && heard[r].start_ms < hi + SLACK_MS
            && heard[r].end_ms + SLACK_MS > lo
    });
    // Kept words are known exactly; new ones where they were heard.
    let mut starts: Vec<Option<u64>> = (0..n)
        .map(|x| kept[a + x].as_ref().map(|w| w.start_ms))
        .collect();
    let mut ends: Vec<Option<u64>> = (0..n)
        .map(|x| kept[a + x].as_ref().map(|w| w.end_ms))
        .collect();
    for (x, r) in pairs {
        if kept[a + x].is_none() {
            starts[x] = Some(heard[r].start_ms);
            ends[x] = Some(heard[r].end_ms);
            timing.probability[a + x] = heard[r].probability;
        }
    }
    let letters: Vec<u64> = texts[range]
        .iter()
        .map(|w| (w.chars().filter(|c| c.is_alphanumeric()).count() as u64).max(1))
        .collect();
    let bounds = bounds(&starts, &ends, &letters, from, to);
    for (x, b) in bounds.into_iter().enumerate() {
        let k = a + x;
        // Only a new word's own bounds: kept words keep their times.
        let of_new = kept.get(k).is_some_and(Option::is_none) || (k > 0 && kept[k - 1].is_none());
        if of_new {
            timing.bounds[k] = b.map(|ms| ms - req.start_ms);
        }
    }
    Ok(())
}

/// Where each word of `range` may be heard (recording ms): a kept word at
/// its own time, a new word in the gap between its kept neighbours.
fn places(req: &AlignRequest, kept: &[Option<Word>], range: Range<usize>) -> Vec<(u64, u64)> {
    range
        .map(|k| match &kept[k] {
            Some(w) => (w.start_ms, w.end_ms),
            None => (
                kept[..k]
                    .iter()
                    .rev()
                    .find_map(|w| w.as_ref().map(|w| w.end_ms))
                    .unwrap_or(req.start_ms),
                kept[k..]
                    .iter()
                    .find_map(|w| w.as_ref().map(|w| w.start_ms))
                    .unwrap_or(req.end_ms),
            ),
        })
        .collect()
}

/// The boundaries between words (`bounds[k]`: where word `k` starts and
/// word `k - 1` ends) from the known starts and ends, in `from..to`: a
/// boundary is the next word's start, else the previous word's end;
/// boundaries not known are spread by letters between the nearest known
/// ones. Never backwards.
fn bounds(
    starts: &[Option<u64>],
    ends: &[Option<u64>],
    letters: &[u64],
    from: u64,
    to: u64,
) -> Vec<Option<u64>> {
    let n = starts.len();
    let mut known: Vec<Option<u64>> = (0..=n)
        .map(|k| {
            starts
                .get(k)
                .copied()
                .flatten()
                .or_else(|| (k > 0).then(|| ends[k - 1]).flatten())
        })
        .collect();
    known[0] = known[0].or(Some(from));
    known[n] = known[n].or(Some(to));
    let mut bounds = known.clone();
    let mut a = 0;
    while a < n {
        let Some(b) = (a + 1..=n).find(|&b| known[b].is_some()) else {
            break;
        };
        if let (Some(lo), Some(hi)) = (known[a], known[b]) {
            let hi = hi.max(lo);
            let total: u64 = letters[a..b].iter().sum();
            let mut acc = 0;
            for k in a + 1..b {
                acc += letters[k - 1];
                bounds[k] = Some(lo + (hi - lo) * acc / total.max(1));
            }
        }
        a = b;
    }
    let mut floor = from;
    for b in bounds.iter_mut().flatten() {
        *b = (*b).clamp(floor, to.max(floor));
        floor = *b;
    }
    bounds
}

/// The words the pipeline hears in `audio` (ms from its start), encoding
/// only that audio (≤ 30 s), as live recognition does.
fn recognise(engine: &Engine, options: &AlignOptions, audio: &[f32]) -> Result<Vec<Word>> {
    if audio.is_empty() {
        return Ok(Vec::new());
    }
    let opts = TranscribeOptions {
        decode: DecodeOptions {
            language: options.language.clone(),
            threads: options.threads.max(1),
            audio_ctx: Some(crate::streaming::audio_ctx(audio.len())),
            // Greedy: only the times of words the text already gives are
            // used, and a beam costs several times as much.
            beam_size: 1,
            ..DecodeOptions::default()
        },
        ..TranscribeOptions::recommended()
    };
    Ok(engine
        .transcribe(audio, &opts)?
        .segments
        .into_iter()
        .flat_map(|s| s.words)
        .collect())
}
