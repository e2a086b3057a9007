//! `tocky`: speech-to-text for the plenary sessions of Vietnam's National Assembly.

#[macro_use]
mod out;
mod commands;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// tocky (tốc ký, stenography) turns recorded or live Vietnamese speech into
/// timestamped transcripts with Whisper, running on this machine.
///
/// Start with `tocky model fetch`, then `tocky transcribe FILE`.
#[derive(Debug, Parser)]
#[command(
    name = "tocky",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    /// Where models and downloads are cached.
    #[arg(long, global = true, env = "TOCKY_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,

    /// The record's database file.
    #[arg(long, global = true, env = "TOCKY_DB", value_name = "FILE")]
    db: Option<PathBuf>,

    /// Show more of what happens (repeat for more detail).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Transcribe audio files and print timestamped segments.
    Transcribe(commands::transcribe::TranscribeArgs),
    /// Import transcript JSON files into the record (a re-import is a no-op).
    Ingest(commands::store::IngestArgs),
    /// Copy the record to FILE, consistently, even while it is in use.
    Backup {
        /// Where to write the copy.
        dest: PathBuf,
    },
    /// Replace the record with a backup (stop `tocky serve` first).
    Restore {
        /// The backup to bring back.
        source: PathBuf,
    },
    /// Search the record, with or without diacritics.
    Search(commands::store::SearchArgs),
    /// Export a session's record as JSON, text, SRT, WebVTT, DOCX or Akoma Ntoso.
    Export(commands::export::ExportArgs),
    /// Manage the search index.
    #[command(subcommand)]
    Index(IndexCommand),
    /// Score transcripts against reference texts (WER and CER).
    Eval(commands::eval::EvalArgs),
    /// Run the review server: the web UI for stenographers and journalists.
    Serve(commands::serve::ServeArgs),
    /// Manage the review server's accounts.
    #[command(subcommand)]
    User(commands::serve::UserCommand),
    /// Manage API keys for scripts and OpenAI-compatible clients (`/v1`).
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
    /// Run transcription jobs from a review server on this machine (over HTTP, with an API key).
    Worker(commands::worker::WorkerArgs),
    /// Run a live sitting: capture, transcribe as people speak, and serve the review UI.
    Live(Box<commands::live::LiveArgs>),
    /// Manage the registry of people who speak in the Assembly.
    #[command(subcommand)]
    People(commands::people::PeopleCommand),
    /// Set and show a sitting's agenda (from a TOML file).
    #[command(subcommand)]
    Agenda(commands::agenda::AgendaCommand),
    /// A sitting's workflow: checked, approved, published (frozen versions), final.
    #[command(subcommand)]
    Workflow(commands::workflow::WorkflowCommand),
    /// Write lines of speech on standard input in the record's written form
    /// (numbers, dates, percentages, legal references; fillers removed).
    Itn(commands::itn::ItnArgs),
    /// Re-time the words of a session's corrected segments against its audio.
    Realign(commands::realign::RealignArgs),
    /// List the audio input devices, with their channels and sample rates.
    Devices,
    /// Fetch, convert and inspect Whisper models.
    #[command(subcommand)]
    Model(commands::model::ModelCommand),
}

#[derive(Debug, Subcommand)]
enum IndexCommand {
    /// Rebuild the search index from the record.
    Rebuild,
}

fn main() -> ExitCode {
    // symphonia panics on some malformed files; the decoder turns those into
    // errors, and their "panicked" message must not reach the terminal.
    tocky_audio::quiet_contained_panics();
    let cli = Cli::parse();
    // By default only tocky's own warnings reach the user: libraries log
    // what tocky reports better itself (symphonia's "probe reached EOF"
    // above tocky's "not an audio file"). `-v` shows everyone's.
    let filter = match cli.verbose {
        0 => "off,tocky=warn",
        1 => "info,whisper_rs=warn",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TOCKY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let cache_dir = cli
        .cache_dir
        .unwrap_or_else(tocky_models::default_cache_dir);
    let db = cli.db.unwrap_or_else(commands::store::default_db);
    let result = match cli.command {
        Command::Ingest(args) => commands::store::ingest(args, &db),
        Command::Backup { dest } => commands::store::backup(&dest, &db),
        Command::Restore { source } => commands::store::restore(&source, &db),
        Command::Search(args) => commands::store::search(args, &db),
        Command::Export(args) => commands::export::run(args, &db),
        Command::Index(IndexCommand::Rebuild) => commands::store::rebuild_index(&db),
        Command::Serve(args) => commands::serve::serve(args, &db, &cache_dir),
        Command::User(cmd) => commands::serve::user(cmd, &db),
        Command::Token(cmd) => commands::token::run(cmd, &db),
        Command::Worker(args) => commands::worker::run(args, &cache_dir),
        Command::People(cmd) => commands::people::run(cmd, &db),
        Command::Agenda(cmd) => commands::agenda::run(cmd, &db),
        Command::Workflow(cmd) => commands::workflow::run(cmd, &db),
        Command::Transcribe(args) => commands::transcribe::run(args, &cache_dir),
        Command::Eval(args) => commands::eval::run(args, &cache_dir),
        Command::Model(cmd) => commands::model::run(cmd, &cache_dir),
        Command::Live(args) => commands::live::run(*args, &db, &cache_dir),
        Command::Realign(args) => commands::realign::run(args, &db, &cache_dir),
        Command::Devices => commands::devices::run(),
        Command::Itn(args) => commands::itn::run(args),
    };
    match result {
        Ok(code) => code,
        // `tocky … | head`: the reader has what it wanted.
        Err(e) if e.is::<out::StdoutClosed>() => ExitCode::from(out::STDOUT_CLOSED_STATUS),
        Err(e) => {
            eprintln!("error: {}", out::error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand's arguments are consistent (unique names, valid
    /// conflicts and requirements): clap checks this only when a command
    /// is parsed, so check them all here.
    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
