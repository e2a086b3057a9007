//! Fillers (`ờ`, `à`, `ừm`) and false starts (a word or a pair of words
//! said twice in a row): which words are marked, and how removing them
//! leaves the punctuation and capitals of the sentence right.

use std::ops::Range;

use crate::tokenize::{Word, key};
use crate::{Itn, Kind, numbers};

/// The marked words of a line: `(word index, Filler or Repeat)`, in order.
/// Words that a rule rewrote (`taken`) are never marked.
pub(crate) fn marks(line: &str, words: &[Word], taken: &[bool], itn: &Itn) -> Vec<(usize, Kind)> {
    let o = &itn.options;
    let a_key = key("à");
    let free = |i: usize| i < words.len() && !taken.get(i).copied().unwrap_or(true);
    let word_like = |i: usize| {
        words
            .get(i)
            .and_then(|w| line.get(w.range.clone()))
            .is_some_and(|t| t.chars().all(char::is_alphabetic))
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if !free(i) {
            i += 1;
            continue;
        }
        let w = &words[i];
        if o.fillers && itn.fillers.contains(&w.key) {
            let next_start = words.get(i + 1).map_or(line.len(), |n| n.range.start);
            let after = line.get(w.range.end..next_start).unwrap_or("");
            // `à`, `ừ` before a question mark, and `à` ending a phrase after
            // a word (`vậy à`), are particles, not hesitations.
            let question = after.trim_start().starts_with('?');
            let particle =
                w.key == a_key && i > 0 && w.joined && words.get(i + 1).is_none_or(|n| !n.joined);
            if !question && !particle {
                out.push((i, Kind::Filler));
            }
            i += 1;
            continue;
        }
        if o.repeats {
            let plain = |k: usize| {
                free(k)
                    && word_like(k)
                    && numbers::vocab(&words[k].key).is_none()
                    && !itn.fillers.contains(&words[k].key)
            };
            let joined = |k: usize| words.get(k).is_some_and(|w| w.joined);
            // The next word, past fillers (`tôi ờ tôi xin`).
            let mut next = i + 1;
            while o.fillers && joined(next) && free(next) && itn.fillers.contains(&words[next].key)
            {
                next += 1;
            }
            if plain(i)
                && plain(next)
                && joined(next)
                && words[next].key == w.key
                && !itn.reduplicated.contains(&w.key)
            {
                out.push((i, Kind::Repeat));
                i += 1;
                continue;
            }
            if (i..i + 4).all(plain)
                && (i + 1..i + 4).all(joined)
                && words[i].key == words[i + 2].key
                && words[i + 1].key == words[i + 3].key
                && words[i].key != words[i + 1].key
            {
                out.push((i, Kind::Repeat));
                out.push((i + 1, Kind::Repeat));
                i += 2;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// A cut that removes marked words: the bytes, what replaces them (empty,
/// or a capital for the next word), and the spans it accounts for.
pub(crate) struct Removal {
    pub(crate) cut: Range<usize>,
    pub(crate) text: String,
    pub(crate) spans: Vec<(Range<usize>, Kind, bool)>,
}

/// Whether only white space and commas lie between two words.
fn soft_gap(gap: &str) -> bool {
    gap.chars().all(|c| c.is_whitespace() || c == ',')
}

/// Whether a gap ends a sentence: `.`, `!`, `?` or `…`, then white space.
fn sentence_end(gap: &str) -> bool {
    let t = gap.trim_end();
    !t.is_empty() && t.chars().all(|c| matches!(c, '.' | '!' | '?' | '…')) && t.len() < gap.len()
}

/// The cuts that remove the marked words. A run of marked words goes with
/// the white space and comma after it (`ờ, thưa` → `thưa`); at the end of a
/// sentence, with the space before it (`rồi ờ.` → `rồi.`). When the run
/// began a sentence with a capital, the next word takes the capital.
pub(crate) fn removals(
    line: &str,
    words: &[Word],
    marks: &[(usize, Kind)],
    taken: &[bool],
) -> Vec<Removal> {
    let gap = |a: usize, b: usize| -> &str {
        match (words.get(a), words.get(b)) {
            (Some(x), Some(y)) => line.get(x.range.end..y.range.start).unwrap_or(""),
            _ => "",
        }
    };
    let mut out = Vec::new();
    let mut k = 0;
    while k < marks.len() {
        let a = marks[k].0;
        let mut b = a;
        let mut run = vec![marks[k]];
        while let Some(&(next, kind)) = marks.get(k + run.len()) {
            if next == b + 1 && soft_gap(gap(b, next)) {
                b = next;
                run.push((next, kind));
            } else {
                break;
            }
        }
        k += run.len();
        let (Some(first), Some(last)) = (words.get(a), words.get(b)) else {
            continue;
        };
        let spans: Vec<(Range<usize>, Kind, bool)> = run
            .iter()
            .filter_map(|&(i, kind)| words.get(i).map(|w| (w.range.clone(), kind, true)))
            .collect();
        let before = line.get(..first.range.start).unwrap_or("").trim_end();
        let starts_sentence = before.is_empty() || before.ends_with(['.', '!', '?', ':', '"', '“']);
        let capital = line
            .get(first.range.clone())
            .and_then(|t| t.chars().next())
            .is_some_and(char::is_uppercase);
        let mut removal = if let Some(next) = words.get(b + 1).filter(|_| soft_gap(gap(b, b + 1))) {
            let mut r = Removal {
                cut: first.range.start..next.range.start,
                text: String::new(),
                spans,
            };
            let next_first = line.get(next.range.clone()).and_then(|t| t.chars().next());
            if starts_sentence
                && capital
                && !taken.get(b + 1).copied().unwrap_or(true)
                && let Some(c) = next_first.filter(|c| c.is_lowercase())
            {
                let end = next.range.start + c.len_utf8();
                r.cut.end = end;
                r.text = c.to_uppercase().collect();
                r.spans.push((next.range.start..end, Kind::Capital, false));
            }
            r
        } else if let Some(next) = words
            .get(b + 1)
            .filter(|_| starts_sentence && sentence_end(gap(b, b + 1)))
        {
            // `Ừm. Tôi xin hết.`: a sentence of fillers goes whole.
            Removal {
                cut: first.range.start..next.range.start,
                text: String::new(),
                spans,
            }
        } else if starts_sentence
            && b + 1 == words.len()
            && line.get(last.range.end..).is_some_and(|rest| {
                rest.chars()
                    .all(|c| c.is_whitespace() || ".!?…".contains(c))
            })
        {
            // `Tôi xin hết. Ờ ờ.`: a last sentence of fillers goes whole.
            Removal {
                cut: before.len()..line.len(),
                text: String::new(),
                spans,
            }
        } else if a > 0 && soft_gap(gap(a - 1, a)) {
            let prev_end = words.get(a - 1).map_or(first.range.start, |p| p.range.end);
            Removal {
                cut: prev_end..last.range.end,
                text: String::new(),
                spans,
            }
        } else {
            Removal {
                cut: first.range.start..last.range.end,
                text: String::new(),
                spans,
            }
        };
        if removal.cut.start > removal.cut.end {
            removal.cut.end = removal.cut.start;
        }
        out.push(removal);
    }
    out
}
