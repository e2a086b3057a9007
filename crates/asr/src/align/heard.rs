//! Re-recognition: the segment's audio is transcribed again by the
//! pipeline (VAD, decoding, word placement), and the corrected text's
//! words take the times of the recognised words they match (a longest
//! common subsequence of Vietnamese-normalised forms); words between
//! matches are spread over the time between them by their letters.

use tocky_core::Word;

use super::AlignOptions;
use super::model::Timing;
use crate::engine::{DecodeOptions, Engine};
use crate::error::Result;
use crate::pipeline::TranscribeOptions;

/// Times `words` by what the pipeline hears in `audio` (ms from its start).
pub(super) fn time_words(
    engine: &Engine,
    options: &AlignOptions,
    audio: &[f32],
    words: &[String],
) -> Result<Timing> {
    let n = words.len();
    let audio_ms = audio.len() as u64 * 1000 / u64::from(tocky_audio::SAMPLE_RATE);
    let opts = TranscribeOptions {
        decode: DecodeOptions {
            language: options.language.clone(),
            threads: options.threads.max(1),
            // Encode only the segment's audio (≤ 30 s), as live recognition
            // does: a 10 s segment then costs a third of a full window.
            audio_ctx: Some(crate::streaming::audio_ctx(audio.len())),
            // Greedy: only the times of words the text already gives are
            // used, and a beam costs several times as much.
            beam_size: 1,
            ..DecodeOptions::default()
        },
        ..TranscribeOptions::recommended()
    };
    let heard: Vec<Word> = if audio.is_empty() {
        Vec::new()
    } else {
        engine
            .transcribe(audio, &opts)?
            .segments
            .into_iter()
            .flat_map(|s| s.words)
            .collect()
    };
    let pairs = super::matches(
        &words.iter().map(|w| super::key(w)).collect::<Vec<_>>(),
        &heard
            .iter()
            .map(|w| super::key(&w.text))
            .collect::<Vec<_>>(),
    );
    let mut starts = vec![None; n];
    let mut ends = vec![None; n];
    let mut probability = vec![f32::NAN; n];
    for (k, r) in pairs {
        starts[k] = Some(heard[r].start_ms.min(audio_ms));
        ends[k] = Some(heard[r].end_ms.min(audio_ms));
        probability[k] = heard[r].probability;
    }
    // A boundary is the next word's start, else the previous word's end.
    let mut known: Vec<Option<u64>> = (0..=n)
        .map(|k| {
            starts
                .get(k)
                .copied()
                .flatten()
                .or_else(|| (k > 0).then(|| ends[k - 1]).flatten())
        })
        .collect();
    known[0] = known[0].or(Some(0));
    known[n] = known[n].or(Some(audio_ms));
    // Boundaries not heard: by letters between the nearest heard ones.
    let letters: Vec<u64> = words
        .iter()
        .map(|w| (w.chars().filter(|c| c.is_alphanumeric()).count() as u64).max(1))
        .collect();
    let mut bounds = known.clone();
    let mut a = 0;
    while a < n {
        let Some(b) = (a + 1..=n).find(|&b| known[b].is_some()) else {
            break;
        };
        if let (Some(from), Some(to)) = (known[a], known[b]) {
            let to = to.max(from);
            let total: u64 = letters[a..b].iter().sum();
            let mut acc = 0;
            for k in a + 1..b {
                acc += letters[k - 1];
                bounds[k] = Some(from + (to - from) * acc / total.max(1));
            }
        }
        a = b;
    }
    // Never backwards.
    let mut floor = 0;
    for b in bounds.iter_mut().flatten() {
        *b = (*b).max(floor);
        floor = *b;
    }
    Ok(Timing {
        bounds,
        probability,
    })
}
