//! A session exported as JSON, SRT, WebVTT, plain text, or a printable
//! DOCX record (heading, speakers, text).

use std::collections::HashMap;
use std::io::Cursor;

use axum::Extension;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use docx_rs::{Docx, Paragraph, Run};
use serde::Serialize;
use tocky_core::render;
use tocky_core::transcript::format_clock;
use tocky_core::{Segment, Transcript};
use tocky_store::{Session, Speaker, StoredSegment};

use crate::ApiPath;
use crate::auth::Viewer;
use crate::error::ApiError;
use crate::state::AppState;

/// `text` with what XML 1.0 cannot hold, even escaped (control characters
/// other than tab and line breaks, U+FFFE, U+FFFF), replaced by spaces: one
/// such character pasted into a segment would otherwise make Word refuse
/// the whole record.
fn xml_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}' => c,
            _ => ' ',
        })
        .collect()
}

/// Everything an export needs.
#[derive(Debug, Serialize)]
struct SessionRecord {
    schema: &'static str,
    session: Session,
    speakers: Vec<Speaker>,
    segments: Vec<StoredSegment>,
}

impl SessionRecord {
    fn speaker_names(&self) -> HashMap<i64, &str> {
        self.speakers
            .iter()
            .map(|s| (s.id, s.name.as_str()))
            .collect()
    }

    /// The segments as a transcript, each text led by its speaker's name;
    /// the renderers keep it on one line, with nothing that subtitle
    /// formats read as syntax ([`render::cue_line`]).
    fn transcript(&self) -> Transcript {
        let names = self.speaker_names();
        Transcript {
            language: self.session.language.clone(),
            duration_ms: u64::try_from(self.session.duration_ms).unwrap_or(0),
            segments: self
                .segments
                .iter()
                .map(|s| Segment {
                    start_ms: u64::try_from(s.start_ms).unwrap_or(0),
                    end_ms: u64::try_from(s.end_ms).unwrap_or(0),
                    text: match s.speaker_id.and_then(|id| names.get(&id)) {
                        Some(name) => format!("{name}: {}", s.text),
                        None => s.text.clone(),
                    },
                    channel: s.channel.and_then(|c| u32::try_from(c).ok()),
                    ..Segment::default()
                })
                .collect(),
        }
    }

    fn docx(&self) -> Result<Vec<u8>, ApiError> {
        let names = self.speaker_names();
        let sitting = xml_text(&format!(
            "Ngày họp: {}{}",
            self.session.sitting_date.as_deref().unwrap_or("—"),
            self.session
                .agenda_item
                .as_deref()
                .map(|a| format!(" · Nội dung: {a}"))
                .unwrap_or_default()
        ));
        let mut doc = Docx::new()
            .add_paragraph(
                Paragraph::new().add_run(
                    Run::new()
                        .add_text(xml_text(&self.session.title))
                        .bold()
                        .size(32),
                ),
            )
            .add_paragraph(Paragraph::new().add_run(Run::new().add_text(sitting)));
        // One paragraph per turn: consecutive segments of one speaker join.
        let mut previous: Option<Option<i64>> = None;
        let mut paragraph: Option<Paragraph> = None;
        for s in &self.segments {
            if previous != Some(s.speaker_id) {
                if let Some(p) = paragraph.take() {
                    doc = doc.add_paragraph(p);
                }
                let mut p = Paragraph::new().add_run(
                    Run::new()
                        .add_text(format!(
                            "[{}] ",
                            format_clock(u64::try_from(s.start_ms).unwrap_or(0))
                        ))
                        .color("666666"),
                );
                if let Some(name) = s.speaker_id.and_then(|id| names.get(&id)) {
                    p = p.add_run(Run::new().add_text(xml_text(&format!("{name}: "))).bold());
                }
                paragraph = Some(p);
                previous = Some(s.speaker_id);
            }
            paragraph = paragraph
                .map(|p| p.add_run(Run::new().add_text(xml_text(&format!("{} ", s.text)))));
        }
        if let Some(p) = paragraph {
            doc = doc.add_paragraph(p);
        }
        let mut out = Cursor::new(Vec::new());
        doc.build().pack(&mut out).map_err(ApiError::internal)?;
        Ok(out.into_inner())
    }
}

pub(crate) async fn export(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath((id, format)): ApiPath<(i64, String)>,
) -> Result<Response, ApiError> {
    viewer.require_read()?;
    let (extension, content_type) = match format.as_str() {
        "json" => ("json", "application/json"),
        "srt" => ("srt", "application/x-subrip; charset=utf-8"),
        "vtt" => ("vtt", "text/vtt; charset=utf-8"),
        "txt" => ("txt", "text/plain; charset=utf-8"),
        "docx" => (
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        other => {
            return Err(ApiError::BadRequest(format!(
                "unknown export format {other:?} (json, srt, vtt, txt or docx)"
            )));
        }
    };
    let record = state
        .with_store(move |store, _| {
            Ok(SessionRecord {
                schema: "tocky.session",
                session: store.session(id)?,
                speakers: store.speakers(id)?,
                segments: store.segments(id)?,
            })
        })
        .await?;
    let body = match extension {
        "json" => serde_json::to_vec_pretty(&record).map_err(ApiError::internal)?,
        "srt" => render::srt(&record.transcript()).into_bytes(),
        "vtt" => render::vtt(&record.transcript()).into_bytes(),
        "txt" => render::txt(&record.transcript()).into_bytes(),
        _ => tokio::task::spawn_blocking(move || record.docx())
            .await
            .map_err(ApiError::internal)??,
    };
    let disposition = format!("attachment; filename=\"session-{id}.{extension}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
