//! Vietnamese text normalisation.
//!
//! Vietnamese writes a syllable's tone as a combining mark, and two
//! conventions place it differently (old `hoà`, `thuỷ`; new `hòa`, `thủy`).
//! Both are correct, so comparison must not care. [`canonical_syllable`]
//! moves the tone mark to the end of the syllable's decomposition, which
//! makes both spellings one string; the same rule as `wer.py` in the shared
//! evaluation set, so that tocky's scores agree with it.

use unicode_normalization::UnicodeNormalization;

/// Unicode combining marks that carry the five Vietnamese tones.
const TONE_MARKS: [char; 5] = ['\u{0300}', '\u{0301}', '\u{0303}', '\u{0309}', '\u{0323}'];

/// The tone marks' digits: huyền 2, sắc 1, hỏi 3, ngã 4, nặng 5.
fn tone_digit(c: char) -> Option<char> {
    Some(match c {
        '\u{0300}' => '2',
        '\u{0301}' => '1',
        '\u{0309}' => '3',
        '\u{0303}' => '4',
        '\u{0323}' => '5',
        _ => return None,
    })
}

/// Text in Unicode NFC, the form tocky stores.
pub fn nfc(text: &str) -> String {
    text.nfc().collect()
}

/// One syllable with its tone mark taken out and appended as a digit
/// (`hoà` and `hòa` both become `hoa2`), so tone-mark placement does not matter.
pub fn canonical_syllable(syllable: &str) -> String {
    let mut base = String::with_capacity(syllable.len());
    let mut tone = None;
    for c in syllable.nfd() {
        if TONE_MARKS.contains(&c) {
            tone = tone.or(tone_digit(c));
        } else {
            base.push(c);
        }
    }
    let mut out: String = base.nfc().collect();
    out.extend(tone);
    out
}

/// Text with every diacritic removed and `đ` folded to `d`, lower case:
/// what a person types without a Vietnamese keyboard ("quoc hoi").
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining(*c))
        .map(|c| match c {
            // Ð (eth) is what some keyboards give for Đ.
            'đ' | 'Đ' | 'ð' | 'Ð' => 'd',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Syllables of `text` folded and stripped of punctuation, for matching
/// phrases whatever their spelling.
pub fn folded_words(text: &str) -> Vec<String> {
    words_of(&fold(text)).map(str::to_owned).collect()
}

/// The whitespace-separated words of `text` once every character that is
/// not part of a word (punctuation, symbols) is read as a space.
fn words_of(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
}

/// Whether `c` counts as part of a word, as Python's `\w` does for letters,
/// digits, combining marks and the underscore.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || is_combining(c)
}

fn is_combining(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

/// The syllables of `text` for scoring: NFC, lower case, punctuation
/// removed, tone marks canonical.
pub fn scoring_words(text: &str) -> Vec<String> {
    words_of(&nfc(text).to_lowercase())
        .map(canonical_syllable)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_placement_styles_compare_equal() {
        assert_eq!(canonical_syllable("hoà"), canonical_syllable("hòa"));
        assert_eq!(canonical_syllable("thuỷ"), canonical_syllable("thủy"));
        assert_ne!(canonical_syllable("má"), canonical_syllable("mà"));
        assert_eq!(canonical_syllable("quốc"), "quôc1");
    }

    #[test]
    fn folding_removes_diacritics_and_d_bar() {
        assert_eq!(fold("Quốc hội"), "quoc hoi");
        assert_eq!(fold("ĐẠI BIỂU"), "dai bieu");
        assert_eq!(fold("Ðại biểu"), "dai bieu", "eth typed for Đ");
        assert_eq!(fold("hoà"), fold("hòa"));
        assert_eq!(
            folded_words("Kính thưa, Quốc hội!"),
            vec!["kinh", "thua", "quoc", "hoi"]
        );
    }

    #[test]
    fn nfd_input_matches_nfc_input() {
        let nfd: String = "Quốc hội".nfd().collect();
        assert_ne!(nfd, "Quốc hội");
        assert_eq!(scoring_words(&nfd), scoring_words("Quốc hội"));
    }

    #[test]
    fn scoring_words_drop_punctuation_and_case() {
        assert_eq!(
            scoring_words("Xin chào, Quốc hội!"),
            scoring_words("xin chào quốc hội")
        );
        assert_eq!(
            scoring_words("Đại biểu: 19 người."),
            vec!["đai5", "biêu3", "19", "ngươi2"]
        );
    }
}
