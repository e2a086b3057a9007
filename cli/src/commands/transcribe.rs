//! `tocky transcribe`: audio files and directories to transcripts.
//!
//! With `--output-dir`, each input gets its transcript files there (the
//! directory layout of a scanned folder is mirrored), written atomically;
//! a rerun skips inputs whose JSON already carries their content hash.
//! While a file is transcribed, a checkpoint beside its outputs
//! (`NAME.checkpoint-mix.json`, or `-chN` per channel) records the
//! segments so far, at most every [`CHECKPOINT_EVERY`]; a rerun after a
//! crash or Ctrl-C resumes the file there, and the checkpoint goes once the
//! outputs are written. Without `--output-dir`, transcripts go to standard
//! output and nothing is resumed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tocky_asr::{Checkpoint, Engine, Guards, ReaderHooks, TranscribeOptions};

use super::DecoderArgs;
use checkpoint::{CheckpointFile, Saved, checkpoint_path, settings_key};
use tocky_audio::vad::VadOptions;
use tocky_audio::{AudioReader, ChannelSelection, DecodeOptions as AudioOptions};
use tocky_core::document::{DecoderInfo, SourceInfo, TranscriptDocument};
use tocky_core::render;
use tocky_core::transcript::{Transcript, format_clock, format_timestamp};

mod checkpoint;

/// How often, at most, a file's checkpoint is rewritten: a crash loses at
/// most this much decoding (plus the window in flight).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(10);

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

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Self::Text => "text.txt",
            Self::Json => "json",
            Self::Srt => "srt",
            Self::Vtt => "vtt",
            Self::Txt => "txt",
        }
    }

    fn render(self, doc: &TranscriptDocument) -> String {
        let t = &doc.transcript;
        match self {
            Self::Text => timestamped(t),
            Self::Json => doc.to_json() + "\n",
            Self::Srt => render::srt(t),
            Self::Vtt => render::vtt(t),
            Self::Txt => render::txt(t),
        }
    }
}

fn timestamped(t: &Transcript) -> String {
    let mut out = String::new();
    for s in &t.segments {
        let channel = s.channel.map(|c| format!(" ch{c}")).unwrap_or_default();
        out.push_str(&format!(
            "[{} --> {}]{channel}  {}\n",
            format_timestamp(s.start_ms),
            format_timestamp(s.end_ms),
            s.text
        ));
    }
    out
}

/// Which channels to transcribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channels {
    Downmix,
    One(usize),
    Each,
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

/// Audio files taken from directories by default.
const DEFAULT_GLOB: &str = "*.{wav,flac,mp3,ogg,oga,m4a,mp4,aac,mkv,mka,webm}";

#[derive(Debug, Args)]
pub(crate) struct TranscribeArgs {
    /// Audio files, or directories to scan recursively.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Which files to take from directories (matched on the file name, case-insensitively).
    #[arg(long, default_value = DEFAULT_GLOB)]
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

/// One input and where its outputs go.
#[derive(Debug, Clone)]
struct Input {
    path: PathBuf,
    /// The output path without extension, relative to the output directory.
    stem: PathBuf,
}

enum Outcome {
    Done {
        audio_ms: u64,
        wall: Duration,
        segments: usize,
        /// Where an interrupted earlier run left off, if it did.
        resumed_at_ms: Option<u64>,
    },
    Skipped {
        audio_ms: u64,
    },
    Failed(String),
}

pub(crate) fn run(args: TranscribeArgs, cache_dir: &Path) -> Result<ExitCode> {
    if args.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let (inputs, mut missing) =
        collect_inputs(&args.paths, &args.glob, args.output_dir.as_deref())?;
    let (engine, model_path) = args.decoder.load(cache_dir)?;
    // Cores are shared among the workers that run, not those asked for:
    // `--jobs 4` on one file keeps all the cores for it.
    let workers = args.jobs.min(inputs.len().max(1));
    let opts = TranscribeOptions {
        decode: args.decoder.decode_options(workers),
        vad: (!args.no_vad).then(VadOptions::default),
        guards: Guards::default(),
    };
    let model = ModelId::of(&model_path);

    // Total audio for the progress bar, from the containers' headers.
    let total_ms: u64 = inputs.iter().filter_map(|i| declared_ms(&i.path)).sum();
    let bar = progress_bar(total_ms, args.output_dir.is_some());
    let done_ms = AtomicU64::new(0);
    let started = Instant::now();

    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Outcome>>> =
        Mutex::new((0..inputs.len()).map(|_| None).collect());
    let stdout_lock = Mutex::new(());
    // Set when standard output's reader has gone: no one wants more.
    let stdout_closed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    if stdout_closed.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(i) else { break };
                    let mut reported = 0u64;
                    let mut on_progress = |ms: u64| {
                        let delta = ms.saturating_sub(reported);
                        reported = reported.max(ms);
                        let total = done_ms.fetch_add(delta, Ordering::Relaxed) + delta;
                        bar.set_position(total);
                        let rtf = total as f64 / 1000.0 / started.elapsed().as_secs_f64().max(1e-3);
                        bar.set_message(format!("{rtf:.1}x real time"));
                    };
                    let outcome = match transcribe_input(
                        &engine,
                        input,
                        &args,
                        &opts,
                        &model,
                        &mut on_progress,
                    ) {
                        Ok((outcome, doc)) => {
                            if let (Some(doc), None) = (doc, &args.output_dir) {
                                let _guard = stdout_lock.lock();
                                let many = inputs.len() > 1;
                                if let Err(e) = print_to_stdout(&doc, input, &args.format, many) {
                                    if e.is::<crate::out::StdoutClosed>() {
                                        stdout_closed.store(true, Ordering::Relaxed);
                                        break;
                                    }
                                    Outcome::Failed(format!("{e:#}"))
                                } else {
                                    outcome
                                }
                            } else {
                                outcome
                            }
                        }
                        Err(e) => Outcome::Failed(format!("{e:#}")),
                    };
                    if let Outcome::Failed(reason) = &outcome {
                        // Audio errors already name the file.
                        let prefix = format!("{}: ", input.path.display());
                        let reason = reason.strip_prefix(&prefix).unwrap_or(reason);
                        bar.suspend(|| eprintln!("error: {}: {reason}", input.path.display()));
                    }
                    if let Ok(mut all) = outcomes.lock() {
                        all[i] = Some(outcome);
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    if stdout_closed.into_inner() {
        return Err(crate::out::StdoutClosed.into());
    }

    let outcomes = outcomes.into_inner().unwrap_or_default();
    for (path, reason) in &missing {
        eprintln!("error: {}: {reason}", path.display());
    }
    let failed = summarise(
        &inputs,
        &outcomes,
        started.elapsed(),
        args.output_dir.is_some(),
    ) + missing.len();
    missing.clear();
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Expands directories; returns the inputs and the paths that do not exist.
/// A path given that could not be used, with the reason.
type Unusable = (PathBuf, String);

/// In a scanned folder, what an earlier run wrote to `output_dir` is not
/// an input, however wide `glob` is.
fn collect_inputs(
    paths: &[PathBuf],
    glob: &str,
    output_dir: Option<&Path>,
) -> Result<(Vec<Input>, Vec<Unusable>)> {
    let matcher = globset::GlobBuilder::new(glob)
        .case_insensitive(true)
        .literal_separator(false)
        .build()
        .with_context(|| format!("bad --glob {glob:?}"))?
        .compile_matcher();
    let mut inputs = Vec::new();
    let mut missing = Vec::new();
    let outputs = output_dir.and_then(|d| std::fs::canonicalize(d).ok());
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .follow_links(true)
                .into_iter()
                .filter_map(|e| match e {
                    Ok(e) => Some(e),
                    Err(err) => {
                        missing.push((path.clone(), format!("cannot scan: {err}")));
                        None
                    }
                })
                .filter(|e| e.file_type().is_file() && matcher.is_match(e.file_name()))
                .filter(|e| outputs.as_deref().is_none_or(|o| !is_output(e.path(), o)))
                .map(walkdir::DirEntry::into_path)
                .collect();
            found.sort();
            for file in found {
                let rel = file.strip_prefix(path).unwrap_or(&file).with_extension("");
                inputs.push(Input {
                    path: file,
                    stem: rel,
                });
            }
        } else if path.exists() {
            let stem = PathBuf::from(path.file_stem().unwrap_or(path.as_os_str()));
            inputs.push(Input {
                path: path.clone(),
                stem,
            });
        } else {
            missing.push((path.clone(), "no such file or directory".into()));
        }
    }
    disambiguate_stems(&mut inputs);
    Ok((inputs, missing))
}

/// Whether `file` is one that `tocky transcribe -o outputs` writes: a
/// transcript, a checkpoint or a partial file, in that folder or below.
fn is_output(file: &Path, outputs: &Path) -> bool {
    let written = ["json", "srt", "vtt", "txt", "partial"]
        .iter()
        .any(|ext| file.extension().is_some_and(|e| e == *ext));
    written && std::fs::canonicalize(file).is_ok_and(|f| f.starts_with(outputs))
}

/// Inputs that would write the same outputs (`a.wav` and `a.flac`, or the
/// same name in two folders given on the command line) keep their
/// extension in the output name (`a.wav.json`, `a.flac.json`), so that
/// neither overwrites the other; a file given twice is transcribed once.
fn disambiguate_stems(inputs: &mut Vec<Input>) {
    let mut seen = std::collections::HashSet::new();
    inputs.retain(|i| seen.insert(i.path.clone()));
    let mut count = std::collections::HashMap::new();
    for input in inputs.iter() {
        *count.entry(input.stem.clone()).or_insert(0usize) += 1;
    }
    for input in inputs.iter_mut() {
        if count.get(&input.stem).is_some_and(|&n| n > 1)
            && let Some(ext) = input.path.extension()
        {
            let mut stem = input.stem.clone().into_os_string();
            stem.push(".");
            stem.push(ext);
            input.stem = PathBuf::from(stem);
        }
    }
    // Still the same (one name in two folders): number the later ones.
    let mut taken = std::collections::HashSet::new();
    for input in inputs.iter_mut() {
        let mut candidate = input.stem.clone();
        let mut n = 1;
        while !taken.insert(candidate.clone()) {
            n += 1;
            let mut numbered = input.stem.clone().into_os_string();
            numbered.push(format!("-{n}"));
            candidate = PathBuf::from(numbered);
        }
        input.stem = candidate;
    }
}

fn declared_ms(path: &Path) -> Option<u64> {
    let reader = AudioReader::open(path, &AudioOptions::default()).ok()?;
    let info = reader.info();
    // A lying header can declare any length: saturate rather than overflow.
    Some(info.declared_frames?.saturating_mul(1000) / u64::from(info.sample_rate.max(1)))
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

/// Transcribes one input, or skips it when its outputs are up to date.
fn transcribe_input(
    engine: &Engine,
    input: &Input,
    args: &TranscribeArgs,
    opts: &TranscribeOptions,
    model: &ModelId,
    progress: &mut dyn FnMut(u64),
) -> Result<(Outcome, Option<TranscriptDocument>)> {
    let bytes = std::fs::metadata(&input.path)
        .with_context(|| "cannot read the file")?
        .len();
    let sha256 = tocky_models::sha256_file(&input.path)?;
    let outputs: Vec<(Format, PathBuf)> = match &args.output_dir {
        Some(dir) => args
            .format
            .iter()
            .map(|f| (*f, output_path(dir, &input.stem, *f)))
            .collect(),
        None => Vec::new(),
    };
    if let Some(dir) = &args.output_dir
        && !args.force
        && let Some(doc) = up_to_date(&output_path(dir, &input.stem, Format::Json), &sha256)
        && outputs.iter().all(|(_, p)| p.exists())
    {
        progress(doc.transcript.duration_ms);
        return Ok((
            Outcome::Skipped {
                audio_ms: doc.transcript.duration_ms,
            },
            None,
        ));
    }

    let started = Instant::now();
    let probe = AudioReader::open(&input.path, &AudioOptions::default())?;
    let info = probe.info().clone();
    drop(probe);
    let channels: Vec<Option<usize>> = match args.channel {
        Channels::Downmix => vec![None],
        Channels::One(c) => vec![Some(c)],
        Channels::Each => (0..info.channels).map(Some).collect(),
    };
    let settings = settings_key(&model.key, opts);
    let mut transcript: Option<Transcript> = None;
    let mut resumed_at_ms = None;
    let mut checkpoints = Vec::new();
    for channel in &channels {
        let selection = channel.map_or(ChannelSelection::Downmix, ChannelSelection::Channel);
        // Checkpoints need somewhere to live, and windows to resume at.
        let store = match &args.output_dir {
            Some(dir) if opts.vad.is_some() => Some(CheckpointFile {
                path: checkpoint_path(dir, &input.stem, *channel),
                source_sha256: sha256.clone(),
                settings: settings.clone(),
            }),
            _ => None,
        };
        let saved = match &store {
            Some(store) if !args.force => store.load(),
            _ => None,
        };
        let mut t = match saved {
            // This channel was finished before the interruption.
            Some(Saved {
                finished_duration_ms: Some(duration_ms),
                checkpoint,
                ..
            }) => {
                progress(duration_ms);
                resumed_at_ms.get_or_insert(duration_ms);
                Transcript {
                    language: checkpoint
                        .language
                        .unwrap_or_else(|| opts.decode.language.clone()),
                    duration_ms,
                    segments: checkpoint.segments,
                }
            }
            saved => {
                let resume = saved.map(|s| s.checkpoint);
                if let Some(r) = &resume {
                    resumed_at_ms.get_or_insert(r.decoded_until_ms);
                    tracing::info!(
                        "{}: resuming at {}",
                        input.path.display(),
                        format_clock(r.decoded_until_ms)
                    );
                }
                let saving = store.as_ref().map(|file| Saving {
                    file,
                    // With several channels, a crash in a later one keeps this one.
                    keep_finished: channels.len() > 1,
                });
                decode_channel(engine, input, selection, opts, saving, resume, progress)?
            }
        };
        if let Some(store) = store {
            checkpoints.push(store.path);
        }
        if args.channel == Channels::Each {
            for s in &mut t.segments {
                s.channel = channel.map(|c| c as u32);
            }
        }
        transcript = Some(match transcript.take() {
            None => t,
            Some(mut all) => {
                all.segments.extend(t.segments);
                all.segments.sort_by_key(|s| (s.start_ms, s.channel));
                all.duration_ms = all.duration_ms.max(t.duration_ms);
                all
            }
        });
    }
    let transcript = transcript.unwrap_or_default();
    let segments = transcript.segments.len();
    let audio_ms = transcript.duration_ms;
    let doc = TranscriptDocument::new(
        SourceInfo {
            file: input
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256,
            bytes,
            codec: info.codec.clone(),
            sample_rate: info.sample_rate,
            channels: info.channels as u32,
            transcribed_channels: (args.channel == Channels::Each)
                .then(|| channels.iter().flatten().map(|c| *c as u32).collect()),
        },
        DecoderInfo {
            model: model.name.clone(),
            tocky_version: env!("CARGO_PKG_VERSION").into(),
            beam_size: opts.decode.beam_size as u32,
            vad: opts.vad.is_some(),
            prompt: opts.decode.prompt.clone(),
        },
        transcript,
    );
    // The JSON goes last: its presence with the right hash marks the input done.
    let mut ordered = outputs.clone();
    ordered.sort_by_key(|(f, _)| *f == Format::Json);
    if args.output_dir.is_some() && !ordered.iter().any(|(f, _)| *f == Format::Json) {
        let dir = args.output_dir.as_deref().unwrap_or(Path::new("."));
        ordered.push((Format::Json, output_path(dir, &input.stem, Format::Json)));
    }
    for (format, path) in &ordered {
        tocky_core::atomic::write(path, format.render(&doc).as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    for path in checkpoints {
        // The outputs are in place: a stale checkpoint would only be ignored.
        let _ = std::fs::remove_file(path);
    }
    let outcome = Outcome::Done {
        audio_ms,
        wall: started.elapsed(),
        segments,
        resumed_at_ms,
    };
    Ok((outcome, Some(doc)))
}

/// Where one channel's checkpoints go while it is decoded.
struct Saving<'a> {
    file: &'a CheckpointFile,
    /// Save the finished channel too.
    keep_finished: bool,
}

/// Decodes one channel selection of `input`, from `resume` when given,
/// saving a checkpoint at most every [`CHECKPOINT_EVERY`].
fn decode_channel(
    engine: &Engine,
    input: &Input,
    selection: ChannelSelection,
    opts: &TranscribeOptions,
    saving: Option<Saving<'_>>,
    resume: Option<Checkpoint>,
    progress: &mut dyn FnMut(u64),
) -> Result<Transcript> {
    let mut reader = AudioReader::open(
        &input.path,
        &AudioOptions {
            channel: selection,
            ..AudioOptions::default()
        },
    )?;
    let mut last_saved: Option<Instant> = None;
    let mut save_error = None;
    let mut on_checkpoint = |c: &Checkpoint| {
        let Some(saving) = &saving else { return };
        if last_saved.is_some_and(|t| t.elapsed() < CHECKPOINT_EVERY) {
            return;
        }
        last_saved = Some(Instant::now());
        if let Err(e) = saving.file.save(c, None) {
            // Losing resumability is not worth failing the file.
            save_error.get_or_insert(e);
        }
    };
    let hooks = ReaderHooks {
        progress,
        checkpoint: &mut on_checkpoint,
        resume,
    };
    let (t, stats) = engine.transcribe_reader_with(&mut reader, opts, hooks)?;
    if let Some(e) = save_error {
        tracing::warn!("{}: no checkpoint: {e:#}", input.path.display());
    }
    tracing::info!("{}: {stats:?}", input.path.display());
    if reader.skipped_packets() > 0 {
        tracing::warn!(
            "{}: skipped {} damaged packets",
            input.path.display(),
            reader.skipped_packets()
        );
    }
    if let Some(short) = reader.shortfall() {
        tracing::warn!(
            "{}: {short}; the transcript covers what could be decoded",
            input.path.display()
        );
    }
    if let Some(saving) = saving.filter(|s| s.keep_finished) {
        let done = Checkpoint {
            decoded_until_ms: t.duration_ms,
            language: Some(t.language.clone()),
            segments: t.segments.clone(),
        };
        if let Err(e) = saving.file.save(&done, Some(t.duration_ms)) {
            tracing::warn!("{}: no checkpoint: {e:#}", input.path.display());
        }
    }
    Ok(t)
}

fn output_path(dir: &Path, stem: &Path, format: Format) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(".");
    name.push(format.extension());
    dir.join(name)
}

/// The model, as transcripts name it and as checkpoints match it.
struct ModelId {
    /// Its file name, recorded in the transcript.
    name: String,
    /// Its name, size and modification time: two models that share a file
    /// name (`ggml-model.bin` in two folders) must not resume each other's
    /// checkpoints and mix their text in one transcript.
    key: String,
}

impl ModelId {
    fn of(path: &Path) -> Self {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (bytes, modified) = std::fs::metadata(path).map_or((0, None), |m| {
            let modified = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos());
            (m.len(), modified)
        });
        let key = format!("{name} ({bytes} bytes, modified {modified:?})");
        Self { name, key }
    }
}

/// The existing JSON output, if it was made from a file with this hash.
fn up_to_date(json: &Path, sha256: &str) -> Option<TranscriptDocument> {
    let text = std::fs::read_to_string(json).ok()?;
    let doc = TranscriptDocument::from_json(&text).ok()?;
    (doc.source.sha256 == sha256).then_some(doc)
}

fn print_to_stdout(
    doc: &TranscriptDocument,
    input: &Input,
    formats: &[Format],
    many: bool,
) -> Result<()> {
    for format in formats {
        if many && *format == Format::Text {
            outln!("# {}", input.path.display())?;
        }
        out!("{}", format.render(doc))?;
    }
    Ok(())
}

/// Prints the summary table to stderr; returns the number of failures.
fn summarise(inputs: &[Input], outcomes: &[Option<Outcome>], wall: Duration, table: bool) -> usize {
    let mut failed = 0;
    let (mut audio_total, mut done, mut skipped) = (0u64, 0, 0);
    let mut rows = Vec::new();
    for (input, outcome) in inputs.iter().zip(outcomes) {
        let name = input.path.display().to_string();
        match outcome {
            Some(Outcome::Done {
                audio_ms,
                wall,
                segments,
                resumed_at_ms,
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
            Some(Outcome::Skipped { audio_ms }) => {
                skipped += 1;
                rows.push(format!(
                    "skipped  {:>9}  {:>7}  {:>9}  {name} (up to date)",
                    format_clock(*audio_ms),
                    "",
                    ""
                ));
            }
            Some(Outcome::Failed(reason)) => {
                failed += 1;
                let first = reason.lines().next().unwrap_or_default();
                rows.push(format!(
                    "FAILED   {:>9}  {:>7}  {:>9}  {name}: {first}",
                    "", "", ""
                ));
            }
            None => {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn input(path: &str, stem: &str) -> Input {
        Input {
            path: PathBuf::from(path),
            stem: PathBuf::from(stem),
        }
    }

    #[test]
    fn models_that_share_a_file_name_do_not_share_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        // The same size: two fine-tunes of one architecture are.
        std::fs::write(a.join("ggml-model.bin"), b"base-model").unwrap();
        std::fs::write(b.join("ggml-model.bin"), b"phowhisper").unwrap();
        let at = |secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        for (dir, secs) in [(&a, 1_700_000_000), (&b, 1_700_000_001)] {
            std::fs::File::options()
                .write(true)
                .open(dir.join("ggml-model.bin"))
                .unwrap()
                .set_modified(at(secs))
                .unwrap();
        }
        let (one, two) = (
            ModelId::of(&a.join("ggml-model.bin")),
            ModelId::of(&b.join("ggml-model.bin")),
        );
        // The transcript names the file either way...
        assert_eq!(
            (one.name.as_str(), two.name.as_str()),
            ("ggml-model.bin", "ggml-model.bin")
        );
        // ...but a checkpoint made with one is not resumed with the other.
        let opts = TranscribeOptions::default();
        assert_ne!(settings_key(&one.key, &opts), settings_key(&two.key, &opts));
        // The same file twice is the same model.
        let again = ModelId::of(&a.join("ggml-model.bin"));
        assert_eq!(
            settings_key(&one.key, &opts),
            settings_key(&again.key, &opts)
        );
    }

    #[test]
    fn what_an_earlier_run_wrote_is_not_scanned_as_input() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("archive");
        std::fs::create_dir_all(archive.join("out/day1")).unwrap();
        std::fs::create_dir_all(archive.join("day1")).unwrap();
        let files = [
            "day1/a.wav",
            "day1/a.json",
            "out/day1/a.json",
            "out/day1/a.checkpoint-mix.json",
            "out/day1/a.srt.partial",
            "out/b.wav",
        ];
        for file in files {
            std::fs::write(archive.join(file), b"").unwrap();
        }
        let found = |out: &Path| -> Vec<String> {
            let (inputs, missing) =
                collect_inputs(std::slice::from_ref(&archive), "*", Some(out)).unwrap();
            assert!(missing.is_empty(), "{missing:?}");
            inputs
                .iter()
                .map(|i| i.path.strip_prefix(&archive).unwrap().display().to_string())
                .collect()
        };
        // Named otherwise than the scanned folder, as a person may; audio
        // kept there is still an input.
        let out = dir.path().join("archive/day1/../out");
        assert_eq!(found(&out), ["day1/a.json", "day1/a.wav", "out/b.wav"]);
        // Outputs beside the inputs.
        let beside = found(&archive.join("day1"));
        assert!(beside.contains(&"day1/a.wav".into()), "{beside:?}");
        assert!(!beside.contains(&"day1/a.json".into()), "{beside:?}");
    }

    #[test]
    fn inputs_that_would_share_outputs_get_names_of_their_own() {
        let mut inputs = vec![
            input("archive/a.wav", "a"),
            input("archive/a.flac", "a"),
            input("archive/b.mp3", "b"),
            input("day1/c.wav", "c"),
            input("day2/c.wav", "c"),
            input("archive/b.mp3", "b"),
        ];
        disambiguate_stems(&mut inputs);
        let stems: Vec<_> = inputs.iter().map(|i| i.stem.to_string_lossy()).collect();
        assert_eq!(stems, ["a.wav", "a.flac", "b", "c.wav", "c.wav-2"]);
    }
}
