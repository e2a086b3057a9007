//! What the written form will drop and change, for the reporter to see
//! before approval: each segment of the record in written form (by the
//! store's rules, [`tocky_store::Store::written`]) as parts in print order,
//! plain text, replacements (`XV` for `mười lăm`) and removed words (`ờ`,
//! a false start), served beside the record by
//! `GET /api/sessions/{id}/record` (docs/itn.md, docs/api.md). The
//! verbatim text stays as it is in the store; this only shows it.

use serde::Serialize;
use tocky_core::Word;
use tocky_itn::{Itn, Kind, Span};
use tocky_store::{Record, SegmentState, Store};

/// The record with each of its segments' written forms.
#[derive(Debug, Clone, Serialize)]
pub struct RecordView {
    /// The record, as [`Store::record`] derives it.
    #[serde(flatten)]
    pub record: Record,
    /// The written form of every segment of the record, in time order.
    pub written: Vec<SegmentWritten>,
    /// How the record names each speaker of the session, as the exports
    /// do: the registry person's title and name once linked, else the
    /// speaker's own name.
    pub headings: Vec<SpeakerHeading>,
}

/// A speaker's heading in the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpeakerHeading {
    /// The session's speaker.
    pub speaker_id: i64,
    /// The heading ([`crate::export::model::person_heading`] on the
    /// sitting's date).
    pub heading: String,
}

/// One segment's written form and how it came from the verbatim text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentWritten {
    /// The segment.
    pub segment_id: i64,
    /// The verbatim text it was written from (a client whose text differs
    /// holds a newer edit: this written form is stale).
    pub verbatim: String,
    /// The written form, as the record prints it.
    pub text: String,
    /// The written form in print order, with what was removed where it was.
    pub parts: Vec<Part>,
}

/// A piece of a written form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// The printed text; empty for removed words.
    pub text: String,
    /// The spoken words it was written from, when a rule changed or removed
    /// them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spoken: Option<String>,
    /// The rule ([`Kind::name`]): `number`, `date`, `roman`, `filler`,
    /// `repeat`…; absent for text left as it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// Whether the spoken words are removed from the print (a filler, a
    /// false start); a marked word that stays (`keep_fillers`) is not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

impl Part {
    fn plain(text: &str) -> Part {
        Part {
            text: text.to_owned(),
            spoken: None,
            kind: None,
            removed: false,
        }
    }
}

/// The record of session `id` with its segments' written forms.
pub fn record_view(store: &Store, id: i64) -> tocky_store::Result<RecordView> {
    let record = store.record(id)?;
    let written = store
        .segments(id)?
        .into_iter()
        .filter(|s| s.state == SegmentState::Speech)
        .map(|s| segment_written(store.written(), s.id, s.text))
        .collect();
    let date = store.session(id)?.sitting_date;
    let headings = store
        .speakers(id)?
        .into_iter()
        .map(|sp| {
            let person = sp.person_id.map(|p| store.person_by_id(p)).transpose()?;
            Ok(SpeakerHeading {
                speaker_id: sp.id,
                heading: match person {
                    Some(person) => crate::export::model::person_heading(&person, date.as_deref()),
                    None => sp.name,
                },
            })
        })
        .collect::<tocky_store::Result<_>>()?;
    Ok(RecordView {
        record,
        written,
        headings,
    })
}

/// The written form of one segment's verbatim text, as parts.
pub fn segment_written(itn: &Itn, segment_id: i64, verbatim: String) -> SegmentWritten {
    let written = itn.line(&verbatim);
    let parts = parts(&verbatim, &written.text, &written.spans);
    SegmentWritten {
        segment_id,
        text: written.text,
        verbatim,
        parts,
    }
}

/// `output` (the written form of `input`) cut at its `spans` (in input
/// order, as [`tocky_itn::Written`] lists them): the text between them as
/// it is, each change with the words it was written from, and removed
/// words where they were (adjacent removals of one kind as one part).
pub fn parts(input: &str, output: &str, spans: &[Span]) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::new();
    let mut at = 0;
    for span in spans {
        let start = span.output.start.max(at);
        if start > at {
            out.push(Part::plain(output.get(at..start).unwrap_or("")));
            at = start;
        }
        let spoken = input.get(span.input.clone()).unwrap_or("").to_owned();
        if span.removed {
            if let Some(last) = out.last_mut().filter(|p| {
                p.removed && p.kind == Some(span.kind.name()) && span.kind != Kind::Filler
            }) {
                // A false start of two words: one part, as it reads.
                if let Some(words) = &mut last.spoken {
                    words.push(' ');
                    words.push_str(&spoken);
                }
                continue;
            }
            out.push(Part {
                text: String::new(),
                spoken: Some(spoken),
                kind: Some(span.kind.name()),
                removed: true,
            });
            continue;
        }
        let end = span.output.end.max(at);
        out.push(Part {
            text: output.get(at..end).unwrap_or("").to_owned(),
            spoken: Some(spoken),
            kind: Some(span.kind.name()),
            removed: false,
        });
        at = end;
    }
    if at < output.len() {
        out.push(Part::plain(output.get(at..).unwrap_or("")));
    }
    out
}

/// Timed words for a written form: one per whitespace-separated token of
/// `written` (as subtitle cues want them), each timed by the verbatim word
/// it comes from (`words`, aligned one per token of `verbatim`), so that a
/// changed segment's cues keep the times of what was said. A kept word is
/// its own; a replacement's tokens take the replaced words' times in turn;
/// removed words give none. `None` when `words` are not aligned to
/// `verbatim` or the tokens do not add up (then cues are timed by the
/// segment's bounds).
pub fn written_words(
    verbatim: &str,
    words: &[Word],
    written: &str,
    spans: &[Span],
) -> Option<Vec<Word>> {
    let tokens: Vec<std::ops::Range<usize>> = token_ranges(verbatim);
    if tokens.len() != words.len() {
        return None;
    }
    let out_tokens: Vec<&str> = written.split_whitespace().collect();
    // For each verbatim token, in order: the written tokens it gives.
    let mut timed: Vec<u64> = Vec::with_capacity(out_tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let overlaps =
            |s: &Span, t: &std::ops::Range<usize>| s.input.start < t.end && t.start < s.input.end;
        match spans.iter().find(|s| overlaps(s, &tokens[i])) {
            None => {
                timed.push(words[i].start_ms);
                i += 1;
            }
            Some(span) => {
                // Every token the span touches goes with it.
                let mut j = i + 1;
                while j < tokens.len() && overlaps(span, &tokens[j]) {
                    j += 1;
                }
                if !span.removed {
                    let given = written
                        .get(span.output.clone())?
                        .split_whitespace()
                        .count()
                        .max(1);
                    for m in 0..given {
                        timed.push(words[i + m * (j - i) / given].start_ms);
                    }
                }
                i = j;
            }
        }
    }
    if timed.len() != out_tokens.len() {
        return None;
    }
    Some(
        out_tokens
            .iter()
            .zip(timed)
            .map(|(text, start_ms)| Word {
                text: (*text).to_owned(),
                start_ms,
                end_ms: start_ms,
                probability: 1.0,
            })
            .collect(),
    )
}

/// The byte ranges of `text`'s whitespace-separated tokens.
fn token_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push(s..at);
                start = None;
            }
            (false, None) => start = Some(at),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..text.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocky_itn::Options;

    fn shown(parts: &[Part]) -> String {
        parts
            .iter()
            .map(|p| match (&p.spoken, p.removed) {
                (Some(s), true) => format!("[-{s}-]"),
                (Some(s), false) => format!("[{}={s}]", p.text),
                (None, _) => p.text.clone(),
            })
            .collect()
    }

    #[test]
    fn removals_and_replacements_are_parts_in_print_order() {
        let itn = Itn::new(Options::default());
        let w = segment_written(
            &itn,
            7,
            "ờ chúng tôi, ờ, đề nghị đề nghị Quốc hội khóa mười lăm thông qua".into(),
        );
        assert_eq!(w.text, "chúng tôi, đề nghị Quốc hội khóa XV thông qua");
        assert_eq!(
            shown(&w.parts),
            "[-ờ-]chúng tôi, [-ờ-][-đề nghị-]đề nghị Quốc hội khóa [XV=mười lăm] thông qua"
        );
        // The printed text is the parts' text, in order.
        let printed: String = w.parts.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(printed, w.text);
    }

    #[test]
    fn kept_fillers_are_marked_but_printed() {
        let itn = Itn::new(Options {
            remove_marked: false,
            ..Options::default()
        });
        let w = segment_written(&itn, 1, "ừm, hai mươi phần trăm".into());
        assert_eq!(w.text, "ừm, 20%");
        let printed: String = w.parts.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(printed, w.text);
        assert!(w.parts.iter().all(|p| !p.removed));
        assert!(
            w.parts
                .iter()
                .any(|p| p.kind == Some("filler") && p.text == "ừm")
        );
    }

    #[test]
    fn written_words_keep_the_times_of_what_was_said() {
        let itn = Itn::new(Options::default());
        let verbatim = "ờ, Quốc hội khóa mười lăm có bốn trăm tám mươi hai đại biểu";
        let words: Vec<Word> = verbatim
            .split_whitespace()
            .enumerate()
            .map(|(i, t)| Word {
                text: t.into(),
                start_ms: 1_000 + i as u64 * 100,
                end_ms: 1_050 + i as u64 * 100,
                probability: 0.9,
            })
            .collect();
        let w = itn.line(verbatim);
        assert_eq!(w.text, "Quốc hội khóa XV có 482 đại biểu");
        let timed = written_words(verbatim, &words, &w.text, &w.spans).unwrap();
        let shown: Vec<(&str, u64)> = timed
            .iter()
            .map(|w| (w.text.as_str(), w.start_ms))
            .collect();
        assert_eq!(
            shown,
            [
                ("Quốc", 1_100),
                ("hội", 1_200),
                ("khóa", 1_300),
                ("XV", 1_400),
                ("có", 1_600),
                ("482", 1_700),
                ("đại", 2_200),
                ("biểu", 2_300)
            ]
        );
        // Words that are not aligned give none.
        assert!(written_words(verbatim, &words[1..], &w.text, &w.spans).is_none());
    }

    #[test]
    fn text_without_changes_is_one_plain_part() {
        let itn = Itn::new(Options::default());
        let w = segment_written(&itn, 1, "Xin cảm ơn <b>&".into());
        assert_eq!(w.parts, [Part::plain("Xin cảm ơn <b>&")]);
        assert!(segment_written(&itn, 1, String::new()).parts.is_empty());
    }
}
