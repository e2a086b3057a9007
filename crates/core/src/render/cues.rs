//! Subtitle cues cut from a segment: at most [`CueLimits::max_chars`]
//! characters and [`CueLimits::max_ms`] long each, split between words.
//!
//! Where a segment's words are aligned to its text (one word per
//! whitespace-separated token of the text, timed within the segment), a
//! cue starts when its first word is said; otherwise the split times are
//! estimated from the segment's bounds in proportion to the letters before
//! the split, so that no time of a word no longer in the text is used. The
//! first cue starts at the segment's start and the last ends at its end
//! either way, so a segment that fits one cue keeps its bounds.

use crate::transcript::Word;

/// How long a cue may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CueLimits {
    /// The most characters in a cue's text (two lines of 42 by default).
    pub max_chars: usize,
    /// The longest a cue may stay up, in ms, where splitting allows.
    pub max_ms: u64,
}

impl Default for CueLimits {
    fn default() -> Self {
        Self {
            max_chars: 84,
            max_ms: 7_000,
        }
    }
}

/// One subtitle cue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    /// When it appears (ms).
    pub start_ms: u64,
    /// When it goes (ms).
    pub end_ms: u64,
    /// Its text, words joined by single spaces (not yet made safe for a
    /// format: the renderers do that).
    pub text: String,
}

/// The cues of a segment from `start_ms` to `end_ms` saying `text`.
/// `words` are its words when they are aligned to `text`, `None` when they
/// are not (or not known): then the times come from the bounds alone.
/// Aligned words whose count differs from the text's tokens are treated as
/// not aligned. An empty text makes no cue.
pub fn segment_cues(
    start_ms: u64,
    end_ms: u64,
    text: &str,
    words: Option<&[Word]>,
    limits: CueLimits,
) -> Vec<Cue> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    if tokens.is_empty() {
        return Vec::new();
    }
    let end_ms = end_ms.max(start_ms);
    let words = words.filter(|w| w.len() == tokens.len());
    // Each token's start: its word's, or its letters' share of the bounds;
    // never before the one before it, so that cues stay in order.
    let letters: Vec<u64> = tokens.iter().map(|t| t.chars().count() as u64).collect();
    let total: u64 = letters.iter().sum::<u64>().max(1);
    let (mut before, mut latest) = (0, start_ms);
    let starts: Vec<u64> = tokens
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let proportional = start_ms + (end_ms - start_ms) * before / total;
            before += letters[i];
            let at = match words {
                Some(w) => w[i].start_ms,
                None => proportional,
            };
            latest = at.clamp(latest, end_ms);
            latest
        })
        .collect();

    // Greedy: a cue takes tokens while it stays within both limits.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut first = 0;
    let mut chars = 0;
    for (i, token) in tokens.iter().enumerate() {
        let len = token.chars().count();
        let grown = if i == first { len } else { chars + 1 + len };
        let cue_start = if first == 0 { start_ms } else { starts[first] };
        let too_long = starts[i].saturating_sub(cue_start) >= limits.max_ms;
        if i > first && (grown > limits.max_chars || too_long) {
            groups.push((first, i));
            first = i;
            chars = len;
        } else {
            chars = grown;
        }
    }
    groups.push((first, tokens.len()));

    let mut cues = Vec::with_capacity(groups.len());
    for (n, &(from, to)) in groups.iter().enumerate() {
        let cue_start = if n == 0 { start_ms } else { starts[from] };
        let cue_end = match groups.get(n + 1) {
            Some(&(next, _)) => starts[next],
            None => end_ms,
        };
        cues.push(Cue {
            start_ms: cue_start,
            end_ms: cue_end.max(cue_start),
            text: tokens[from..to].join(" "),
        });
    }
    cues
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, start_ms: u64) -> Word {
        Word {
            text: text.into(),
            start_ms,
            end_ms: start_ms + 300,
            probability: 0.9,
        }
    }

    const SHORT: CueLimits = CueLimits {
        max_chars: 12,
        max_ms: 60_000,
    };

    #[test]
    fn a_segment_that_fits_keeps_its_bounds() {
        let words = [word("Kính", 1_200), word("thưa", 1_500)];
        let cues = segment_cues(
            1_000,
            4_000,
            "Kính thưa",
            Some(&words),
            CueLimits::default(),
        );
        assert_eq!(
            cues,
            vec![Cue {
                start_ms: 1_000,
                end_ms: 4_000,
                text: "Kính thưa".into()
            }]
        );
        assert!(segment_cues(0, 1_000, "  ", None, CueLimits::default()).is_empty());
    }

    #[test]
    fn aligned_words_time_the_splits() {
        let text = "Kính thưa Quốc hội khoá mười lăm";
        let words: Vec<Word> = text
            .split_whitespace()
            .zip([0, 400, 2_000, 2_300, 5_000, 5_300, 5_600])
            .map(|(t, ms)| word(t, ms))
            .collect();
        let cues = segment_cues(0, 6_000, text, Some(&words), SHORT);
        let got: Vec<(u64, u64, &str)> = cues
            .iter()
            .map(|c| (c.start_ms, c.end_ms, c.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 2_000, "Kính thưa"),
                (2_000, 5_000, "Quốc hội"),
                (5_000, 5_600, "khoá mười"),
                (5_600, 6_000, "lăm"),
            ]
        );
    }

    #[test]
    fn unaligned_words_are_not_used_the_bounds_are() {
        // Words of an older text: their times must not time the cues.
        let stale = [word("Một", 100), word("hai", 150)];
        let text = "aaaa bbbb cccc dddd";
        for words in [None, Some(&stale[..])] {
            let cues = segment_cues(0, 1_600, text, words, SHORT);
            let got: Vec<(u64, u64)> = cues.iter().map(|c| (c.start_ms, c.end_ms)).collect();
            // Letters before each split: 8 of 16.
            assert_eq!(got, vec![(0, 800), (800, 1_600)]);
        }
    }

    #[test]
    fn cues_stay_in_order_and_within_the_segment() {
        let text = "một hai ba bốn";
        let words = [
            word("một", 500),
            word("hai", 9_000),
            word("ba", 200),
            word("bốn", 3_000),
        ];
        let limits = CueLimits {
            max_chars: 4,
            max_ms: 60_000,
        };
        let cues = segment_cues(1_000, 5_000, text, Some(&words), limits);
        assert_eq!(cues.len(), 4);
        for pair in cues.windows(2) {
            assert!(pair[0].start_ms <= pair[0].end_ms);
            assert_eq!(pair[0].end_ms, pair[1].start_ms);
        }
        assert!(cues.iter().all(|c| (1_000..=5_000).contains(&c.start_ms)));
        assert_eq!(cues[3].end_ms, 5_000);
    }

    #[test]
    fn long_cues_are_split_by_time() {
        let text = "một hai ba";
        let words = [word("một", 0), word("hai", 8_000), word("ba", 9_000)];
        let cues = segment_cues(0, 10_000, text, Some(&words), CueLimits::default());
        assert_eq!(cues.len(), 2);
        assert_eq!((cues[0].end_ms, cues[1].start_ms), (8_000, 8_000));
        assert_eq!(cues[1].text, "hai ba");
    }
}
