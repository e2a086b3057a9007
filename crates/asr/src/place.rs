//! Placing decoded words in the recording: which speech region each word
//! was said in, and a time inside it with a non-zero length.
//!
//! A VAD window packs speech regions that may lie minutes apart, joined by
//! short gaps of silence. whisper.cpp's token times are weakest exactly
//! there: a segment's first token starts where the previous segment ended
//! (whisper predicts consecutive timestamps, and whisper.cpp's own energy
//! correction reads the wrong samples for every segment that does not
//! start the window), so the first word or two of an utterance are often
//! timed in the silence at the end of the previous region. Placed by their
//! midpoint, they landed in the wrong region with a zero-length time at
//! its edge, and the split at the join cut the sentence there.
//!
//! So words are placed by where they are *said*: a word timed inside a
//! region's speech (the region without its VAD padding) belongs to that
//! region; a word timed only in the padding and gap around a join belongs
//! with the words it is decoded with (a segment's opening words go with
//! the words that follow, its closing words with those before). Words that
//! had to move, and words whisper.cpp gave no length, are then given times
//! inside their region in proportion to their length in letters.

use tocky_audio::vad::Window;
use tocky_core::{Segment, Word};

use crate::engine::DecodedSegment;
use crate::words::group_words;

/// The shortest time a word is given when its own has to be made up (ms):
/// about a short syllable.
const MIN_WORD_MS: u64 = 60;

/// About how long a Vietnamese syllable takes (ms), for words with no
/// usable time at all.
const TYPICAL_WORD_MS: u64 = 250;

/// A word timed shorter than this (ms) has, in effect, no time:
/// whisper.cpp's times come in steps of 10 ms.
const SHORT_WORD_MS: u64 = 20;

/// A piece of the window in window time (ms): its whole span, and its
/// speech (the span less the VAD's padding on either side).
#[derive(Debug, Clone, Copy)]
struct Span {
    lo: u64,
    hi: u64,
    speech_lo: u64,
    speech_hi: u64,
}

/// Maps a decoded segment's window times to the recording's.
///
/// A window joins speech regions that may lie minutes apart, so a segment
/// is split where its words cross from one region to the next (a pause:
/// the VAD ends a region only after one), and each word is kept inside the
/// region where it is said ([`place_words`]): no word ever lands in the
/// silence, applause or murmur that the VAD left out.
pub(crate) fn to_source(seg: DecodedSegment, window: &Window, pad_ms: u64) -> Vec<Segment> {
    let window_end_ms = window.samples.len() as u64 * 1000 / u64::from(tocky_audio::SAMPLE_RATE);
    let probability =
        seg.tokens.iter().map(|t| t.probability).sum::<f32>() / seg.tokens.len().max(1) as f32;
    let words = group_words(&seg.tokens);
    if words.is_empty() {
        let start_ms = window.source_ms(seg.start_ms.min(window_end_ms));
        let end_ms = window
            .source_ms(seg.end_ms.min(window_end_ms))
            .max(start_ms);
        return vec![Segment {
            start_ms,
            end_ms,
            text: seg.text,
            probability,
            avg_logprob: seg.avg_logprob,
            no_speech_prob: seg.no_speech_prob,
            ..Segment::default()
        }];
    }
    let runs = place_words(words, window, pad_ms);
    let single = runs.len() == 1;
    runs.into_iter()
        .map(|(_, mut words)| {
            for w in &mut words {
                w.start_ms = window.source_ms(w.start_ms);
                w.end_ms = window.source_ms(w.end_ms).max(w.start_ms);
            }
            Segment {
                start_ms: words.first().map_or(0, |w| w.start_ms),
                end_ms: words.last().map_or(0, |w| w.end_ms),
                // One run keeps whisper's own text; split runs are rebuilt
                // from their words.
                text: if single {
                    seg.text.clone()
                } else {
                    words
                        .iter()
                        .map(|w| w.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                },
                words,
                channel: None,
                probability,
                avg_logprob: seg.avg_logprob,
                no_speech_prob: seg.no_speech_prob,
            }
        })
        .collect()
}

/// Splits a decoded segment's words (window times) into runs of one piece
/// each, every word with a non-zero time inside its piece (window times).
///
/// `pad_ms` is the padding the VAD put around each region.
pub(crate) fn place_words(
    words: Vec<Word>,
    window: &Window,
    pad_ms: u64,
) -> Vec<(usize, Vec<Word>)> {
    let window_end = window.samples.len() as u64 * 1000 / u64::from(tocky_audio::SAMPLE_RATE);
    let spans: Vec<Span> = (0..window.pieces.len().max(1))
        .map(|k| {
            let (lo, hi) = if window.pieces.is_empty() {
                (0, window_end)
            } else {
                window.piece_bounds_ms(k)
            };
            // A region shorter than its padding is all speech, as far as
            // anyone can tell.
            let pad = pad_ms.min((hi - lo) / 4);
            // At the start of the recording there was no room for padding.
            let at_start = window.pieces.get(k).is_none_or(|p| p.source_start == 0);
            Span {
                lo,
                hi,
                speech_lo: if at_start { lo } else { lo + pad },
                speech_hi: hi - pad,
            }
        })
        .collect();
    let mut words = words;
    for w in &mut words {
        w.start_ms = w.start_ms.min(window_end);
        w.end_ms = w.end_ms.clamp(w.start_ms, window_end);
    }

    // Where each word is said, when its time says so.
    let loudness = Loudness::of(&window.samples);
    let said: Vec<Option<usize>> = words
        .iter()
        .map(|w| said_in(w, &spans).filter(|&k| loudness.voiced(w, spans[k])))
        .collect();
    let mut pieces = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let before = said[..i].iter().rev().flatten().next().copied();
        let after = said[i + 1..].iter().flatten().next().copied();
        let piece = match (said[i], before, after) {
            (Some(p), _, _) => p,
            // A segment's opening words belong with the words that follow.
            (None, None, Some(next)) => next,
            // Its closing words, with those before.
            (None, Some(prev), None) => prev,
            (None, Some(prev), Some(next)) if prev == next => prev,
            // Inside a sentence that crosses a join: the side of the gap
            // its middle is on.
            (None, Some(prev), Some(next)) => {
                let mid = (w.start_ms + w.end_ms) / 2;
                let gap_mid = (spans[prev].hi + spans[next].lo) / 2;
                if mid < gap_mid { prev } else { next }
            }
            (None, None, None) => nearest(w, &spans),
        };
        // Words are in order: a word never goes back to an earlier region.
        let piece = pieces.last().map_or(piece, |&p: &usize| piece.max(p));
        pieces.push(piece);
    }
    join_opening_words(&mut pieces);

    let mut runs: Vec<(usize, Vec<Word>)> = Vec::new();
    let mut moved: Vec<Vec<bool>> = Vec::new();
    for (w, piece) in words.into_iter().zip(pieces) {
        // A word whose own time lies (almost) wholly outside its region
        // has no usable time there.
        let span = spans[piece];
        let inside = w
            .end_ms
            .min(span.hi)
            .saturating_sub(w.start_ms.max(span.lo));
        let was_moved = inside < SHORT_WORD_MS && (w.end_ms <= span.lo || w.start_ms >= span.hi);
        match runs.last_mut() {
            Some((p, run)) if *p == piece => {
                run.push(w);
                if let Some(m) = moved.last_mut() {
                    m.push(was_moved);
                }
            }
            _ => {
                runs.push((piece, vec![w]));
                moved.push(vec![was_moved]);
            }
        }
    }
    for ((piece, run), moved) in runs.iter_mut().zip(&moved) {
        retime(run, moved, spans[*piece]);
    }
    runs
}

/// The most words a segment's opening may hold and still be taken for
/// mistimed when the rest of the segment is said after a join.
const MAX_OPENING_WORDS: usize = 2;

/// Moves a segment's first word or two into the region of the words that
/// follow them, when those are more. whisper.cpp times a segment's first
/// words from where the previous segment ended, so words timed at the
/// end of the previous region, even over audible sound (often the last
/// syllable of the previous sentence, which whisper timed too early), say
/// little about where they were said; that a speaker said one or two
/// words, paused long enough for the VAD to end the region, and then
/// went on with the rest of the sentence is the rarer case.
fn join_opening_words(pieces: &mut [usize]) {
    let Some(&first) = pieces.first() else { return };
    let opening = pieces.iter().take_while(|&&p| p == first).count();
    let Some(&next) = pieces.get(opening) else {
        return;
    };
    let following = pieces[opening..].iter().take_while(|&&p| p == next).count();
    if opening <= MAX_OPENING_WORDS && following > opening {
        pieces[..opening].fill(next);
    }
}

/// The piece whose speech the word's time lies in (the most of it), if any.
fn said_in(w: &Word, spans: &[Span]) -> Option<usize> {
    let overlap = |s: &Span| {
        if w.end_ms > w.start_ms {
            w.end_ms
                .min(s.speech_hi)
                .saturating_sub(w.start_ms.max(s.speech_lo))
        } else {
            // A zero-length time counts when it lies strictly inside.
            u64::from(s.speech_lo < w.start_ms && w.start_ms < s.speech_hi)
        }
    };
    let (best, most) = spans
        .iter()
        .enumerate()
        .map(|(k, s)| (k, overlap(s)))
        .max_by_key(|&(k, o)| (o, std::cmp::Reverse(k)))?;
    (most > 0).then_some(best)
}

/// The window's loudness in 10 ms frames, to tell a word timed where
/// someone speaks from one timed in the quiet after they stopped.
pub(crate) struct Loudness {
    /// Root-mean-square level of each frame.
    pub(crate) frames: Vec<f32>,
}

/// Loudness frames (ms).
pub(crate) const FRAME_MS: u64 = 10;

impl Loudness {
    pub(crate) fn of(samples: &[f32]) -> Self {
        let n = (tocky_audio::SAMPLE_RATE as u64 * FRAME_MS / 1000) as usize;
        let frames = samples
            .chunks(n)
            .map(|c| (c.iter().map(|s| s * s).sum::<f32>() / c.len().max(1) as f32).sqrt())
            .collect();
        Self { frames }
    }

    /// Whether the audio under the word, inside the speech of `span`, has
    /// some voice in it: three frames or more well above the region's
    /// quietest (a tenth of the way from its quiet to its loud frames).
    /// whisper.cpp times a segment's first word from the end of the
    /// previous segment, so such a word can lie in the room tone at the
    /// end of the previous speaker's region.
    fn voiced(&self, w: &Word, span: Span) -> bool {
        let frame = |ms: u64| ((ms / FRAME_MS) as usize).min(self.frames.len());
        let Some(region) = self.frames.get(frame(span.lo)..frame(span.hi)) else {
            return true;
        };
        let mut sorted = region.to_vec();
        sorted.sort_by(f32::total_cmp);
        let (Some(&quiet), Some(&loud)) = (
            sorted.get(sorted.len() / 10),
            sorted.get(sorted.len() * 95 / 100),
        ) else {
            return true;
        };
        // Silence throughout, or noise throughout: nothing to tell by.
        if loud <= quiet * 2.0 + 1e-6 {
            return true;
        }
        let threshold = quiet + 0.1 * (loud - quiet);
        let from = frame(w.start_ms.max(span.speech_lo));
        let to = frame(w.end_ms.min(span.speech_hi)).max(from);
        let loud_frames = self.frames[from..to]
            .iter()
            .filter(|&&f| f > threshold)
            .count();
        // A word shorter than three frames is judged by what it has.
        loud_frames >= 3.min(to - from).max(1)
    }
}

/// The piece nearest to the word's middle.
fn nearest(w: &Word, spans: &[Span]) -> usize {
    let mid = (w.start_ms + w.end_ms) / 2;
    let distance = |s: &Span| {
        if mid < s.lo {
            s.lo - mid
        } else {
            mid.saturating_sub(s.hi)
        }
    };
    spans
        .iter()
        .enumerate()
        .min_by_key(|(_, s)| distance(s))
        .map_or(0, |(k, _)| k)
}

/// Gives a run of words in one piece times inside it: words whose own
/// time placed them elsewhere (`moved`) are laid out before or after the
/// words timed here, and no word keeps a zero length.
fn retime(run: &mut [Word], moved: &[bool], span: Span) {
    for w in run.iter_mut() {
        w.start_ms = w.start_ms.clamp(span.lo, span.hi);
        w.end_ms = w.end_ms.clamp(w.start_ms, span.hi);
    }
    // Keep the words in order, without overlaps.
    for i in 1..run.len() {
        let prev_end = run[i - 1].end_ms;
        if run[i].start_ms < prev_end {
            run[i].start_ms = prev_end;
            run[i].end_ms = run[i].end_ms.max(prev_end);
        }
    }
    let n = run.len();
    let first_kept = moved.iter().position(|m| !m);
    let last_kept = moved.iter().rposition(|m| !m);
    match (first_kept, last_kept) {
        (Some(first), Some(last)) => {
            // Moved words open the run: they are said from where the
            // region's speech starts up to the first word timed here.
            if first > 0 {
                let to = run[first].start_ms;
                let from = span.speech_lo.min(to);
                lay_out(&mut run[..first], from, to);
            }
            // Moved words close it: from the last word timed here to where
            // the speech ends.
            if last + 1 < n {
                let from = run[last].end_ms;
                let to = span.speech_hi.max(from);
                lay_out(&mut run[last + 1..], from, to);
            }
        }
        // Nothing in the run was timed here: it opens the region's speech,
        // at a plain speaking rate.
        _ => {
            let to = (span.speech_lo + TYPICAL_WORD_MS * n as u64).min(span.speech_hi);
            lay_out(run, span.speech_lo, to.max(span.speech_lo));
        }
    }
    // Speech starts where the VAD heard it start, not in the padding the
    // VAD added before it for the decoder's sake: whisper.cpp starts a
    // region's first word where its audio starts, up to `pad` early.
    if run.first().is_some_and(|w| w.start_ms < span.speech_lo) {
        let enough = run
            .iter()
            .enumerate()
            .position(|(i, w)| w.end_ms >= span.speech_lo + MIN_WORD_MS * (i as u64 + 1));
        if let Some(j) = enough {
            let to = run[j].end_ms;
            lay_out(&mut run[..=j], span.speech_lo, to);
        }
    }
    fill_zero_lengths(run, span);
}

/// Spreads `words` over `from..to` in proportion to their letters.
pub(crate) fn lay_out(words: &mut [Word], from: u64, to: u64) {
    let weights: Vec<u64> = words.iter().map(weight).collect();
    let total: u64 = weights.iter().sum::<u64>().max(1);
    let mut acc = 0;
    for (w, weight) in words.iter_mut().zip(weights) {
        w.start_ms = from + (to - from) * acc / total;
        acc += weight;
        w.end_ms = from + (to - from) * acc / total;
    }
}

/// How long a word takes to say, roughly: its letters and digits.
fn weight(w: &Word) -> u64 {
    (w.text.chars().filter(|c| c.is_alphanumeric()).count() as u64).max(1)
}

/// Gives every zero-length (or too short) word of `run` a length, taken
/// from the silence next to it when there is some, else shared with its
/// neighbours in proportion to their letters.
fn fill_zero_lengths(run: &mut [Word], span: Span) {
    let short = |w: &Word| w.end_ms.saturating_sub(w.start_ms) < SHORT_WORD_MS;
    let mut i = 0;
    while i < run.len() {
        if !short(&run[i]) {
            i += 1;
            continue;
        }
        // The group of short words from i, and a neighbour on each side
        // until the group has room for all of them.
        let mut j = i + 1;
        while j < run.len() && short(&run[j]) {
            j += 1;
        }
        let (mut a, mut b) = (i, j);
        let need = |a: usize, b: usize| MIN_WORD_MS * (b - a) as u64;
        // The group's own time, the neighbours taken in, and the silence
        // on either side, though no more of it than the group needs.
        let room = |run: &[Word], a: usize, b: usize| {
            let from = if a < i {
                run[a].start_ms
            } else {
                let before = if a == 0 { span.lo } else { run[a - 1].end_ms };
                before.max(run[i].start_ms.saturating_sub(need(a, b)))
            };
            let to = if b > j {
                run[b - 1].end_ms
            } else {
                let after = if b == run.len() {
                    span.hi
                } else {
                    run[b].start_ms
                };
                after.min(run[j - 1].end_ms + need(a, b))
            };
            (from, to.max(from))
        };
        loop {
            let (from, to) = room(run, a, b);
            if to - from >= need(a, b) || (a == 0 && b == run.len()) {
                lay_out(&mut run[a..b], from, to);
                break;
            }
            // Take in the longer neighbour.
            let left = (a > 0).then(|| run[a - 1].end_ms - run[a - 1].start_ms);
            let right = (b < run.len()).then(|| run[b].end_ms - run[b].start_ms);
            match (left, right) {
                (Some(l), Some(r)) if l >= r => a -= 1,
                (Some(_), None) => a -= 1,
                _ => b += 1,
            }
        }
        i = b;
    }
}

#[cfg(test)]
mod tests;
