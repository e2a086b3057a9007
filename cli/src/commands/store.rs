//! `tocky ingest`, `backup` and `restore`: the record on disk.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use tocky_index::{SearchIndex, SearchQuery};
use tocky_store::{IngestOutcome, SessionMeta, Store};

/// The store's file: `$TOCKY_DB`, else `$XDG_DATA_HOME/tocky/tocky.db`,
/// else `~/.local/share/tocky/tocky.db`.
pub(crate) fn default_db() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Path::new(&dir).join("tocky").join("tocky.db");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Path::new(&home).join(".local/share/tocky/tocky.db"),
        None => PathBuf::from("tocky.db"),
    }
}

#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// Transcript JSON files written by `tocky transcribe -f json`.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The session's title (default: the audio file's name).
    #[arg(long)]
    title: Option<String>,
    /// The sitting's date, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    date: Option<String>,
    /// The agenda item.
    #[arg(long)]
    agenda: Option<String>,
}

pub(crate) fn parse_date(s: &str) -> Result<String, String> {
    tocky_core::transcript::check_date(s).map(|()| s.to_owned())
}

/// Opens the index, rebuilding it first when it lags behind the store.
pub(crate) fn open_index(store: &Store) -> Result<SearchIndex> {
    let dir = tocky_index::default_dir(store.path());
    let (index, rebuilt) = SearchIndex::open_synced(&dir, store)
        .with_context(|| format!("opening the search index {}", dir.display()))?;
    if rebuilt {
        tracing::info!(
            "search index rebuilt from the store ({} segments)",
            index.len()
        );
    }
    Ok(index)
}

pub(crate) fn ingest(args: IngestArgs, db: &Path) -> Result<ExitCode> {
    let mut store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let meta = SessionMeta {
        title: args.title,
        sitting_date: args.date,
        agenda_item: args.agenda,
    };
    let actor = whoami();
    let mut failed = 0;
    for file in &args.files {
        match store.ingest_file(file, &meta, &actor) {
            Ok(IngestOutcome::Created {
                session_id,
                segments,
            }) => {
                outln!(
                    "{}: session {session_id}, {segments} segments",
                    file.display()
                )?;
            }
            Ok(IngestOutcome::AlreadyPresent { session_id }) => {
                outln!(
                    "{}: already in the record as session {session_id}",
                    file.display()
                )?;
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {}: {e}", file.display());
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub(crate) fn backup(dest: &Path, db: &Path) -> Result<ExitCode> {
    // The copy is renamed over `dest`: over the record itself, it would
    // cut off every process that has the record open, and their later
    // writes would go to a deleted file.
    if same_file(dest, db) {
        bail!(
            "{} is the record itself; back it up to another file",
            dest.display()
        );
    }
    let store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    store
        .backup(dest)
        .with_context(|| format!("backing up to {}", dest.display()))?;
    outln!("{} backed up to {}", db.display(), dest.display())?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn restore(source: &Path, db: &Path) -> Result<ExitCode> {
    if same_file(source, db) {
        bail!("{} is the record itself, not a backup", source.display());
    }
    let mut store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    // Held until the restore is done, so that no server starts meanwhile.
    let _index = claim_index(&store)?;
    store
        .restore(source)
        .with_context(|| format!("restoring from {}", source.display()))?;
    outln!("{} restored from {}", db.display(), source.display())?;
    Ok(ExitCode::SUCCESS)
}

/// The record's search index, opened for writing, which `tocky serve` and
/// `tocky live` hold while they run: a restore under them would change
/// the record beneath their connections and their index, and a live
/// sitting would go on appending to a session the restore removed.
/// Any other failure to open the index is no reason not to restore: the
/// index is derived, and rebuilt after a restore anyway.
fn claim_index(store: &Store) -> Result<Option<SearchIndex>> {
    let dir = tocky_index::default_dir(store.path());
    match SearchIndex::open(&dir) {
        Ok(index) => Ok(Some(index)),
        Err(e) if e.is_locked() => bail!(
            "{} is in use (its search index {} is locked): stop `tocky serve` or `tocky live` first",
            store.path().display(),
            dir.display()
        ),
        Err(e) => {
            tracing::warn!("search index {}: {e}", dir.display());
            Ok(None)
        }
    }
}

/// Whether two paths name one existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return a.dev() == b.dev() && a.ino() == b.ino();
        }
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The account running the command, for the audit log.
pub(crate) fn whoami() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "cli".into())
}

#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    /// Words with or without diacritics ("quoc hoi" finds "Quốc hội");
    /// "quoted text" is a phrase.
    query: String,
    /// Only this session.
    #[arg(long)]
    session: Option<i64>,
    /// Only this speaker (an id).
    #[arg(long)]
    speaker: Option<i64>,
    /// Sittings on or after this date (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    from: Option<String>,
    /// Sittings on or before this date (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    to: Option<String>,
    /// At most this many hits.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Print the hits as JSON.
    #[arg(long)]
    json: bool,
    /// Only the text as published (each sitting's latest published
    /// version), as the public searches it.
    #[arg(long)]
    published: bool,
}

pub(crate) fn search(args: SearchArgs, db: &Path) -> Result<ExitCode> {
    let store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let index = open_index(&store)?;
    let query = SearchQuery {
        text: args.query,
        session_id: args.session,
        speaker_id: args.speaker,
        from: args.from,
        to: args.to,
        limit: args.limit,
        published: args.published,
    };
    if args.published {
        index.sync_published(&store)?;
    }
    let hits = index.search(&query)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&hits)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if hits.is_empty() {
        eprintln!("no matches");
    }
    for hit in &hits {
        let date = store
            .session(hit.session_id)
            .ok()
            .and_then(|s| s.sitting_date)
            .unwrap_or_else(|| "----------".into());
        let version = hit.version.map(|v| format!(" v{v}")).unwrap_or_default();
        outln!(
            "session {:<4}{version} {date}  {}  {}",
            hit.session_id,
            tocky_core::transcript::format_timestamp(u64::try_from(hit.start_ms).unwrap_or(0)),
            hit.text
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn rebuild_index(db: &Path) -> Result<ExitCode> {
    let store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let dir = tocky_index::default_dir(db);
    let index = SearchIndex::open(&dir)?;
    let started = std::time::Instant::now();
    let count = index.rebuild(&store)?;
    outln!(
        "indexed {count} segments into {} in {:.1} s",
        dir.display(),
        started.elapsed().as_secs_f64()
    )?;
    Ok(ExitCode::SUCCESS)
}
