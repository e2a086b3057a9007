//! Timing a run of new words inside its gap: audible frames, the model's
//! boundaries, pauses, and letters.

use tocky_core::Word;

use super::MIN_ROOM_MS;
use crate::place::{FRAME_MS, Loudness, lay_out};

/// How far (ms) a boundary may move to reach a pause.
const SNAP_MS: u64 = 150;

/// Which 10 ms frames of the segment are audible.
pub(super) struct Frames {
    voiced: Vec<bool>,
}

impl Frames {
    /// Audible: above the segment's quiet level by a twentieth of the way
    /// to its loud level. Audio without such contrast (silence, steady
    /// noise) counts as audible throughout: nothing to tell by.
    pub(super) fn of(audio: &[f32]) -> Self {
        let frames = Loudness::of(audio).frames;
        let mut sorted = frames.clone();
        sorted.sort_by(f32::total_cmp);
        let level = |q: usize| sorted.get(sorted.len() * q / 100).copied().unwrap_or(0.0);
        let (quiet, loud) = (level(10), level(95));
        let voiced = if loud <= quiet * 2.0 + 1e-4 {
            vec![true; frames.len()]
        } else {
            let threshold = quiet + 0.05 * (loud - quiet);
            frames.iter().map(|&f| f > threshold).collect()
        };
        Self { voiced }
    }

    /// Whether the frame at `ms` from the segment's start is audible
    /// (past the end of the audio: not).
    fn at(&self, ms: u64) -> bool {
        self.voiced
            .get((ms / FRAME_MS) as usize)
            .copied()
            .unwrap_or(false)
    }
}

/// Times a run of new words inside `lo..hi` (recording ms). `bounds`, when
/// the model timed the run, holds its words' starts and the last one's end.
pub(super) fn time_run(
    run: &mut [Word],
    lo: u64,
    hi: u64,
    bounds: Option<&[u64]>,
    frames: &Frames,
    origin: u64,
) {
    let n = run.len() as u64;
    let audible = |ms: u64| frames.at(ms.saturating_sub(origin));
    // The gap less its silent ends, if the words still fit: frames wholly
    // inside the gap (the one a kept word ends in holds its tail), two
    // audible in a row.
    let (k0, k1) = ((lo - origin).div_ceil(FRAME_MS), (hi - origin) / FRAME_MS);
    let voiced = |k: u64| frames.at(k * FRAME_MS);
    let first = (k0..k1).find(|&k| voiced(k) && (k + 1 == k1 || voiced(k + 1)));
    let last = (k0..k1)
        .rev()
        .find(|&k| voiced(k) && (k == k0 || voiced(k - 1)));
    let (from, to) = match (first, last) {
        (Some(a), Some(b)) => (origin + a * FRAME_MS, (origin + (b + 1) * FRAME_MS).min(hi)),
        _ => (lo, hi),
    };
    let (from, to) = if to >= from + MIN_ROOM_MS * n {
        (from, to)
    } else {
        (lo, hi)
    };
    match bounds {
        Some(b) if b.len() == run.len() + 1 => {
            let mut cuts: Vec<u64> = b.iter().map(|&t| t.clamp(from, to)).collect();
            cuts[0] = from;
            cuts[run.len()] = to;
            // Each word at least `least` long: words the model squeezed
            // take room from their neighbours, not the whole run's times.
            let least = MIN_ROOM_MS.min((to - from) / n);
            for k in 1..cuts.len() {
                cuts[k] = cuts[k].max(cuts[k - 1] + least);
            }
            cuts[run.len()] = to;
            for k in (0..run.len()).rev() {
                cuts[k] = cuts[k].min(cuts[k + 1].saturating_sub(least));
            }
            cuts[0] = cuts[0].max(from);
            for (k, w) in run.iter_mut().enumerate() {
                w.start_ms = cuts[k];
                w.end_ms = cuts[k + 1];
            }
        }
        _ => lay_out(run, from, to),
    }
    snap_to_pauses(run, &audible);
    ensure_lengths(run, lo, hi);
}

/// Moves each boundary between two words of the run into the nearest
/// pause within [`SNAP_MS`] of it: the first word ends where the pause
/// starts, the next starts where it ends.
fn snap_to_pauses(run: &mut [Word], audible: &dyn Fn(u64) -> bool) {
    for k in 1..run.len() {
        let b = run[k].start_ms;
        let min = run[k - 1].start_ms + MIN_ROOM_MS;
        let max = run[k].end_ms.saturating_sub(MIN_ROOM_MS);
        let (a, z) = (b.saturating_sub(SNAP_MS).max(min), (b + SNAP_MS).min(max));
        if a >= z {
            continue;
        }
        // Silent frames in a..z, as maximal stretches.
        let mut best: Option<(u64, u64, u64)> = None;
        let mut ms = a - a % FRAME_MS;
        while ms < z {
            if audible(ms) {
                ms += FRAME_MS;
                continue;
            }
            let start = ms.max(a);
            while ms < z && !audible(ms) {
                ms += FRAME_MS;
            }
            let end = ms.min(z);
            let distance = if b < start {
                start - b
            } else {
                b.saturating_sub(end)
            };
            if end > start && best.is_none_or(|(d, _, _)| distance < d) {
                best = Some((distance, start, end));
            }
        }
        if let Some((_, start, end)) = best {
            run[k - 1].end_ms = start;
            run[k].start_ms = end;
        }
    }
}

/// Puts the run's words in order inside `lo..hi`, each at least 1 ms long
/// (there is room: the run has at least 1 ms a word).
fn ensure_lengths(run: &mut [Word], lo: u64, hi: u64) {
    let mut floor = lo;
    for w in run.iter_mut() {
        w.start_ms = w.start_ms.max(floor);
        w.end_ms = w.end_ms.max(w.start_ms + 1);
        floor = w.end_ms;
    }
    let mut ceiling = hi;
    for w in run.iter_mut().rev() {
        w.end_ms = w.end_ms.min(ceiling);
        w.start_ms = w.start_ms.min(w.end_ms.saturating_sub(1));
        ceiling = w.start_ms;
    }
}
