//! The written form of Vietnamese speech, as a parliamentary record writes
//! it: inverse text normalisation (numbers, dates, times, percentages,
//! sums of money, legal references, Roman numerals) and clean-up (fillers
//! and repeated words), with spans that say which input words became which
//! output, so that a reviewer sees every change and the verbatim text stays
//! as it was.
//!
//! The conventions are in `docs/itn.md`. Everything is deterministic, and
//! no input makes it fail or panic: what it cannot read stays as it was.
//!
//! ```
//! use tocky_itn::{Itn, Options};
//! let itn = Itn::new(Options::default());
//! let w = itn.line("ờ Quốc hội khóa mười lăm có bốn trăm tám mươi hai đại biểu tán thành");
//! assert_eq!(w.text, "Quốc hội khóa XV có 482 đại biểu tán thành");
//! ```

mod dates;
mod fillers;
mod idioms;
mod legal;
mod money;
mod numbers;
mod roman;
mod tokenize;

use std::collections::HashSet;
use std::ops::Range;

use numbers::V;
use serde::Serialize;
use tokenize::Word;

/// Which rules apply, and what happens to fillers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Numbers in running text (from 10 up, decimals, scale words).
    pub numbers: bool,
    /// Dates (`ngày 21 tháng 10 năm 2026`) and times (`9 giờ 30 phút`).
    pub dates_times: bool,
    /// Percentages (`96,2%`) and sums of money (`500.000 đồng`).
    pub percent_money: bool,
    /// Articles, clauses, numbered texts (`điều 12 khoản 3`,
    /// `Nghị quyết số 27/2022/QH15`) and ordinals of sittings.
    pub legal: bool,
    /// Roman numerals after `khóa` and `chương`.
    pub roman: bool,
    /// Mark the words of [`Options::filler_words`].
    pub fillers: bool,
    /// Mark a word or a pair of words said twice in a row (false starts).
    pub repeats: bool,
    /// Remove what is marked (fillers, repeats); otherwise they stay in the
    /// text and only their spans say they would go.
    pub remove_marked: bool,
    /// The fillers (any tone-mark placement and case matches).
    pub filler_words: Vec<String>,
    /// Words whose doubling is a word of its own (`dần dần`, `từ từ`): never
    /// marked as repeats.
    pub reduplicated: Vec<String>,
}

/// The fillers marked by default: hesitation sounds, never words of content.
pub const DEFAULT_FILLERS: &[&str] = &["à", "ờ", "ừ", "ừm", "ờm", "ưm", "hừm", "hmm", "ừa"];

/// Words Vietnamese doubles on purpose, kept when said twice.
pub const DEFAULT_REDUPLICATED: &[&str] = &[
    "từ",
    "dần",
    "ngày",
    "người",
    "nhà",
    "đời",
    "mãi",
    "thường",
    "luôn",
    "xa",
    "ai",
    "đâu",
    "lâu",
    "năm",
    "tháng",
    "rất",
    "đều",
    "khắp",
    "nơi",
    "cùng",
    "vừa",
    "mỗi",
    "chầm",
    "lần",
    "ngành",
    "cấp",
    "bao",
    "gì",
    "nào",
    "hết",
    "thật",
    "hai",
    "ba",
    "nhiều",
    "các",
    "vân",
    "nhất",
];

impl Default for Options {
    fn default() -> Self {
        Options {
            numbers: true,
            dates_times: true,
            percent_money: true,
            legal: true,
            roman: true,
            fillers: true,
            repeats: true,
            remove_marked: true,
            filler_words: DEFAULT_FILLERS.iter().map(|s| (*s).to_owned()).collect(),
            reduplicated: DEFAULT_REDUPLICATED
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }
}

/// What a span of the input became (serialised as [`Kind::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A number in running text.
    Number,
    /// A number of a date (day, month, year).
    Date,
    /// A number of a time or a duration in hours, minutes, seconds.
    Time,
    /// A percentage (`phần trăm` became `%`).
    Percent,
    /// A sum of money.
    Money,
    /// An article, clause or section number, or a numbered text.
    Legal,
    /// An ordinal of a sitting (`kỳ họp thứ 10`).
    Ordinal,
    /// A Roman numeral (`khóa XV`).
    Roman,
    /// A filler (`ờ`, `à`).
    Filler,
    /// A word or pair of words said again right after (a false start).
    Repeat,
    /// A word capitalised because the filler that began its sentence went.
    Capital,
}

impl Kind {
    /// A short lower-case name, for reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Number => "number",
            Kind::Date => "date",
            Kind::Time => "time",
            Kind::Percent => "percent",
            Kind::Money => "money",
            Kind::Legal => "legal",
            Kind::Ordinal => "ordinal",
            Kind::Roman => "roman",
            Kind::Filler => "filler",
            Kind::Repeat => "repeat",
            Kind::Capital => "capital",
        }
    }
}

/// One change: input bytes, the output bytes they became, and why.
/// Serialised with the ranges as `{"start", "end"}` byte offsets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    /// The input's bytes (whole words).
    pub input: Range<usize>,
    /// The output's bytes; empty where the words were removed.
    pub output: Range<usize>,
    /// Which rule made the change.
    pub kind: Kind,
    /// Whether the words were removed (fillers and repeats with
    /// [`Options::remove_marked`]); a marked filler that stays has
    /// `removed == false` and `output` covering it unchanged.
    pub removed: bool,
}

/// A line in written form, with its changes in input order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Written {
    /// The written form.
    pub text: String,
    /// Every change and every marked word.
    pub spans: Vec<Span>,
}

/// The written-form converter: [`Options`] with their word lists prepared.
#[derive(Debug, Clone)]
pub struct Itn {
    options: Options,
    fillers: HashSet<String>,
    reduplicated: HashSet<String>,
}

/// A replacement of words `start..end` (indices into a line's words).
#[derive(Debug, Clone)]
pub(crate) struct Edit {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) text: String,
    pub(crate) kind: Kind,
}

/// What a rule found: its edits and the word to go on from.
pub(crate) struct Found {
    pub(crate) edits: Vec<Edit>,
    pub(crate) next: usize,
}

impl Found {
    pub(crate) fn one(start: usize, end: usize, text: String, kind: Kind) -> Found {
        Found {
            edits: vec![Edit {
                start,
                end,
                text,
                kind,
            }],
            next: end,
        }
    }
}

/// A run of words joined by white space, which the rules read.
pub(crate) struct Phrase<'a> {
    pub(crate) words: &'a [Word],
    pub(crate) roles: Vec<Option<V>>,
    pub(crate) line: &'a str,
    pub(crate) options: &'a Options,
}

impl Phrase<'_> {
    /// Whether word `i` is `word` (in any case and tone-mark placement).
    pub(crate) fn is(&self, i: usize, word: &str) -> bool {
        self.words
            .get(i)
            .is_some_and(|w| w.key == tokenize::key(word))
    }

    /// Whether word `i` is one of `words`.
    pub(crate) fn is_any(&self, i: usize, words: &[&str]) -> bool {
        words.iter().any(|w| self.is(i, w))
    }

    /// The text of word `i` as written in the input.
    pub(crate) fn text(&self, i: usize) -> &str {
        self.words
            .get(i)
            .and_then(|w| self.line.get(w.range.clone()))
            .unwrap_or("")
    }

    /// The number that starts at word `i`, if one does.
    pub(crate) fn number(&self, i: usize) -> Option<numbers::Number> {
        numbers::parse(self.words, &self.roles, i)
    }
}

impl Itn {
    /// A converter with these options.
    pub fn new(options: Options) -> Itn {
        let keys = |list: &[String]| list.iter().map(|w| tokenize::key(w.trim())).collect();
        Itn {
            fillers: keys(&options.filler_words),
            reduplicated: keys(&options.reduplicated),
            options,
        }
    }

    /// The options in use.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The written form of one line (or paragraph) of speech.
    pub fn line(&self, line: &str) -> Written {
        let words = tokenize::words(line);
        let mut edits: Vec<Edit> = Vec::new();
        for range in tokenize::phrases(&words) {
            let offset = range.start;
            let slice = &words[range];
            let phrase = Phrase {
                roles: numbers::roles(slice),
                words: slice,
                line,
                options: &self.options,
            };
            let mut local: Vec<Edit> = Vec::new();
            // A year right before a dash carries over: `2021 – 2026`.
            let dash_year = edits.last().filter(|e| {
                e.end == offset
                    && e.kind == Kind::Date
                    && e.text.len() == 4
                    && words
                        .get(offset.wrapping_sub(1))
                        .zip(words.get(offset))
                        .is_some_and(|(a, b)| {
                            let gap = line.get(a.range.end..b.range.start).unwrap_or("").trim();
                            matches!(gap, "-" | "–" | "—")
                        })
            });
            let carried = dash_year.map(|e| Edit {
                start: 0,
                end: 0,
                text: e.text.clone(),
                kind: e.kind,
            });
            let mut i = 0;
            while i < slice.len() {
                match self.rules(&phrase, i, local.last().or(carried.as_ref())) {
                    Some(found) if found.next > i => {
                        local.extend(found.edits);
                        i = found.next;
                    }
                    _ => i += 1,
                }
            }
            edits.extend(local.into_iter().map(|e| Edit {
                start: e.start + offset,
                end: e.end + offset,
                ..e
            }));
        }
        let mut taken = vec![false; words.len()];
        for e in &edits {
            for t in taken.iter_mut().take(e.end).skip(e.start) {
                *t = true;
            }
        }
        let marks = fillers::marks(line, &words, &taken, self);
        render(
            line,
            &words,
            &edits,
            &marks,
            &taken,
            self.options.remove_marked,
        )
    }

    /// The first rule that applies at word `i` of a phrase.
    fn rules(&self, ph: &Phrase<'_>, i: usize, last: Option<&Edit>) -> Option<Found> {
        let o = &self.options;
        if let Some(len) = idioms::at(ph, i) {
            return Some(Found {
                edits: Vec::new(),
                next: i + len,
            });
        }
        if (o.legal || o.roman)
            && let Some(f) = legal::at(ph, i)
        {
            return Some(f);
        }
        if o.dates_times
            && let Some(f) = dates::at(ph, i, last)
        {
            return Some(f);
        }
        let n = ph.number(i)?;
        let end = i + n.len;
        if o.percent_money
            && let Some(f) = money::after_number(ph, i, &n)
        {
            return Some(f);
        }
        if o.dates_times
            && let Some(f) = dates::time_after_number(ph, i, &n)
        {
            return Some(f);
        }
        if o.numbers && n.digits_in_running_text() {
            return Some(Found::one(i, end, numbers::written(&n), Kind::Number));
        }
        // A small number stays a word; skip all of it so that its last
        // word does not start another.
        Some(Found {
            edits: Vec::new(),
            next: end,
        })
    }
}

/// The written form of `line` with the options' defaults.
pub fn written(line: &str) -> Written {
    Itn::new(Options::default()).line(line)
}

/// Applies the edits and the marks to the line.
fn render(
    line: &str,
    words: &[Word],
    edits: &[Edit],
    marks: &[(usize, Kind)],
    taken: &[bool],
    remove: bool,
) -> Written {
    // Byte-level operations, sorted and never overlapping.
    struct Op {
        cut: Range<usize>,
        text: String,
        spans: Vec<(Range<usize>, Kind, bool)>,
    }
    let mut ops: Vec<Op> = edits
        .iter()
        .filter_map(|e| {
            let cut = words.get(e.start)?.range.start..words.get(e.end.checked_sub(1)?)?.range.end;
            Some(Op {
                cut: cut.clone(),
                text: e.text.clone(),
                spans: vec![(cut, e.kind, false)],
            })
        })
        .collect();
    let mut marked_spans: Vec<Span> = Vec::new();
    if remove {
        ops.extend(
            fillers::removals(line, words, marks, taken)
                .into_iter()
                .map(|r| Op {
                    cut: r.cut,
                    text: r.text,
                    spans: r.spans,
                }),
        );
    }
    ops.sort_by_key(|op| (op.cut.start, op.cut.end));
    let mut text = String::with_capacity(line.len());
    let mut spans = Vec::new();
    let mut at = 0;
    for op in ops {
        if op.cut.start < at {
            continue; // cannot happen with the rules' ranges; never overlap
        }
        text.push_str(line.get(at..op.cut.start).unwrap_or(""));
        let out_start = text.len();
        text.push_str(&op.text);
        for (input, kind, removed) in op.spans {
            let output = if removed {
                out_start..out_start
            } else {
                out_start..text.len()
            };
            spans.push(Span {
                input,
                output,
                kind,
                removed,
            });
        }
        at = op.cut.end;
    }
    text.push_str(line.get(at..).unwrap_or(""));
    if !remove {
        // Marked words stay: their output is where they now lie.
        for &(i, kind) in marks {
            let Some(w) = words.get(i) else { continue };
            let shift = spans
                .iter()
                .filter(|s| s.input.end <= w.range.start)
                .map(|s| (s.output.len() as isize) - (s.input.len() as isize))
                .sum::<isize>();
            let start = w.range.start.saturating_add_signed(shift);
            marked_spans.push(Span {
                input: w.range.clone(),
                output: start..start + w.range.len(),
                kind,
                removed: false,
            });
        }
        spans.extend(marked_spans);
    }
    spans.sort_by_key(|s| (s.input.start, s.input.end));
    Written { text, spans }
}
