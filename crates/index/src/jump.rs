//! Where in the audio a hit's match is said: the start of the first word
//! of the match, so that a journalist lands on it rather than at the start
//! of its segment.
//!
//! The index holds text only; word times live with the segment in the
//! store. A stenographer's edit changes the text but not the word times,
//! so, as the review UI does, the words are looked up in the current text
//! in order and those edited away are passed over.

use tocky_core::Word;
use tocky_core::text::fold;

use crate::analyzer::syllables;

/// The start (ms) of the first word where the query's syllables are said
/// in the order typed; failing that, of the first word holding the query's
/// first syllable; failing that, of any of its syllables. `None` when no
/// word still in `text` matches (the caller falls back to the segment's
/// start). Matching is on folded syllables, as the search is: "quoc hoi"
/// finds "Quốc hội", and quotes or punctuation in the query do not matter.
pub fn match_start_ms(query: &str, text: &str, words: &[Word]) -> Option<u64> {
    let wanted: Vec<String> = syllables(query).map(|(_, _, s)| fold(s)).collect();
    let first = wanted.first()?;
    let said = spoken_syllables(text, words);
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
}
