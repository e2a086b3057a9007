//! `tocky transcribe`: audio files and directories to transcripts.
//!
//! The work is `tocky_batch`'s (inputs, output names, checkpoints,
//! resume, the worker pool); this module parses the arguments, draws the
//! progress bar from the pool's events, prints transcripts to standard
//! output when there is no `--output-dir`, and prints the summary.
//!
//! With `--output-dir`, each input gets its transcript files there (the
//! directory layout of a scanned folder is mirrored), written atomically;
//! a rerun skips inputs whose JSON already carries their content hash.
//! While a file is transcribed, a checkpoint beside its outputs
//! (`NAME.checkpoint-mix.json`, or `-chN` per channel) records the
//! segments so far, at most every [`tocky_batch::CHECKPOINT_EVERY`]; a
//! rerun after a crash or Ctrl-C resumes the file there, and the
//! checkpoint goes once the outputs are written. Without `--output-dir`,
//! transcripts go to standard output and nothing is resumed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tocky_asr::{Guards, TranscribeOptions};
use tocky_audio::vad::VadOptions;
use tocky_batch::{
    BatchOptions, CancelToken, Channels, Event, FileJob, ModelId, Observer, Outcome, Summary,
};
use tocky_core::document::TranscriptDocument;
use tocky_core::transcript::format_clock;

use super::DecoderArgs;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
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

impl From<Format> for tocky_batch::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Text => Self::Text,
            Format::Json => Self::Json,
            Format::Srt => Self::Srt,
            Format::Vtt => Self::Vtt,
            Format::Txt => Self::Txt,
        }
    }
}

fn parse_channels(s: &str) -> Result<Channels, String> {
    match s {
        "mix" | "downmix" => Ok(Channels::Downmix),
        "all" | "each" => Ok(Channels::Each),
        n => n
            .parse()
            .map(Channels::One)
            .map_err(|_| format!("{n:?} is not a channel number, `mix` or `all`")),
    }
}

#[derive(Debug, Args)]
pub(crate) struct TranscribeArgs {
    /// Audio files, or directories to scan recursively.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Which files to take from directories (matched on the file name, case-insensitively).
    #[arg(long, default_value = tocky_batch::DEFAULT_GLOB)]
    glob: String,
    #[command(flatten)]
    decoder: DecoderArgs,
    /// Files transcribed at once, sharing one copy of the model.
    #[arg(short = 'j', long, default_value_t = 1)]
    jobs: usize,
    /// `mix` (the default) averages all channels; N keeps channel N (from 0);
    /// `all` transcribes each channel separately and labels segments with it.
    #[arg(long, value_name = "mix|N|all", default_value = "mix", value_parser = parse_channels)]
    channel: Channels,
    /// Output formats, comma-separated.
    #[arg(short, long, value_enum, value_delimiter = ',', default_value = "text")]
    format: Vec<Format>,
    /// Write transcripts here instead of to standard output; reruns skip finished files.
    #[arg(short, long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Transcribe again even when the output is up to date.
    #[arg(long)]
    force: bool,
    /// Decode all the audio, silence included, with no voice activity
    /// detection (as plain whisper.cpp does; holds the whole file in memory).
    #[arg(long)]
    no_vad: bool,
}

pub(crate) fn run(args: TranscribeArgs, cache_dir: &Path) -> Result<ExitCode> {
    if args.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let (inputs, mut missing) =
        match tocky_batch::collect_inputs(&args.paths, &args.glob, args.output_dir.as_deref()) {
            Ok(found) => found,
            Err(tocky_batch::Error::BadGlob { glob, source }) => {
                return Err(anyhow::Error::new(source).context(format!("bad --glob {glob:?}")));
            }
            Err(e) => return Err(e.into()),
        };
    let (engine, model_path) = args.decoder.load(cache_dir)?;
    // Cores are shared among the workers that run, not those asked for:
    // `--jobs 4` on one file keeps all the cores for it.
    let workers = args.jobs.min(inputs.len().max(1));
    let opts = BatchOptions {
        formats: args.format.iter().map(|f| (*f).into()).collect(),
        output_dir: args.output_dir.clone(),
        channels: args.channel,
        force: args.force,
        transcribe: TranscribeOptions {
            decode: args.decoder.decode_options(workers),
            vad: (!args.no_vad).then(VadOptions::default),
            guards: Guards::default(),
        },
        model: ModelId::of(&model_path),
        workers,
        checkpoint_every: tocky_batch::CHECKPOINT_EVERY,
    };
    let jobs: Vec<FileJob> = inputs.into_iter().map(FileJob::new).collect();

    // Total audio for the progress bar, from the containers' headers.
    let total_ms: u64 = jobs.iter().filter_map(|j| j.declared_ms).sum();
    let cancel = CancelToken::new();
    let reporter = Reporter {
        bar: progress_bar(total_ms, args.output_dir.is_some()),
        done_ms: AtomicU64::new(0),
        started: Instant::now(),
        jobs: &jobs,
        stdout: args.output_dir.is_none().then_some(args.format.as_slice()),
        stdout_lock: Mutex::new(()),
        stdout_closed: AtomicBool::new(false),
        print_failures: Mutex::new(Vec::new()),
        cancel: &cancel,
    };
    let mut outcomes = tocky_batch::run(&engine, &jobs, &opts, &reporter, &cancel);
    reporter.bar.finish_and_clear();
    if reporter.stdout_closed.load(Ordering::Relaxed) {
        return Err(crate::out::StdoutClosed.into());
    }
    let print_failures = reporter.print_failures.into_inner().unwrap_or_default();
    for (i, reason) in print_failures {
        if let Some(outcome) = outcomes.get_mut(i) {
            *outcome = Outcome::Failed(reason);
        }
    }

    for (path, reason) in &missing {
        eprintln!("error: {}: {reason}", path.display());
    }
    let failed = summarise(
        &jobs,
        &outcomes,
        reporter.started.elapsed(),
        args.output_dir.is_some(),
    ) + missing.len();
    missing.clear();
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The pool's observer: the progress bar, error lines, and transcripts
/// on standard output.
struct Reporter<'a> {
    bar: ProgressBar,
    /// Audio passed over all files.
    done_ms: AtomicU64,
    started: Instant,
    jobs: &'a [FileJob],
    /// The formats to print, when transcripts go to standard output.
    stdout: Option<&'a [Format]>,
    /// One transcript at a time on standard output.
    stdout_lock: Mutex<()>,
    /// Set when standard output's reader has gone: no one wants more.
    stdout_closed: AtomicBool,
    /// Files transcribed whose printing failed, with the reason.
    print_failures: Mutex<Vec<(usize, String)>>,
    cancel: &'a CancelToken,
}

impl Observer for Reporter<'_> {
    fn event(&self, i: usize, event: Event<'_>) {
        match event {
            Event::Progress { advanced_ms, .. } => {
                let total = self.done_ms.fetch_add(advanced_ms, Ordering::Relaxed) + advanced_ms;
                self.bar.set_position(total);
                let rtf = total as f64 / 1000.0 / self.started.elapsed().as_secs_f64().max(1e-3);
                self.bar.set_message(format!("{rtf:.1}x real time"));
            }
            Event::Done { doc, .. } => self.print(i, doc),
            Event::Failed { reason } => self.error_line(i, reason),
            Event::Started | Event::Skipped { .. } | Event::Cancelled => {}
        }
    }
}

impl Reporter<'_> {
    /// Prints a finished transcript, when they go to standard output.
    fn print(&self, i: usize, doc: &TranscriptDocument) {
        let (Some(formats), Some(job)) = (self.stdout, self.jobs.get(i)) else {
            return;
        };
        let _guard = self.stdout_lock.lock();
        if self.stdout_closed.load(Ordering::Relaxed) {
            return;
        }
        let many = self.jobs.len() > 1;
        if let Err(e) = print_to_stdout(doc, &job.source, formats, many) {
            if e.is::<crate::out::StdoutClosed>() {
                self.stdout_closed.store(true, Ordering::Relaxed);
                self.cancel.cancel();
                return;
            }
            let reason = format!("{e:#}");
            self.error_line(i, &reason);
            if let Ok(mut failures) = self.print_failures.lock() {
                failures.push((i, reason));
            }
        }
    }

    /// `error: FILE: reason`, above the progress bar.
    fn error_line(&self, i: usize, reason: &str) {
        let Some(job) = self.jobs.get(i) else { return };
        // Audio errors already name the file.
        let prefix = format!("{}: ", job.source.display());
        let reason = reason.strip_prefix(&prefix).unwrap_or(reason);
        self.bar
            .suspend(|| eprintln!("error: {}: {reason}", job.source.display()));
    }
}

fn progress_bar(total_ms: u64, visible: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total_ms), ProgressDrawTarget::stderr());
    if !visible {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let style =
        ProgressStyle::with_template("{bar:30} {audio} of {total_audio} audio · {msg} · ETA {eta}")
            .map(|s| {
                s.with_key(
                    "audio",
                    |st: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.2} h", st.pos() as f64 / 3.6e6);
                    },
                )
                .with_key(
                    "total_audio",
                    |st: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.2} h", st.len().unwrap_or(0) as f64 / 3.6e6);
                    },
                )
            });
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}

fn print_to_stdout(
    doc: &TranscriptDocument,
    source: &Path,
    formats: &[Format],
    many: bool,
) -> Result<()> {
    for format in formats {
        if many && *format == Format::Text {
            outln!("# {}", source.display())?;
        }
        out!("{}", tocky_batch::Format::from(*format).render(doc))?;
    }
    Ok(())
}

/// Prints the summary table to stderr; returns the number of failures.
fn summarise(jobs: &[FileJob], outcomes: &[Outcome], wall: Duration, table: bool) -> usize {
    let mut failed = 0;
    let (mut audio_total, mut done, mut skipped) = (0u64, 0, 0);
    let mut rows = Vec::new();
    for (job, outcome) in jobs.iter().zip(outcomes) {
        let name = job.source.display().to_string();
        match outcome {
            Outcome::Done(Summary {
                audio_ms,
                wall,
                segments,
                resumed_at_ms,
                ..
            }) => {
                done += 1;
                audio_total += audio_ms;
                // The speed of this run: over the audio it decoded itself.
                let decoded_ms = audio_ms.saturating_sub(resumed_at_ms.unwrap_or(0));
                let rtf = decoded_ms as f64 / 1000.0 / wall.as_secs_f64().max(1e-3);
                let resumed = resumed_at_ms.map_or_else(String::new, |ms| {
                    format!(" (resumed at {})", format_clock(ms))
                });
                rows.push(format!(
                    "done     {:>9}  {rtf:>6.1}x  {segments:>5} seg  {name}{resumed}",
                    format_clock(*audio_ms)
                ));
            }
            Outcome::Skipped { audio_ms } => {
                skipped += 1;
                rows.push(format!(
                    "skipped  {:>9}  {:>7}  {:>9}  {name} (up to date)",
                    format_clock(*audio_ms),
                    "",
                    ""
                ));
            }
            Outcome::Failed(reason) => {
                failed += 1;
                let first = reason.lines().next().unwrap_or_default();
                rows.push(format!(
                    "FAILED   {:>9}  {:>7}  {:>9}  {name}: {first}",
                    "", "", ""
                ));
            }
            Outcome::Cancelled => {
                failed += 1;
                rows.push(format!("FAILED   {name}: not transcribed"));
            }
        }
    }
    if table {
        eprintln!("status   audio       speed    segments  file");
        for row in rows {
            eprintln!("{row}");
        }
    }
    let speed = audio_total as f64 / 1000.0 / wall.as_secs_f64().max(1e-3);
    eprintln!(
        "{done} transcribed, {skipped} up to date, {failed} failed; {} of audio in {} ({speed:.1}x real time)",
        format_clock(audio_total),
        format_clock(wall.as_millis() as u64)
    );
    failed
}
