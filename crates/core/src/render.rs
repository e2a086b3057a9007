//! Rendering a [`Transcript`] as subtitles or plain text.
//!
//! JSON (serde) is the canonical form; these renderings are derived from it
//! and lose the word times.

use std::fmt::Write;

use crate::transcript::Transcript;

pub mod cues;

pub use cues::{Cue, CueLimits, segment_cues};

/// `HH:MM:SS` plus milliseconds after `sep` (`,` for SRT, `.` for WebVTT).
fn clock(ms: u64, sep: char) -> String {
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    format!("{h:02}:{m:02}:{:02}{sep}{:03}", rest / 1000, rest % 1000)
}

/// `text` as a subtitle cue or a plain-text line may carry it: control
/// characters (NUL, C0, C1, DEL) and line and paragraph separators become
/// spaces, so that the text stays on its one line (a line break could end
/// a cue and start a forged one), and every `-->` is broken up, so that no
/// text reads as a cue's timing line. Trimmed.
pub fn cue_line(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    while out.contains("-->") {
        out = out.replace("-->", "-- >");
    }
    out.trim().to_owned()
}

/// The segments of `t` as cues, one each, at the segments' bounds.
fn segment_per_cue(t: &Transcript) -> Vec<Cue> {
    t.segments
        .iter()
        .map(|s| Cue {
            start_ms: s.start_ms,
            end_ms: s.end_ms,
            text: s.text.clone(),
        })
        .collect()
}

/// SubRip: numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, blank-line
/// separated; one cue per segment, its text on one line ([`cue_line`]).
pub fn srt(t: &Transcript) -> String {
    srt_cues(&segment_per_cue(t))
}

/// SubRip of `cues` as given, each cue's text on one line ([`cue_line`]).
pub fn srt_cues(cues: &[Cue]) -> String {
    let mut out = String::new();
    for (i, c) in cues.iter().enumerate() {
        let _ = write!(
            out,
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            clock(c.start_ms, ','),
            clock(c.end_ms, ','),
            cue_line(&c.text)
        );
    }
    out
}

/// WebVTT, one cue per segment, each cue's text on one line
/// ([`cue_line`]) and escaped as the format requires (`&`, `<`, `>`).
pub fn vtt(t: &Transcript) -> String {
    vtt_cues(&segment_per_cue(t))
}

/// WebVTT of `cues` as given, escaped as [`vtt`] does.
pub fn vtt_cues(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for c in cues {
        let text: String = cue_line(&c.text)
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let _ = write!(
            out,
            "{} --> {}\n{}\n\n",
            clock(c.start_ms, '.'),
            clock(c.end_ms, '.'),
            text
        );
    }
    out
}

/// Plain text, one segment a line ([`cue_line`]).
pub fn txt(t: &Transcript) -> String {
    let mut out = String::new();
    for s in &t.segments {
        out.push_str(&cue_line(&s.text));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Segment;

    fn sample() -> Transcript {
        let seg = |start_ms, end_ms, text: &str| Segment {
            start_ms,
            end_ms,
            text: text.into(),
            ..Segment::default()
        };
        Transcript {
            language: "vi".into(),
            duration_ms: 3_725_000,
            segments: vec![
                seg(0, 2_500, "Kính thưa Quốc hội."),
                seg(3_723_004, 3_725_000, "Điều 5 <b> & \"-->\" \n\n tiếp"),
            ],
        }
    }

    #[test]
    fn srt_numbers_cues_with_comma_milliseconds() {
        let s = srt(&sample());
        assert!(
            s.starts_with(
                "1\n00:00:00,000 --> 00:00:02,500\nKính thưa Quốc hội.\n\n2\n01:02:03,004 --> "
            ),
            "{s}"
        );
        assert!(
            !s.contains("\n\n tiếp"),
            "a blank line inside a cue would split it: {s}"
        );
    }

    #[test]
    fn vtt_has_header_dot_milliseconds_and_escapes_markup() {
        let v = vtt(&sample());
        assert!(
            v.starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nKính thưa Quốc hội.\n\n"),
            "{v}"
        );
        assert!(v.contains("Điều 5 &lt;b&gt; &amp; \"-- &gt;\""), "{v}");
        assert_eq!(
            v.matches(" --> ").count(),
            2,
            "cue text must not contain an arrow: {v}"
        );
    }

    #[test]
    fn cue_syntax_and_control_characters_are_neutralised() {
        assert_eq!(
            cue_line("a\n99\n00:00:00,000 --> 09:59:59,000\nX"),
            "a 99 00:00:00,000 -- > 09:59:59,000 X"
        );
        assert_eq!(
            cue_line("a\0b\u{1b}[31mc\u{7f}\u{85}d\u{2028}e\r\nf"),
            "a b [31mc  d e  f"
        );
        assert_eq!(cue_line("--->"), "--- >");
        assert_eq!(cue_line("---->>"), "---- >>");
        assert!(!cue_line("-->-->").contains("-->"));
        assert_eq!(cue_line(" Kính thưa Quốc hội "), "Kính thưa Quốc hội");
        // A segment whose text forges a cue stays one cue in every format.
        let forged = Transcript {
            segments: vec![Segment {
                end_ms: 1_000,
                text: "a\n\n99\n00:00:00,000 --> 09:59:59,000\nX\0".into(),
                ..Segment::default()
            }],
            ..Transcript::default()
        };
        assert_eq!(srt(&forged).matches(" --> ").count(), 1);
        assert_eq!(vtt(&forged).matches(" --> ").count(), 1);
        assert_eq!(txt(&forged).lines().count(), 1);
        for rendered in [srt(&forged), vtt(&forged), txt(&forged)] {
            assert!(!rendered.contains('\0'), "{rendered:?}");
        }
    }

    #[test]
    fn txt_is_one_segment_a_line() {
        assert_eq!(txt(&sample()).lines().next(), Some("Kính thưa Quốc hội."));
    }
}
