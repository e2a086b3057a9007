//! Grouping whisper's byte-level tokens into words.
//!
//! A Vietnamese letter such as `ế` is often split over two tokens, so text is
//! gathered as bytes and decoded only at word boundaries. A token that starts
//! with a space starts a new word; punctuation stays attached to its word.

use std::ops::Range;

use tocky_core::Word;
use tocky_core::text::nfc;

/// One text token with its time span (ms) and probability.
#[derive(Debug, Clone)]
pub(crate) struct TimedToken {
    pub(crate) bytes: Vec<u8>,
    pub(crate) start_ms: u64,
    pub(crate) end_ms: u64,
    pub(crate) probability: f32,
}

/// Groups tokens into words.
pub(crate) fn group_words(tokens: &[TimedToken]) -> Vec<Word> {
    group_word_tokens(tokens)
        .into_iter()
        .map(|(w, _)| w)
        .collect()
}

/// Groups tokens into words, each with the range of `tokens` it came from.
pub(crate) fn group_word_tokens(tokens: &[TimedToken]) -> Vec<(Word, Range<usize>)> {
    struct Pending {
        bytes: Vec<u8>,
        start_ms: u64,
        end_ms: u64,
        p_sum: f32,
        n: u32,
        first: usize,
    }
    let mut words = Vec::new();
    let mut current: Option<Pending> = None;
    let flush = |p: Pending, end: usize, words: &mut Vec<(Word, Range<usize>)>| {
        let text = nfc(String::from_utf8_lossy(&p.bytes).trim());
        if !text.is_empty() {
            let word = Word {
                text,
                start_ms: p.start_ms,
                end_ms: p.end_ms.max(p.start_ms),
                probability: p.p_sum / p.n.max(1) as f32,
            };
            words.push((word, p.first..end));
        }
    };
    for (i, t) in tokens.iter().enumerate() {
        let starts_word = t.bytes.first() == Some(&b' ');
        match current.as_mut() {
            Some(p) if !starts_word => {
                p.bytes.extend_from_slice(&t.bytes);
                p.end_ms = t.end_ms;
                p.p_sum += t.probability;
                p.n += 1;
            }
            _ => {
                if let Some(p) = current.take() {
                    flush(p, i, &mut words);
                }
                current = Some(Pending {
                    bytes: t.bytes.clone(),
                    start_ms: t.start_ms,
                    end_ms: t.end_ms,
                    p_sum: t.probability,
                    n: 1,
                    first: i,
                });
            }
        }
    }
    if let Some(p) = current {
        flush(p, tokens.len(), &mut words);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &[u8], start_ms: u64, end_ms: u64, probability: f32) -> TimedToken {
        TimedToken {
            bytes: s.to_vec(),
            start_ms,
            end_ms,
            probability,
        }
    }

    #[test]
    fn joins_split_utf8_and_subwords() {
        let ee = "ế".as_bytes(); // 3 bytes, split over two tokens
        let tokens = vec![
            tok(b" Qu", 0, 100, 0.9),
            tok("ốc".as_bytes(), 100, 300, 0.7),
            tok(b" ti", 300, 400, 1.0),
            tok(&ee[..2], 400, 450, 0.5),
            tok(&[ee[2], b'n', b'g', b','], 450, 600, 0.6),
        ];
        let words = group_words(&tokens);
        assert_eq!(words.len(), 2);
        assert_eq!(words[0].text, "Quốc");
        assert_eq!((words[0].start_ms, words[0].end_ms), (0, 300));
        assert!((words[0].probability - 0.8).abs() < 1e-6);
        assert_eq!(words[1].text, "tiếng,");
        assert_eq!((words[1].start_ms, words[1].end_ms), (300, 600));
    }
}
