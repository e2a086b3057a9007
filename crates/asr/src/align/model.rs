//! Teacher-forced decoding: the corrected text is fed to Whisper's decoder
//! token by token over the segment's audio, and at each word boundary the
//! most likely timestamp token says where in the audio the decoder is.
//!
//! This is what whisper.cpp's own token timestamps read (the timestamp
//! token's probability after each token), with the text forced instead of
//! sampled: one encoder pass and one decoder step per token.

use tocky_core::text::nfc;
use whisper_rs::WhisperTokenId;

use super::AlignOptions;
use crate::engine::Engine;
use crate::error::{Error, Result};

/// Whisper's timestamp tokens are 20 ms apart.
const TIMESTAMP_MS: u64 = 20;

/// The decoder's context is 448 tokens; the prompt and a margin come off.
const MAX_TEXT_TOKENS: usize = 440;

/// Where the decoder placed the words of a text, relative to the segment.
#[derive(Debug, Clone)]
pub(super) struct Timing {
    /// `bounds[k]` is where word `k` starts and word `k - 1` ends (ms from
    /// the segment's start), non-decreasing; `None` past the tokens that
    /// fit in the decoder's context.
    pub(super) bounds: Vec<Option<u64>>,
    /// Each word's probability under the model: the mean of its tokens'.
    pub(super) probability: Vec<f32>,
}

/// Decodes `words` over `audio` (16 kHz, at most 30 s) as forced text.
pub(super) fn time_words(
    engine: &Engine,
    options: &AlignOptions,
    audio: &[f32],
    words: &[String],
) -> Result<Timing> {
    let ctx = engine.context();
    let decode_err = |e: whisper_rs::WhisperError| Error::Decode(e.to_string());
    let threads = options.threads.max(1);
    let lang = whisper_rs::get_lang_id(&options.language).ok_or_else(|| {
        Error::InvalidOption(format!("unknown language code {:?}", options.language))
    })?;
    let mut state = ctx.create_state().map_err(decode_err)?;
    // whisper.cpp pads the audio with 30 s of silence before the mel
    // spectrogram, as whisper_full does.
    state.pcm_to_mel(audio, threads).map_err(decode_err)?;
    state.encode(0, threads).map_err(decode_err)?;

    let beg = ctx.token_beg();
    let n_vocab = usize::try_from(ctx.n_vocab()).unwrap_or(0);
    let audio_ms = audio.len() as u64 * 1000 / u64::from(tocky_audio::SAMPLE_RATE);
    let last_stamp = usize::try_from(audio_ms / TIMESTAMP_MS).unwrap_or(0);
    let prompt = [
        ctx.token_sot(),
        ctx.token_lang(lang),
        ctx.token_transcribe(),
        beg,
    ];

    let mut n_past = 0;
    for &t in &prompt {
        state.decode(&[t], n_past, threads).map_err(decode_err)?;
        n_past += 1;
    }
    let mut bounds = vec![None; words.len() + 1];
    let mut probability = vec![f32::NAN; words.len()];
    let mut budget = MAX_TEXT_TOKENS;
    let mut floor = 0;
    for (k, word) in words.iter().enumerate() {
        let logits = state.get_logits().map_err(decode_err)?;
        let stamp = best_timestamp(logits, beg, floor, last_stamp, n_vocab);
        floor = stamp;
        bounds[k] = Some(stamp as u64 * TIMESTAMP_MS);
        // A word whisper cannot tokenize (a NUL byte) is not timed.
        let tokens = ctx
            .tokenize(&nfc(&format!(" {word}")), 64)
            .unwrap_or_default();
        if tokens.is_empty() || tokens.len() > budget {
            return Ok(Timing {
                bounds,
                probability,
            });
        }
        budget -= tokens.len();
        let mut p_sum = 0.0;
        for &t in &tokens {
            let logits = state.get_logits().map_err(decode_err)?;
            p_sum += softmax_at(logits, t, beg);
            state.decode(&[t], n_past, threads).map_err(decode_err)?;
            n_past += 1;
        }
        probability[k] = p_sum / tokens.len() as f32;
    }
    let logits = state.get_logits().map_err(decode_err)?;
    let stamp = best_timestamp(logits, beg, floor, last_stamp, n_vocab);
    bounds[words.len()] = Some(stamp as u64 * TIMESTAMP_MS);
    Ok(Timing {
        bounds,
        probability,
    })
}

/// The most likely timestamp (in 20 ms steps) at or after `floor` and at
/// most `last`: whisper's timestamps never go back.
fn best_timestamp(
    logits: &[f32],
    beg: WhisperTokenId,
    floor: usize,
    last: usize,
    n_vocab: usize,
) -> usize {
    let beg = usize::try_from(beg).unwrap_or(usize::MAX);
    let floor = floor.min(last);
    let stamps = logits.get(beg..n_vocab.min(logits.len())).unwrap_or(&[]);
    stamps
        .iter()
        .enumerate()
        .take(last + 1)
        .skip(floor)
        .fold(None, |best: Option<(usize, f32)>, (k, &l)| match best {
            Some((_, b)) if b >= l => best,
            _ => Some((k, l)),
        })
        .map_or(floor, |(k, _)| k)
}

/// The probability of `token` among the text tokens (those before the
/// special ones, which start at end-of-text, just before `beg`).
fn softmax_at(logits: &[f32], token: WhisperTokenId, beg: WhisperTokenId) -> f32 {
    let end = usize::try_from(beg).unwrap_or(0).min(logits.len());
    let text = &logits[..end];
    let Some(&own) = usize::try_from(token).ok().and_then(|t| text.get(t)) else {
        return f32::NAN;
    };
    let max = text.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let total: f32 = text.iter().map(|l| (l - max).exp()).sum();
    (own - max).exp() / total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_never_go_back_and_stay_in_the_audio() {
        let beg = 10;
        let mut logits = vec![0.0f32; 20];
        logits[beg as usize + 2] = 5.0;
        logits[beg as usize + 7] = 3.0;
        assert_eq!(best_timestamp(&logits, beg, 0, 9, 20), 2);
        assert_eq!(best_timestamp(&logits, beg, 3, 9, 20), 7);
        assert_eq!(best_timestamp(&logits, beg, 3, 5, 20), 3);
    }
}
