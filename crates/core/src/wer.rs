//! Word and character error rates, with the normalisation of [`crate::text`].

use crate::text::scoring_words;

/// Edit counts for one reference/hypothesis pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    /// Word (syllable) edits.
    pub word_edits: usize,
    /// Reference words.
    pub ref_words: usize,
    /// Character edits, over the words joined without spaces.
    pub char_edits: usize,
    /// Reference characters.
    pub ref_chars: usize,
}

impl ErrorCounts {
    /// Word error rate.
    pub fn wer(&self) -> f64 {
        self.word_edits as f64 / self.ref_words.max(1) as f64
    }

    /// Character error rate.
    pub fn cer(&self) -> f64 {
        self.char_edits as f64 / self.ref_chars.max(1) as f64
    }
}

impl std::ops::AddAssign for ErrorCounts {
    fn add_assign(&mut self, o: Self) {
        self.word_edits += o.word_edits;
        self.ref_words += o.ref_words;
        self.char_edits += o.char_edits;
        self.ref_chars += o.ref_chars;
    }
}

/// Levenshtein distance between two sequences.
pub fn edit_distance<T: PartialEq>(reference: &[T], hypothesis: &[T]) -> usize {
    let mut row: Vec<usize> = (0..=hypothesis.len()).collect();
    for (i, r) in reference.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, h) in hypothesis.iter().enumerate() {
            let substitution = diagonal + usize::from(r != h);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j + 1] + 1).min(row[j] + 1);
        }
    }
    row[hypothesis.len()]
}

/// Scores a hypothesis against a reference.
pub fn score(reference: &str, hypothesis: &str) -> ErrorCounts {
    let (r, h) = (scoring_words(reference), scoring_words(hypothesis));
    let rc: Vec<char> = r.concat().chars().collect();
    let hc: Vec<char> = h.concat().chars().collect();
    ErrorCounts {
        word_edits: edit_distance(&r, &h),
        ref_words: r.len(),
        char_edits: edit_distance(&rc, &hc),
        ref_chars: rc.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_substitutions_insertions_deletions() {
        assert_eq!(edit_distance(&["a", "b", "c"], &["a", "x", "c", "d"]), 2);
        assert_eq!(edit_distance::<&str>(&[], &["a"]), 1);
        assert_eq!(edit_distance(&["a"], &[]), 1);
    }

    #[test]
    fn tone_placement_is_not_an_error() {
        let s = score("hoà bình và thuỷ lợi", "Hòa bình, và thủy lợi.");
        assert_eq!(s.word_edits, 0);
        assert_eq!(s.char_edits, 0);
        assert_eq!(s.ref_words, 5);
    }

    #[test]
    fn missing_diacritics_are_errors() {
        let s = score("quốc hội", "quoc hoi");
        assert_eq!(s.word_edits, 2);
        assert!((s.wer() - 1.0).abs() < 1e-12);
    }
}
