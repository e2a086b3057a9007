//! A session exported as JSON, SRT, WebVTT, plain text, a printable
//! DOCX record, or an Akoma Ntoso 3.0 `debate` ([`akn`]). Every format follows the sitting's record
//! ([`tocky_store::Store::record`]): agenda items, speeches under their
//! speakers (named from the people registry where linked), scene notes
//! where they fall; segments that are not speech are left out. Subtitles
//! are timed by the corrected text's re-timed words where those are
//! aligned, by the segments' bounds where not ([`text::cues`]). A
//! published version is exported from its frozen content
//! ([`SessionExport::load_version`]): always the same bytes.

pub mod akn;
pub mod docx;
pub mod html;
pub mod model;
pub mod text;

use axum::Extension;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub use model::{ExportVersion, SCHEMA, SCHEMA_VERSION, SessionExport};

use serde::Deserialize;

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::state::AppState;
use crate::{ApiPath, ApiQuery};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// [`SessionExport`] as JSON.
    Json,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
    /// The record as plain text.
    Txt,
    /// The record as a Word document.
    Docx,
    /// The record as an Akoma Ntoso 3.0 `debate`.
    Akn,
    /// The record as a standalone HTML page ([`html`]).
    Html,
}

impl Format {
    /// Every format, in the order documented.
    pub const ALL: [Self; 7] = [
        Self::Json,
        Self::Srt,
        Self::Vtt,
        Self::Txt,
        Self::Docx,
        Self::Akn,
        Self::Html,
    ];

    /// Its name, as typed and in URLs; its file extension too but for
    /// AKN's ([`Format::file_extension`]).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Srt => "srt",
            Self::Vtt => "vtt",
            Self::Txt => "txt",
            Self::Docx => "docx",
            Self::Akn => "akn",
            Self::Html => "html",
        }
    }

    /// The extension of its files: AKN's say they are XML.
    pub fn file_extension(self) -> &'static str {
        match self {
            Self::Akn => "akn.xml",
            other => other.extension(),
        }
    }

    /// Its media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Srt => "application/x-subrip; charset=utf-8",
            Self::Vtt => "text/vtt; charset=utf-8",
            Self::Txt => "text/plain; charset=utf-8",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Akn => akn::MEDIA_TYPE,
            Self::Html => html::MEDIA_TYPE,
        }
    }

    /// The format named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.extension() == name)
    }
}

impl SessionExport {
    /// The export's bytes in `format`.
    pub fn render(&self, format: Format) -> Result<Vec<u8>, std::io::Error> {
        Ok(match format {
            Format::Json => serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?,
            Format::Srt => text::srt(self).into_bytes(),
            Format::Vtt => text::vtt(self).into_bytes(),
            Format::Txt => text::txt(self).into_bytes(),
            Format::Docx => docx::docx(self)?,
            Format::Akn => akn::akn(self)?,
            Format::Html => html::html(self, &html::HtmlOptions::default()).into_bytes(),
        })
    }
}

/// `?version=N`: a published version instead of the working record.
#[derive(Debug, Deserialize)]
pub(crate) struct ExportParams {
    version: Option<i64>,
}

pub(crate) async fn export(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath((id, format)): ApiPath<(i64, String)>,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    viewer.require_public()?;
    let Some(format) = Format::parse(&format) else {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.extension()).collect();
        return Err(ApiError::BadRequest(format!(
            "unknown export format {format:?} ({})",
            names.join(", ")
        )));
    };
    let drafts = viewer.sees_drafts();
    let (export, options, version) = state
        .with_store(move |store, _| {
            // A visitor without a login reads published versions only: the
            // one asked for, else the latest (404 when there is none).
            let version = match params.version {
                None if !drafts => Some(crate::public::latest_number(store, id)?),
                version => version,
            };
            let export = match version {
                Some(number) => SessionExport::load_version(store, id, number)?,
                None => SessionExport::load(store, id)?,
            };
            let options = match (format, version) {
                (Format::Html, Some(number)) => html::options(store, id, number)?,
                _ => html::HtmlOptions::default(),
            };
            Ok((export, options, version))
        })
        .await?;
    let body = tokio::task::spawn_blocking(move || match format {
        Format::Html => Ok(html::html(&export, &options).into_bytes()),
        _ => export.render(format),
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let name = match version {
        Some(number) => format!("session-{id}-v{number}"),
        None => format!("session-{id}"),
    };
    let disposition = format!(
        "attachment; filename=\"{name}.{}\"",
        format.file_extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
