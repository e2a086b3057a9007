//! Vietnamese analysis: one token per syllable, in two forms.
//!
//! - **exact**: NFC, lower case, tone mark canonical (`hoà` = `hòa`), so
//!   `má` and `mà` stay apart (and `á` is not the code `A1`);
//! - **folded**: every diacritic removed and `đ` → `d`, so "quoc hoi"
//!   finds "Quốc hội".
//!
//! Offsets point into the original text, so snippets highlight what was
//! written. Positions count syllables, so a quoted phrase matches
//! consecutive syllables: "công nghệ thông tin" is one Vietnamese word of
//! four syllables.

use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tocky_core::text::{canonical_syllable, fold, nfc};

/// The exact analyzer's name in the index.
pub const EXACT: &str = "vi_exact";
/// The folded analyzer's name in the index.
pub const FOLDED: &str = "vi_folded";

/// Which form tokens take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Diacritics kept, tone placement canonical.
    Exact,
    /// Diacritics removed.
    Folded,
}

/// Splits text into syllables and normalises each.
#[derive(Debug, Clone, Copy)]
pub struct VietnameseTokenizer {
    form: Form,
}

impl VietnameseTokenizer {
    /// A tokenizer producing `form` tokens.
    pub fn new(form: Form) -> Self {
        Self { form }
    }

    /// The same, as a tantivy analyzer.
    pub fn analyzer(form: Form) -> TextAnalyzer {
        TextAnalyzer::from(Self::new(form))
    }
}

/// Sits between an exact token's letters and its tone digit. It cannot
/// occur inside a syllable, so a toned syllable never reads as letters
/// followed by a digit: `á` is `a~1`, apart from the code `A1`.
const TONE_SEPARATOR: char = '~';

/// Normalises one syllable to its token text.
pub fn token_text(form: Form, syllable: &str) -> String {
    match form {
        Form::Exact => {
            let lower = syllable.to_lowercase();
            let mut token = canonical_syllable(&lower);
            // A tone mark was taken out and appended as a digit.
            if token != nfc(&lower)
                && let Some(tone) = token.pop()
            {
                token.push(TONE_SEPARATOR);
                token.push(tone);
            }
            token
        }
        Form::Folded => fold(syllable),
    }
}

/// Letters, digits and combining marks make up syllables; anything else separates them.
fn is_syllable_char(c: char) -> bool {
    c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c)
}

/// The syllables of `text` with their byte ranges.
pub fn syllables(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while rest.peek().is_some_and(|(_, c)| !is_syllable_char(*c)) {
            rest.next();
        }
        let (start, _) = *rest.peek()?;
        let mut end = start;
        while let Some((i, c)) = rest.peek().copied() {
            if !is_syllable_char(c) {
                break;
            }
            end = i + c.len_utf8();
            rest.next();
        }
        Some((start, end, &text[start..end]))
    })
}

/// The tokens of one text.
pub struct VietnameseTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl Tokenizer for VietnameseTokenizer {
    type TokenStream<'a> = VietnameseTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        let tokens = syllables(text)
            .enumerate()
            .map(|(position, (from, to, s))| Token {
                offset_from: from,
                offset_to: to,
                position,
                text: token_text(self.form, s),
                position_length: 1,
            })
            .collect();
        VietnameseTokenStream { tokens, index: 0 }
    }
}

impl TokenStream for VietnameseTokenStream {
    fn advance(&mut self) -> bool {
        self.index += 1;
        self.index <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self
            .index
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1))]
    }

    fn token_mut(&mut self) -> &mut Token {
        let i = self
            .index
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    fn tokens(form: Form, text: &str) -> Vec<String> {
        let mut t = VietnameseTokenizer::new(form);
        let mut stream = t.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn nfd_and_nfc_input_give_the_same_tokens() {
        let nfc = "Quốc hội";
        let nfd: String = nfc.nfd().collect();
        assert_eq!(tokens(Form::Exact, nfc), tokens(Form::Exact, &nfd));
        assert_eq!(tokens(Form::Folded, &nfd), vec!["quoc", "hoi"]);
    }

    #[test]
    fn both_tone_placements_are_one_token_and_tones_stay_apart() {
        assert_eq!(
            tokens(Form::Exact, "hoà thuỷ"),
            tokens(Form::Exact, "hòa thủy")
        );
        assert_ne!(tokens(Form::Exact, "má"), tokens(Form::Exact, "mà"));
        assert_eq!(tokens(Form::Folded, "má"), tokens(Form::Folded, "mà"));
    }

    #[test]
    fn a_toned_syllable_is_not_letters_and_a_digit() {
        assert_ne!(tokens(Form::Exact, "á bà"), tokens(Form::Exact, "A1 ba2"));
        assert_eq!(tokens(Form::Exact, "A1 ba2"), vec!["a1", "ba2"]);
        assert_eq!(tokens(Form::Exact, "Hoà"), vec!["hoa~2"]);
        assert_eq!(tokens(Form::Exact, "\u{301} 1"), vec!["~1", "1"]);
    }

    #[test]
    fn d_bar_case_and_punctuation() {
        assert_eq!(
            tokens(Form::Folded, "ĐẠI BIỂU, Đà Nẵng!"),
            vec!["dai", "bieu", "da", "nang"]
        );
        assert_eq!(
            tokens(Form::Exact, "ĐẠI biểu"),
            tokens(Form::Exact, "đại BIỂU")
        );
        assert_eq!(tokens(Form::Folded, "...  (điều 5)."), vec!["dieu", "5"]);
        assert!(tokens(Form::Folded, " ,.;!? ").is_empty());
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "Kính thưa, Quốc hội";
        let mut t = VietnameseTokenizer::new(Form::Folded);
        let mut stream = t.token_stream(text);
        let mut spans = Vec::new();
        while stream.advance() {
            let tok = stream.token();
            spans.push((&text[tok.offset_from..tok.offset_to], tok.position));
        }
        assert_eq!(
            spans,
            vec![("Kính", 0), ("thưa", 1), ("Quốc", 2), ("hội", 3)]
        );
    }
}
