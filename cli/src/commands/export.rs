//! `tocky export SESSION --format json|txt|srt|vtt|docx|akn|html [--version N]
//! [-o FILE]`: a session exported as the review server exports it (the
//! record: agenda items, speeches under their speakers, scene notes;
//! subtitles timed by re-timed words where aligned), to a file or standard
//! output; with `--version`, a published version from its frozen content.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use tocky_server::export::{Format, SessionExport, html};
use tocky_store::Store;

/// An export format, as typed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ExportFormat {
    /// The session, its record and segments as JSON.
    Json,
    /// The record as plain text.
    Txt,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
    /// The record as a Word document.
    Docx,
    /// The record as an Akoma Ntoso 3.0 `debate` (XML).
    Akn,
    /// The record as a standalone HTML page (a version's with its
    /// corrections).
    Html,
}

impl From<ExportFormat> for Format {
    fn from(f: ExportFormat) -> Self {
        match f {
            ExportFormat::Json => Self::Json,
            ExportFormat::Txt => Self::Txt,
            ExportFormat::Srt => Self::Srt,
            ExportFormat::Vtt => Self::Vtt,
            ExportFormat::Docx => Self::Docx,
            ExportFormat::Akn => Self::Akn,
            ExportFormat::Html => Self::Html,
        }
    }
}

/// `tocky export`'s arguments. Its `--version` is a published version's
/// number, so clap's own `--version` (tocky's) is left to `tocky --version`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub(crate) struct ExportArgs {
    /// The session's id.
    session: i64,
    /// The format.
    #[arg(short, long, value_enum, default_value = "txt")]
    format: ExportFormat,
    /// The file to write (written whole or not at all); standard output
    /// when not given (except for DOCX, which needs a file).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// A published version's number: that version as published, not the
    /// working record.
    #[arg(long)]
    version: Option<i64>,
    /// The written form's fillers (a version published with it frozen
    /// prints what was frozen).
    #[command(flatten)]
    written: super::itn::WrittenArgs,
}

/// Runs `tocky export`.
pub(crate) fn run(args: ExportArgs, db: &Path) -> Result<ExitCode> {
    let format = Format::from(args.format);
    if format == Format::Docx && args.output.is_none() {
        anyhow::bail!("a DOCX export needs a file: add -o FILE.docx");
    }
    let mut store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    store.set_written(args.written.options());
    let export = match args.version {
        Some(number) => load_version(&store, args.session, number)?,
        None => SessionExport::load(&store, args.session)
            .with_context(|| format!("reading session {}", args.session))?,
    };
    let bytes = match (format, args.version) {
        // A version's page lists its corrections and says its state.
        (Format::Html, Some(number)) => {
            let options = html::options(&store, args.session, number)
                .with_context(|| format!("reading version {number} of session {}", args.session))?;
            html::html(&export, &options).into_bytes()
        }
        _ => export.render(format).with_context(|| {
            format!(
                "rendering session {} as {}",
                args.session,
                format.extension()
            )
        })?,
    };
    match args.output {
        Some(path) => tocky_core::atomic::write(&path, &bytes)
            .with_context(|| format!("writing {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Version `number` of `session`; when there is none, an error that names
/// the versions there are.
fn load_version(store: &Store, session: i64, number: i64) -> Result<SessionExport> {
    match SessionExport::load_version(store, session, number) {
        Ok(export) => Ok(export),
        Err(tocky_store::Error::UnknownVersion { .. }) => {
            let numbers: Vec<String> = store
                .versions(session)
                .with_context(|| format!("reading session {session}"))?
                .iter()
                .map(|v| v.number.to_string())
                .collect();
            if numbers.is_empty() {
                anyhow::bail!("session {session} has no published version (no version {number})")
            }
            anyhow::bail!(
                "session {session} has no version {number} (versions: {})",
                numbers.join(", ")
            )
        }
        Err(e) => Err(e).with_context(|| format!("reading version {number} of session {session}")),
    }
}
