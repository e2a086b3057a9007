//! `tocky realign SESSION`: words re-timed after corrections, for every
//! segment of a session whose words no longer follow its text.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use tocky_store::Store;

/// `tocky realign`'s arguments.
#[derive(Debug, Args)]
pub(crate) struct RealignArgs {
    /// The session's id (as `tocky ingest` printed it).
    session: i64,
    /// A model name from `tocky model list`, or the path of a ggml file.
    #[arg(short, long, env = "TOCKY_MODEL", default_value = tocky_models::DEFAULT_MODEL)]
    model: String,
    /// Where the session's audio file is (by the name it was transcribed
    /// from); repeat for several. Default: the current directory.
    #[arg(long = "media-dir", value_name = "DIR")]
    media_dirs: Vec<PathBuf>,
    /// CPU threads for the decoder (default: all cores, up to 8).
    #[arg(short = 't', long)]
    threads: Option<usize>,
}

pub(crate) fn run(args: RealignArgs, db: &Path, cache_dir: &Path) -> Result<ExitCode> {
    let mut store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    // Fails early for a session that does not exist.
    let session = store
        .session(args.session)
        .with_context(|| format!("session {}", args.session))?;
    let path = tocky_models::resolve_model(&args.model, cache_dir)?;
    let engine = tocky_asr::Engine::load(&path, &tocky_asr::EngineOptions::default())
        .with_context(|| format!("loading {}", path.display()))?;
    let mut options = tocky_asr::AlignOptions::default();
    if let Some(threads) = args.threads {
        options.threads = threads.max(1);
    }
    let media_dirs = if args.media_dirs.is_empty() {
        vec![std::env::current_dir().context("reading the current directory")?]
    } else {
        args.media_dirs
    };
    let name = session.audio_file.clone().unwrap_or_default();
    if tocky_server::audio::resolve(&media_dirs, &name).is_none() {
        anyhow::bail!(
            "the audio of session {} ({name:?}) is not in {}",
            session.id,
            media_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let locate: tocky_retime::AudioLocator = Box::new(move |session| {
        tocky_server::audio::resolve(&media_dirs, session.audio_file.as_deref()?)
    });
    let retimer = tocky_retime::Retimer::new(Arc::new(engine), options, locate);
    let summary = retimer
        .retime_pending(&mut store, Some(session.id), &mut HashSet::new(), |_| {})
        .context("re-timing words")?;
    outln!(
        "session {}: {} segments re-aligned, {} skipped because they changed meanwhile, {} failed",
        session.id,
        summary.saved,
        summary.changed,
        summary.failed
    )?;
    Ok(if summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
