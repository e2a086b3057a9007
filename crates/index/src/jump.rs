//! Where in the audio a hit's match is said: the start of the first word
//! of the match, so that a journalist lands on it rather than at the start
//! of its segment.
//!
//! The index holds text only; word times live with the segment in the
//! store. An edit changes the text at once, and the segment's words are
//! re-timed to it in the background (`words_aligned` in the store):
//!
//! - once they are aligned, the jump lands on the corrected word's own
//!   time ([`jump_ms`] with `words_aligned`, or [`match_start_ms`]);
//! - until then, no word time is trusted, since a word's time may be that
//!   of a word edited away: the match is found in the current text and its
//!   time estimated from the segment's bounds, in proportion to the
//!   letters before it (as a split does when it has no words to go by).

use tocky_core::Word;
use tocky_core::text::fold;

use crate::analyzer::syllables;

/// What the jump needs of a hit's segment, as the store holds it.
#[derive(Debug, Clone, Copy)]
pub struct HitSegment<'a> {
    /// Its current text.
    pub text: &'a str,
    /// Its words, as transcribed or as last re-timed.
    pub words: &'a [Word],
    /// Whether `words` are the words of `text` (re-timed since the last
    /// edit).
    pub words_aligned: bool,
    /// Its start (ms).
    pub start_ms: u64,
    /// Its end (ms).
    pub end_ms: u64,
}

/// Where to jump to for `query` in `segment`, within its bounds: the
/// matching word's start when its words are aligned to its text; else an
/// estimate from the bounds by the letters before the match; the segment's
/// start when nothing matches. Which word is "the match" follows
/// [`match_start_ms`]'s order.
pub fn jump_ms(query: &str, segment: HitSegment<'_>) -> u64 {
    let (start, end) = (segment.start_ms, segment.end_ms.max(segment.start_ms));
    let found = if segment.words_aligned {
        match_start_ms(query, segment.text, segment.words)
    } else {
        let letters = |s: &str| s.chars().filter(|c| !c.is_whitespace()).count() as u64;
        let total = letters(segment.text).max(1);
        let said: Vec<(String, u64)> = syllables(segment.text)
            .map(|(from, _, s)| {
                let before = segment.text.get(..from).map_or(0, letters);
                (fold(s), start + (end - start) * before / total)
            })
            .collect();
        first_match(query, &said)
    };
    found.map_or(start, |ms| ms.clamp(start, end))
}

/// The start (ms) of the first word where the query's syllables are said
/// in the order typed; failing that, of the first word holding the query's
/// first syllable; failing that, of any of its syllables. `None` when no
/// word still in `text` matches (the caller falls back to the segment's
/// start). Matching is on folded syllables, as the search is: "quoc hoi"
/// finds "Quốc hội", and quotes or punctuation in the query do not matter.
///
/// `words` are passed over where they are not found in `text`, but a word
/// still found may be one the text kept from before an edit at a time the
/// edit moved: prefer [`jump_ms`], which uses the words only once they
/// are aligned to the text.
pub fn match_start_ms(query: &str, text: &str, words: &[Word]) -> Option<u64> {
    first_match(query, &spoken_syllables(text, words))
}

/// The time of the first of `said` (folded syllables with times) where
/// `query` matches, in [`match_start_ms`]'s order.
fn first_match(query: &str, said: &[(String, u64)]) -> Option<u64> {
    let wanted: Vec<String> = syllables(query).map(|(_, _, s)| fold(s)).collect();
    let first = wanted.first()?;
    let at = |i: usize| said.get(i).map(|(_, ms)| *ms);
    if let Some(i) = said
        .windows(wanted.len())
        .position(|run| run.iter().map(|(syllable, _)| syllable).eq(wanted.iter()))
    {
        return at(i);
    }
    if let Some(i) = said.iter().position(|(s, _)| s == first) {
        return at(i);
    }
    said.iter()
        .position(|(s, _)| wanted.contains(s))
        .and_then(at)
}

/// The folded syllables of the words still found in `text`, in order, each
/// with its word's start.
fn spoken_syllables(text: &str, words: &[Word]) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut pos = 0;
    for word in words {
        let spelled = word.text.trim();
        if spelled.is_empty() {
            continue;
        }
        // Edited away: keep looking for the next word from the same place.
        let Some(found) = text.get(pos..).and_then(|rest| rest.find(spelled)) else {
            continue;
        };
        pos += found + spelled.len();
        out.extend(syllables(spelled).map(|(_, _, s)| (fold(s), word.start_ms)));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn words(spoken: &[(&str, u64)]) -> Vec<Word> {
        spoken
            .iter()
            .map(|(text, start_ms)| Word {
                text: (*text).into(),
                start_ms: *start_ms,
                end_ms: start_ms + 200,
                probability: 0.9,
            })
            .collect()
    }

    const TEXT: &str = "Hội đồng đã họp, thưa Quốc hội.";

    fn spoken() -> Vec<Word> {
        words(&[
            (" Hội", 1000),
            (" đồng", 1200),
            (" đã", 1400),
            (" họp,", 1600),
            (" thưa", 2000),
            (" Quốc", 2200),
            (" hội.", 2400),
        ])
    }

    #[test]
    fn the_jump_lands_on_the_words_searched_for() {
        // The phrase, in order, beats an earlier lone "hội".
        assert_eq!(match_start_ms("quoc hoi", TEXT, &spoken()), Some(2200));
        assert_eq!(match_start_ms("\"Quốc hội\"", TEXT, &spoken()), Some(2200));
        assert_eq!(match_start_ms("thưa", TEXT, &spoken()), Some(2000));
        // Not said in that order: the query's first syllable.
        assert_eq!(match_start_ms("hop hoi dong", TEXT, &spoken()), Some(1600));
        // No word of the query: no jump.
        assert_eq!(match_start_ms("ngân sách", TEXT, &spoken()), None);
        assert_eq!(match_start_ms("", TEXT, &spoken()), None);
    }

    #[test]
    fn words_edited_away_are_passed_over() {
        // "Quốc hội" became "Chính phủ": its old times must not be used.
        let edited = "Hội đồng đã họp, thưa Chính phủ.";
        assert_eq!(match_start_ms("quoc", edited, &spoken()), None);
        assert_eq!(match_start_ms("thua", edited, &spoken()), Some(2000));
        assert_eq!(match_start_ms("hoi", edited, &spoken()), Some(1000));
    }

    fn hit<'a>(text: &'a str, words: &'a [Word], words_aligned: bool) -> HitSegment<'a> {
        HitSegment {
            text,
            words,
            words_aligned,
            start_ms: 1000,
            end_ms: 2600,
        }
    }

    #[test]
    fn after_re_timing_the_jump_lands_on_the_corrected_word() {
        // "Quốc hội" corrected to "Chính phủ", and the words re-timed.
        let edited = "Hội đồng đã họp, thưa Chính phủ.";
        let retimed = words(&[
            ("Hội", 1000),
            ("đồng", 1200),
            ("đã", 1400),
            ("họp,", 1600),
            ("thưa", 2000),
            ("Chính", 2150),
            ("phủ.", 2350),
        ]);
        assert_eq!(jump_ms("chinh phu", hit(edited, &retimed, true)), 2150);
        assert_eq!(jump_ms("phủ", hit(edited, &retimed, true)), 2350);
        assert_eq!(jump_ms("quoc", hit(edited, &retimed, true)), 1000);
    }

    #[test]
    fn before_re_timing_no_stale_word_time_is_used() {
        // "đã họp" became "họp" moved to the end: the old words still hold
        // a "họp," at 1600, which is no longer where it is said.
        let edited = "Hội đồng đã nhóm, thưa Quốc hội họp";
        // 28 letters; "họp" comes after 25 of them, over a 1600 ms span.
        let expected = 1000 + 1600 * 25 / 28;
        assert_eq!(jump_ms("hop", hit(edited, &spoken(), false)), expected);
        // "Quốc" comes after 18 letters.
        assert_eq!(
            jump_ms("quoc hoi", hit(edited, &spoken(), false)),
            1000 + 1600 * 18 / 28
        );
        // No match: the segment's start.
        assert_eq!(jump_ms("ngan sach", hit(edited, &spoken(), false)), 1000);
        // Aligned words out of the bounds are clamped to them.
        let late = words(&[("Hội", 9000)]);
        assert_eq!(jump_ms("hoi", hit("Hội", &late, true)), 2600);
    }
}
