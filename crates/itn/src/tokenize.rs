//! Words of a line, with their byte ranges and matching keys.
//!
//! A word is a run of letters, digits and combining marks; a `.`, `,`, `/`
//! or `-` between two such characters stays inside it, so text that is
//! already written ("2.000", "96,2", "27/2022/QH15", "NĐ-CP") is one word
//! and is left alone. Rules only join words separated by white space: a
//! comma or a full stop between two number words ends the number.

use std::ops::Range;

use tocky_core::text::canonical_syllable;

/// One word of the input line.
#[derive(Debug, Clone)]
pub(crate) struct Word {
    /// Where the word lies in the input, in bytes.
    pub(crate) range: Range<usize>,
    /// The word lower-cased with its tone mark moved to the end
    /// (`canonical_syllable`), so `hoà` and `hòa` match one key.
    pub(crate) key: String,
    /// The word lower-cased, as written (for scale words kept as words).
    pub(crate) lower: String,
    /// Whether the word is written like a name: a capital, then lower case
    /// (`Tư`, not `TƯ` nor `tư`).
    pub(crate) capital: bool,
    /// Whether only white space separates this word from the one before
    /// (false for the first word of the line).
    pub(crate) joined: bool,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_mark(c)
}

/// Combining marks (text is NFC, but input may not be): the Unicode blocks
/// that Vietnamese text can carry.
fn is_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}')
}

/// Characters that stay inside a word when letters or digits surround them.
fn is_inner_joiner(c: char) -> bool {
    matches!(c, '.' | ',' | '/' | '-')
}

/// The words of `line`, in order.
pub(crate) fn words(line: &str) -> Vec<Word> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut out: Vec<Word> = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        let (start, c) = chars[k];
        if !is_word_char(c) {
            k += 1;
            continue;
        }
        let mut e = k + 1;
        while e < chars.len() {
            let c = chars[e].1;
            if is_word_char(c) {
                e += 1;
            } else if is_inner_joiner(c) && chars.get(e + 1).is_some_and(|&(_, n)| is_word_char(n))
            {
                e += 2;
            } else {
                break;
            }
        }
        let end = chars.get(e).map_or(line.len(), |&(i, _)| i);
        let joined = match out.last() {
            Some(prev) => line[prev.range.end..start].chars().all(char::is_whitespace),
            None => false,
        };
        let lower = line[start..end].to_lowercase();
        let capital = c.is_uppercase() && line[start..end].chars().skip(1).any(char::is_lowercase);
        out.push(Word {
            range: start..end,
            key: canonical_syllable(&lower),
            lower,
            capital,
            joined,
        });
        k = e;
    }
    out
}

/// The runs of words joined by white space only, as index ranges into `words`.
pub(crate) fn phrases(words: &[Word]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, w) in words.iter().enumerate() {
        if i > 0 && !w.joined {
            out.push(start..i);
            start = i;
        }
    }
    if start < words.len() {
        out.push(start..words.len());
    }
    out
}

/// The key of a written word, for comparing with [`Word::key`].
pub(crate) fn key(word: &str) -> String {
    canonical_syllable(&word.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_numbers_stay_one_word_and_punctuation_splits_phrases() {
        let line = "Nghị quyết số 27/2022/QH15, chiếm 96,2% (hai).";
        let ws = words(line);
        let texts: Vec<&str> = ws.iter().map(|w| &line[w.range.clone()]).collect();
        assert_eq!(
            texts,
            [
                "Nghị",
                "quyết",
                "số",
                "27/2022/QH15",
                "chiếm",
                "96,2",
                "hai"
            ]
        );
        assert_eq!(phrases(&ws), vec![0..4, 4..6, 6..7]);
        assert_eq!(ws[0].key, key("nghị"));
        assert_eq!(key("hoà"), key("HÒA"));
    }

    #[test]
    fn odd_input_gives_no_words_or_sane_ones() {
        assert!(words("").is_empty());
        assert!(words(" ,.;!? ").is_empty());
        assert_eq!(words("a-").len(), 1);
        assert_eq!(words("-a").len(), 1);
    }
}
