//! The export as a printable DOCX record: the title and sitting, each
//! agenda item as a heading, each speech as a paragraph led by its time
//! and speaker, each scene note in italics where it falls.

use std::io::Cursor;

use docx_rs::{Docx, Paragraph, Run};
use tocky_core::transcript::format_clock;

use super::model::{ExportEntry, SessionExport};
use super::text::{item_heading, note_text, sitting_line};

/// `text` with what XML 1.0 cannot hold, even escaped (control characters
/// other than tab and line breaks, U+FFFE, U+FFFF), replaced by spaces: one
/// such character pasted into a segment would otherwise make Word refuse
/// the whole record.
pub(crate) fn xml_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}' => c,
            _ => ' ',
        })
        .collect()
}

/// The DOCX file's bytes.
pub fn docx(export: &SessionExport) -> Result<Vec<u8>, std::io::Error> {
    let mut doc = Docx::new()
        .add_paragraph(
            Paragraph::new().add_run(
                Run::new()
                    .add_text(xml_text(&export.session.title))
                    .bold()
                    .size(32),
            ),
        )
        .add_paragraph(
            Paragraph::new().add_run(Run::new().add_text(xml_text(&sitting_line(export)))),
        );
    for part in &export.record {
        if let Some(item) = &part.item {
            doc = doc.add_paragraph(
                Paragraph::new().add_run(
                    Run::new()
                        .add_text(xml_text(&item_heading(item)))
                        .bold()
                        .size(28),
                ),
            );
        }
        for entry in &part.entries {
            let paragraph = match entry {
                ExportEntry::Note(note) => Paragraph::new().add_run(
                    Run::new()
                        .add_text(xml_text(&format!("({})", note_text(note))))
                        .italic(),
                ),
                ExportEntry::Speech(s) => {
                    let at = format_clock(u64::try_from(s.speech.start_ms).unwrap_or(0));
                    let mut p = Paragraph::new()
                        .add_run(Run::new().add_text(format!("[{at}] ")).color("666666"));
                    if let Some(heading) = &s.heading {
                        p = p.add_run(
                            Run::new()
                                .add_text(xml_text(&format!("{heading}: ")))
                                .bold(),
                        );
                    }
                    p.add_run(Run::new().add_text(xml_text(&s.text)))
                }
            };
            doc = doc.add_paragraph(paragraph);
        }
    }
    let mut out = Cursor::new(Vec::new());
    doc.build()
        .pack(&mut out)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(out.into_inner())
}
