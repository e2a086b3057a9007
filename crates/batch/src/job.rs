//! One input transcribed into its outputs: skipped when they are up to
//! date, resumed from its checkpoints, each channel decoded, the outputs
//! written atomically (the JSON last), the checkpoints removed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tocky_asr::Engine;
use tocky_audio::{AudioReader, ChannelSelection, DecodeOptions};
use tocky_core::document::{DecoderInfo, SourceInfo, TranscriptDocument};
use tocky_core::transcript::{Transcript, format_clock};

use crate::checkpoint::{CheckpointFile, settings_key};
use crate::decode::{Saving, decode_channel};
use crate::naming::{checkpoint_path, output_path};
use crate::resume::{Start, start_of, up_to_date};
use crate::{BatchOptions, CancelToken, Channels, Error, Format, Input, Result};

/// One input and where its outputs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileJob {
    /// The audio file.
    pub source: PathBuf,
    /// The output path without extension, relative to the output
    /// directory (see [`Input::stem`]).
    pub stem: PathBuf,
    /// The length its header declares, if it does (for progress).
    pub declared_ms: Option<u64>,
}

impl FileJob {
    /// The job of `input`; opens the file to read its declared length.
    pub fn new(input: Input) -> Self {
        let declared_ms = crate::inputs::declared_ms(&input.path);
        Self {
            source: input.path,
            stem: input.stem,
            declared_ms,
        }
    }

    /// The files this job writes under `opts`, in the order it writes
    /// them: the formats asked for, then the JSON document (always written
    /// with an output directory: its presence with the input's hash marks
    /// the input done). None without an output directory.
    pub fn outputs(&self, opts: &BatchOptions) -> Vec<(Format, PathBuf)> {
        let Some(dir) = &opts.output_dir else {
            return Vec::new();
        };
        let mut outputs: Vec<(Format, PathBuf)> = opts
            .formats
            .iter()
            .map(|f| (*f, output_path(dir, &self.stem, *f)))
            .collect();
        outputs.sort_by_key(|(f, _)| *f == Format::Json);
        if !outputs.iter().any(|(f, _)| *f == Format::Json) {
            outputs.push((Format::Json, output_path(dir, &self.stem, Format::Json)));
        }
        outputs
    }
}

/// What a finished file's run did.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The audio's length.
    pub audio_ms: u64,
    /// How long this run took.
    pub wall: Duration,
    /// Segments in the transcript.
    pub segments: usize,
    /// Where an interrupted earlier run left off, if it did.
    pub resumed_at_ms: Option<u64>,
    /// The files written, in the order written (none without an output
    /// directory).
    pub outputs: Vec<PathBuf>,
}

/// A file's job that did not fail.
#[derive(Debug, Clone)]
pub enum JobResult {
    /// Transcribed (and written, with an output directory).
    Done {
        /// The transcript.
        doc: Box<TranscriptDocument>,
        /// What the run did.
        summary: Summary,
    },
    /// Its outputs were up to date.
    Skipped {
        /// The audio's length, from the existing transcript.
        audio_ms: u64,
    },
}

/// Transcribes one file, or skips it when its outputs are up to date.
/// `progress` receives the recording time passed (per channel, from 0).
/// `cancel` is checked before each channel: the decoder cannot be
/// stopped inside one (what was decoded stays in the checkpoint).
pub fn transcribe_file(
    engine: &Engine,
    job: &FileJob,
    opts: &BatchOptions,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u64),
) -> Result<JobResult> {
    let bytes = std::fs::metadata(&job.source)
        .map_err(Error::Unreadable)?
        .len();
    let sha256 = tocky_models::sha256_file(&job.source)?;
    let outputs = job.outputs(opts);
    if !opts.force
        && let Some(doc) = up_to_date(&outputs, &sha256)
    {
        progress(doc.transcript.duration_ms);
        return Ok(JobResult::Skipped {
            audio_ms: doc.transcript.duration_ms,
        });
    }

    let started = Instant::now();
    let probe = AudioReader::open(&job.source, &DecodeOptions::default())?;
    let info = probe.info().clone();
    drop(probe);
    let channels: Vec<Option<usize>> = match opts.channels {
        Channels::Downmix => vec![None],
        Channels::One(c) => vec![Some(c)],
        Channels::Each => (0..info.channels).map(Some).collect(),
    };
    let settings = settings_key(&opts.model.key, &opts.transcribe);
    let mut transcript: Option<Transcript> = None;
    let mut resumed_at_ms = None;
    let mut checkpoints = Vec::new();
    for channel in &channels {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let selection = channel.map_or(ChannelSelection::Downmix, ChannelSelection::Channel);
        // Checkpoints need somewhere to live, and windows to resume at.
        let store = match &opts.output_dir {
            Some(dir) if opts.transcribe.vad.is_some() => Some(CheckpointFile {
                path: checkpoint_path(dir, &job.stem, *channel),
                source_sha256: sha256.clone(),
                settings: settings.clone(),
            }),
            _ => None,
        };
        let mut t = match start_of(store.as_ref(), opts.force) {
            Start::Finished {
                checkpoint,
                duration_ms,
            } => {
                progress(duration_ms);
                resumed_at_ms.get_or_insert(duration_ms);
                Transcript {
                    language: checkpoint
                        .language
                        .unwrap_or_else(|| opts.transcribe.decode.language.clone()),
                    duration_ms,
                    segments: checkpoint.segments,
                }
            }
            start => {
                let resume = match start {
                    Start::From(checkpoint) => Some(checkpoint),
                    _ => None,
                };
                if let Some(r) = &resume {
                    resumed_at_ms.get_or_insert(r.decoded_until_ms);
                    tracing::info!(
                        "{}: resuming at {}",
                        job.source.display(),
                        format_clock(r.decoded_until_ms)
                    );
                }
                let saving = store.as_ref().map(|file| Saving {
                    file,
                    // With several channels, a crash in a later one keeps this one.
                    keep_finished: channels.len() > 1,
                    every: opts.checkpoint_every,
                });
                decode_channel(
                    engine,
                    &job.source,
                    selection,
                    &opts.transcribe,
                    saving,
                    resume,
                    progress,
                )?
            }
        };
        if let Some(store) = store {
            checkpoints.push(store.path);
        }
        if opts.channels == Channels::Each {
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
            file: job
                .source
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256,
            bytes,
            codec: info.codec.clone(),
            sample_rate: info.sample_rate,
            channels: info.channels as u32,
            transcribed_channels: (opts.channels == Channels::Each)
                .then(|| channels.iter().flatten().map(|c| *c as u32).collect()),
        },
        DecoderInfo {
            model: opts.model.name.clone(),
            tocky_version: env!("CARGO_PKG_VERSION").into(),
            beam_size: opts.transcribe.decode.beam_size as u32,
            vad: opts.transcribe.vad.is_some(),
            prompt: opts.transcribe.decode.prompt.clone(),
        },
        transcript,
    );
    // The JSON goes last: its presence with the right hash marks the input done.
    for (format, path) in &outputs {
        tocky_core::atomic::write(path, format.render(&doc).as_bytes()).map_err(|source| {
            Error::Write {
                path: path.clone(),
                source,
            }
        })?;
    }
    for path in checkpoints {
        // The outputs are in place: a stale checkpoint would only be ignored.
        let _ = std::fs::remove_file(path);
    }
    let summary = Summary {
        audio_ms,
        wall: started.elapsed(),
        segments,
        resumed_at_ms,
        outputs: outputs.into_iter().map(|(_, p)| p).collect(),
    };
    Ok(JobResult::Done {
        doc: Box::new(doc),
        summary,
    })
}
