//! The export as plain text (the record: headings, speeches, notes) and as
//! subtitles (the record's segments as cues, timed by their words where
//! those are aligned to the corrected text, by their bounds where not).
//! Both print the record's written form ([`SessionExport::segment_text`]).

use tocky_core::render::{self, Cue, CueLimits, cue_line, segment_cues};
use tocky_core::transcript::format_clock;
use tocky_store::{SceneKind, SceneNote};

use super::model::{ExportEntry, SessionExport};

/// A note as the record prints it: its text, or its kind's words when it
/// has none.
pub fn note_text(note: &SceneNote) -> String {
    let text = note.text.trim();
    if !text.is_empty() {
        return text.to_owned();
    }
    match note.kind {
        SceneKind::Applause => "Hội trường vỗ tay",
        SceneKind::Gavel => "Chủ toạ gõ búa",
        SceneKind::Vote => "Biểu quyết",
        SceneKind::Other => "Ghi chú",
    }
    .to_owned()
}

/// The heading line of the sitting: its date and the session's own agenda
/// note, if any.
pub fn sitting_line(export: &SessionExport) -> String {
    format!(
        "Ngày họp: {}{}",
        export.session.sitting_date.as_deref().unwrap_or("—"),
        export
            .session
            .agenda_item
            .as_deref()
            .map(|a| format!(" · Nội dung: {a}"))
            .unwrap_or_default()
    )
}

/// An agenda item's heading: its place, title and reference.
pub fn item_heading(item: &tocky_store::AgendaItem) -> String {
    let mut heading = format!("{}. {}", item.position + 1, item.title);
    if let Some(reference) = item.reference.as_deref().filter(|r| !r.trim().is_empty()) {
        heading.push_str(&format!(" ({reference})"));
    }
    heading
}

/// Plain text: the title and sitting, then each agenda item's heading
/// with its speeches (a `[H:MM:SS] Speaker:` line, then the speech as one
/// paragraph on one line) and its notes in brackets, blank-line separated.
/// Every line is made safe by [`cue_line`].
pub fn txt(export: &SessionExport) -> String {
    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str(&cue_line(text));
        out.push('\n');
    };
    line(&export.session.title);
    line(&sitting_line(export));
    for part in &export.record {
        if let Some(item) = &part.item {
            line("");
            line(&item_heading(item).to_uppercase());
        }
        for entry in &part.entries {
            line("");
            match entry {
                ExportEntry::Note(note) => line(&format!("({})", note_text(note))),
                ExportEntry::Speech(s) => {
                    let at = format_clock(u64::try_from(s.speech.start_ms).unwrap_or(0));
                    match &s.heading {
                        Some(heading) => line(&format!("[{at}] {heading}:")),
                        None => line(&format!("[{at}]")),
                    }
                    line(&s.text);
                }
            }
        }
    }
    out
}

/// The record's segments as subtitle cues: each segment's written form cut
/// by [`segment_cues`], using its words only where they are aligned to its
/// text (for a changed segment, the written form's words timed by the
/// verbatim words they come from, [`SessionExport::written_timing`]; a
/// version's segments have no words and are timed by their bounds); a
/// speech's first cue led by its speaker ("Name: ").
pub fn cues(export: &SessionExport) -> Vec<Cue> {
    let segments = export.segment_map();
    let mut out = Vec::new();
    for part in &export.record {
        for entry in &part.entries {
            let ExportEntry::Speech(s) = entry else {
                continue;
            };
            let mut lead = s.heading.as_deref();
            for segment in s
                .speech
                .segment_ids
                .iter()
                .filter_map(|id| segments.get(id))
            {
                let text = export.segment_text(segment);
                let words = match segment.words_aligned {
                    false => None,
                    true if text == segment.text => Some(segment.words.as_slice()),
                    true => export.written_timing.get(&segment.id).map(Vec::as_slice),
                };
                let mut cut = segment_cues(
                    u64::try_from(segment.start_ms).unwrap_or(0),
                    u64::try_from(segment.end_ms).unwrap_or(0),
                    text,
                    words,
                    CueLimits::default(),
                );
                if let (Some(name), Some(first)) = (lead, cut.first_mut()) {
                    first.text = format!("{name}: {}", first.text);
                    lead = None;
                }
                out.append(&mut cut);
            }
        }
    }
    out
}

/// SubRip of [`cues`].
pub fn srt(export: &SessionExport) -> String {
    render::srt_cues(&cues(export))
}

/// WebVTT of [`cues`].
pub fn vtt(export: &SessionExport) -> String {
    render::vtt_cues(&cues(export))
}
