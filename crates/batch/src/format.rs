//! The output formats of a transcript, their file extensions and text.

use tocky_core::document::TranscriptDocument;
use tocky_core::render;
use tocky_core::transcript::{Transcript, format_timestamp};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `[start --> end]  text`, one segment a line (for reading in a terminal).
    Text,
    /// The canonical JSON document, with word times and probabilities.
    Json,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
    /// Plain text, one segment a line.
    Txt,
}

impl Format {
    /// The file extension (after the output name's stem).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Text => "text.txt",
            Self::Json => "json",
            Self::Srt => "srt",
            Self::Vtt => "vtt",
            Self::Txt => "txt",
        }
    }

    /// The document in this format.
    pub fn render(self, doc: &TranscriptDocument) -> String {
        let t = &doc.transcript;
        match self {
            Self::Text => timestamped(t),
            Self::Json => doc.to_json() + "\n",
            Self::Srt => render::srt(t),
            Self::Vtt => render::vtt(t),
            Self::Txt => render::txt(t),
        }
    }
}

/// One line a segment: its times, its channel if it has one, its text.
fn timestamped(t: &Transcript) -> String {
    let mut out = String::new();
    for s in &t.segments {
        let channel = s.channel.map(|c| format!(" ch{c}")).unwrap_or_default();
        out.push_str(&format!(
            "[{} --> {}]{channel}  {}\n",
            format_timestamp(s.start_ms),
            format_timestamp(s.end_ms),
            s.text
        ));
    }
    out
}
