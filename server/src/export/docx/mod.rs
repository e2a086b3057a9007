//! The export as the printed record, a DOCX in the layout a parliament
//! prints ([`layout`]): the Assembly's name, the session's title, the
//! sitting's date and which version this is (a published version's number
//! and date, or "Bản dự thảo" for the working record); then each agenda
//! item as a `Heading 1`, each speech led by its speaker in bold (a
//! `Heading 2`, so that the navigation pane lists who spoke) and its
//! paragraphs, each scene note in italics where it falls; page numbers in
//! the footer. The same export always gives the same bytes.

pub mod layout;

use std::io::Cursor;

use docx_rs::{Docx, Paragraph, Run};

use super::model::{ExportEntry, SessionExport};
use super::text::{item_heading, note_text};

/// The masthead: the author of every record.
pub const ASSEMBLY: &str = "QUỐC HỘI NƯỚC CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";

/// What the working record (not a published version) says it is.
pub const DRAFT: &str = "Bản dự thảo";

/// `text` with what XML 1.0 cannot hold, even escaped (control characters
/// other than tab and line breaks, U+FFFE, U+FFFF), replaced by spaces: one
/// such character pasted into a segment would otherwise make Word refuse
/// the whole record.
pub fn xml_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}' => c,
            _ => ' ',
        })
        .collect()
}

/// `date` (YYYY-MM-DD, or an ISO 8601 time that starts with one) as
/// official texts write a date ("ngày 21 tháng 10 năm 2026"); anything
/// else as it is.
pub fn written_date(date: &str) -> String {
    let day = date.get(..10).unwrap_or(date);
    let mut parts = day.splitn(3, '-');
    let number = |part: Option<&str>, len: usize| {
        part.filter(|p| p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<u32>().ok())
    };
    match (
        number(parts.next(), 4),
        number(parts.next(), 2),
        number(parts.next(), 2),
    ) {
        (Some(y), Some(m @ 1..=12), Some(d @ 1..=31)) => {
            format!("ngày {d:02} tháng {m:02} năm {y}")
        }
        _ => date.to_owned(),
    }
}

/// The lines under the title: the sitting's date, the session's own
/// agenda note (if any), and which version of the record this is.
pub fn subtitle_lines(export: &SessionExport) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(date) = export.session.sitting_date.as_deref() {
        let written = written_date(date);
        // A line starts with a capital: "Ngày …", but what is not a
        // date stays as it was typed.
        lines.push(match written.strip_prefix("ngày ") {
            Some(rest) => format!("Ngày {rest}"),
            None => written,
        });
    }
    if let Some(note) = export.session.agenda_item.as_deref() {
        lines.push(format!("Nội dung: {note}"));
    }
    lines.push(match &export.version {
        Some(v) => format!(
            "Bản công bố số {}, {}",
            v.number,
            written_date(&v.published_at)
        ),
        None => DRAFT.to_owned(),
    });
    lines
}

/// A speech's or a note's text cut into its paragraphs (at line breaks),
/// blank ones left out.
fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

/// Numbers the record's paragraphs (`w14:paraId`) from the footer's on:
/// docx-rs would number them from a per-thread counter, which would make
/// the bytes depend on what the thread built before.
struct Numbering(u32);

impl Numbering {
    fn paragraph(&mut self) -> Paragraph {
        self.0 = self.0.saturating_add(1);
        Paragraph::new().id(layout::para_id(self.0))
    }

    fn styled(&mut self, style: &str, text: &str) -> Paragraph {
        self.paragraph()
            .style(style)
            .add_run(Run::new().add_text(xml_text(text)))
    }
}

/// The record as a [`Docx`], ready to pack.
pub fn record(export: &SessionExport) -> Docx {
    let mut n = Numbering(layout::FOOTER_PARAGRAPH);
    let mut doc = layout::page().add_paragraph(n.styled(layout::MASTHEAD, ASSEMBLY));
    doc = doc.add_paragraph(n.styled(layout::TITLE, &export.session.title));
    for line in subtitle_lines(export) {
        doc = doc.add_paragraph(n.styled(layout::SUBTITLE, &line));
    }
    for part in &export.record {
        if let Some(item) = &part.item {
            doc = doc.add_paragraph(n.styled(layout::HEADING_1, &item_heading(item)));
        }
        for entry in &part.entries {
            match entry {
                ExportEntry::Note(note) => {
                    doc = doc.add_paragraph(
                        n.paragraph().style(layout::NOTE).add_run(
                            Run::new()
                                .add_text(xml_text(&format!("({})", note_text(note))))
                                .italic(),
                        ),
                    );
                }
                ExportEntry::Speech(s) => {
                    if let Some(heading) = s.heading.as_deref().map(str::trim)
                        && !heading.is_empty()
                    {
                        doc =
                            doc.add_paragraph(n.paragraph().style(layout::HEADING_2).add_run(
                                Run::new().add_text(xml_text(&format!("{heading}:"))).bold(),
                            ));
                    }
                    for paragraph in paragraphs(&s.text) {
                        doc = doc.add_paragraph(n.styled(layout::BODY, paragraph));
                    }
                }
            }
        }
    }
    doc
}

/// The DOCX file's bytes.
pub fn docx(export: &SessionExport) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Cursor::new(Vec::new());
    record(export)
        .pack(&mut out)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(out.into_inner())
}
