//! One job run by a worker, and the loop that runs jobs until it is
//! stopped.
//!
//! While a job is transcribed, a second thread beats: every
//! [`WorkerOptions::heartbeat_every`] it renews the lease with the
//! progress and, when they changed, the checkpoint files. A beat that
//! finds the lease lost (the job cancelled, or taken again after this
//! worker was cut off too long) cancels the transcription. tocky-asr has
//! no hook to stop a decoder inside a channel, so the transcription stops
//! at the end of the channel in flight; its result is then dropped and
//! nothing more is said about the job.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use tocky_asr::{DecodeOptions, Engine, Guards, TranscribeOptions};
use tocky_audio::vad::VadOptions;
use tocky_batch::{
    BatchOptions, CHECKPOINT_EVERY, CancelToken, Channels, FileJob, JobResult, ModelId,
};
use tocky_core::document::TranscriptDocument;
use tocky_store::Claim;

use crate::checkpoint::{self, STEM};
use crate::queue::{Completed, Queue};
use crate::{Error, Result};

/// How a worker works.
#[derive(Clone)]
pub struct WorkerOptions {
    /// Its name in the record (the job's `worker`, the audit log).
    pub name: String,
    /// How long a lease lasts unless renewed.
    pub lease: Duration,
    /// How often the lease is renewed (well under [`Self::lease`]).
    pub heartbeat_every: Duration,
    /// How long it waits before asking again when no job waits (or while
    /// [`Self::paused`] says so).
    pub idle_wait: Duration,
    /// Where each job's working folder goes (`job-ID`: checkpoints, the
    /// transcript, a downloaded audio file); removed when the job ends.
    pub work_dir: PathBuf,
    /// The model loaded, as transcripts name it and checkpoints match it.
    pub model: ModelId,
    /// Decoder threads.
    pub threads: usize,
    /// How often, at most, a checkpoint is written.
    pub checkpoint_every: Duration,
    /// Asked before each claim: while it says true (a live sitting runs
    /// on this machine, say) no new job is taken.
    pub paused: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
    /// Set to stop: no new job is taken, and the job in flight stops at
    /// its next channel (its lease then expires and another worker
    /// resumes it from its checkpoint).
    pub stop: CancelToken,
    /// Stop after this many jobs (tests, `--once`); None runs on.
    pub max_jobs: Option<usize>,
}

impl WorkerOptions {
    /// Options with a 60 s lease renewed every 10 s, a 2 s idle wait and
    /// tocky-batch's checkpoint interval.
    pub fn new(name: &str, work_dir: PathBuf, model: ModelId, threads: usize) -> Self {
        Self {
            name: name.to_owned(),
            lease: Duration::from_secs(60),
            heartbeat_every: Duration::from_secs(10),
            idle_wait: Duration::from_secs(2),
            work_dir,
            model,
            threads: threads.max(1),
            checkpoint_every: CHECKPOINT_EVERY,
            paused: None,
            stop: CancelToken::new(),
            max_jobs: None,
        }
    }
}

/// How one claimed job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// Ingested as a session.
    Done {
        /// The job.
        job: i64,
        /// Its session.
        completed: Completed,
        /// Where an earlier attempt's checkpoint let it start (ms).
        resumed_at_ms: Option<u64>,
    },
    /// Given up and reported.
    Failed {
        /// The job.
        job: i64,
        /// Why.
        reason: String,
        /// Whether it may be tried again.
        retryable: bool,
    },
    /// Its lease was lost (cancelled, or taken again): dropped.
    LeaseLost {
        /// The job.
        job: i64,
    },
    /// The worker was stopped in the middle of it; the lease expires and
    /// another worker takes it.
    Stopped {
        /// The job.
        job: i64,
    },
}

/// The batch settings of a job: `tocky transcribe`'s defaults (beam 5,
/// voice activity detection, word times) with the job's language, prompt
/// and channels.
fn batch_options(claim: &Claim, opts: &WorkerOptions, dir: PathBuf) -> Result<BatchOptions> {
    let s = &claim.job.settings;
    let channels = match s.channels.as_str() {
        "" | "downmix" => Channels::Downmix,
        "each" => Channels::Each,
        n => Channels::One(n.parse().map_err(|_| Error::Audio {
            job: claim.job.id,
            reason: format!("channels {n:?} is not downmix, each or a channel number"),
        })?),
    };
    Ok(BatchOptions {
        formats: Vec::new(),
        output_dir: Some(dir),
        channels,
        force: false,
        transcribe: TranscribeOptions {
            decode: DecodeOptions {
                // The store's rule: no language means detect it.
                language: s.language.clone().unwrap_or_else(|| "auto".into()),
                threads: opts.threads,
                prompt: s.prompt.clone(),
                word_timestamps: true,
                ..DecodeOptions::default()
            },
            vad: Some(VadOptions::default()),
            guards: Guards::default(),
        },
        model: opts.model.clone(),
        workers: 1,
        checkpoint_every: opts.checkpoint_every,
    })
}

/// Claims one job and runs it to its end. None when no job waits.
pub fn run_one(
    engine: &Engine,
    queue: &dyn Queue,
    opts: &WorkerOptions,
) -> Result<Option<JobOutcome>> {
    let Some(claim) = queue.claim(&opts.name, opts.lease)? else {
        return Ok(None);
    };
    let job = claim.job.id;
    tracing::info!(
        "{}: job {job} ({}), attempt {}",
        opts.name,
        claim.job.audio.name,
        claim.job.attempts
    );
    let dir = opts.work_dir.join(format!("job-{job}"));
    let outcome = attempt(engine, queue, opts, &claim, &dir);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(Error::LeaseLost(_)) => JobOutcome::LeaseLost { job },
        Err(e) => {
            let retryable = !matches!(e, Error::Audio { .. } | Error::Checkpoint(_));
            let reason = error_chain(&e);
            match queue.fail(&claim, &reason, retryable) {
                Ok(()) | Err(Error::LeaseLost(_)) => {}
                // The lease expires and the job is taken again anyway.
                Err(e) => tracing::warn!("job {job}: reporting the failure: {}", error_chain(&e)),
            }
            JobOutcome::Failed {
                job,
                reason,
                retryable,
            }
        }
    };
    if !matches!(outcome, JobOutcome::Stopped { .. }) {
        // Kept when stopped: a restarted local worker may resume from it.
        let _ = std::fs::remove_dir_all(&dir);
    }
    tracing::info!("{}: {outcome:?}", opts.name);
    Ok(Some(outcome))
}

/// An error and its causes on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    tocky_batch::error_chain(e)
}

/// Runs a claimed job: audio, checkpoint, transcription with heartbeats,
/// completion. A decode error of the audio is the job's fault (failed,
/// not retried); anything else is the worker's (retried).
fn attempt(
    engine: &Engine,
    queue: &dyn Queue,
    opts: &WorkerOptions,
    claim: &Claim,
    dir: &std::path::Path,
) -> Result<JobOutcome> {
    let job = claim.job.id;
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    if let Some(saved) = &claim.checkpoint {
        match checkpoint::restore(dir, saved) {
            Ok(n) => tracing::info!("job {job}: {n} checkpoint file(s) from an earlier attempt"),
            // A checkpoint we cannot use costs time, not the job.
            Err(e) => tracing::warn!("job {job}: starting over: {}", error_chain(&e)),
        }
    }
    let audio = queue.audio(claim, dir)?;
    let batch = batch_options(claim, opts, dir.to_path_buf())?;
    let file = FileJob {
        source: audio,
        stem: STEM.into(),
        declared_ms: None,
    };
    let declared_ms = tocky_batch::inputs::declared_ms(&file.source);
    let done_ms = AtomicU64::new(0);
    let cancel = CancelToken::new();
    let (finished, beats) = mpsc::channel::<()>();
    let result = std::thread::scope(|scope| {
        let (done, cancelled) = (&done_ms, &cancel);
        let beater = scope.spawn(move || {
            beat(
                queue,
                opts,
                claim,
                dir,
                declared_ms,
                done,
                cancelled,
                &beats,
            )
        });
        let stop = &opts.stop;
        let result = tocky_batch::transcribe_file(engine, &file, &batch, &cancel, &mut |ms| {
            done_ms.store(ms, Ordering::Relaxed);
            // The pool's stop is seen at the next channel, as a lost lease.
            if stop.is_cancelled() {
                cancel.cancel();
            }
        });
        drop(finished);
        let lost = beater.join().unwrap_or(false);
        (result, lost)
    });
    match result {
        (_, true) => Err(Error::LeaseLost(job)),
        (Err(tocky_batch::Error::Cancelled), false) => Ok(JobOutcome::Stopped { job }),
        (Err(e @ tocky_batch::Error::Audio(_)), false) => Err(Error::Audio {
            job,
            reason: error_chain(&e),
        }),
        (Err(e), false) => Err(Error::Server(format!("transcribing: {}", error_chain(&e)))),
        (Ok(result), false) => {
            let (mut doc, resumed_at_ms) = match result {
                JobResult::Done { doc, summary } => (*doc, summary.resumed_at_ms),
                // An earlier attempt here wrote the transcript, then stopped.
                JobResult::Skipped { .. } => (read_transcript(dir)?, None),
            };
            // The name the server stores the audio under (in its media
            // directory), so that the session plays and re-times; the name
            // as uploaded is the job's, and its title the session's.
            doc.source.file = claim.job.audio.path.clone();
            let completed = queue.complete(claim, &doc)?;
            Ok(JobOutcome::Done {
                job,
                completed,
                resumed_at_ms,
            })
        }
    }
}

/// The transcript a finished run left in `dir`.
fn read_transcript(dir: &std::path::Path) -> Result<TranscriptDocument> {
    let path = dir.join(format!("{STEM}.json"));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    serde_json::from_str(&text).map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))
}

/// The heartbeat thread of one job, until `finished` closes. Returns
/// whether the lease was lost (and then cancels the transcription).
#[allow(clippy::too_many_arguments)]
fn beat(
    queue: &dyn Queue,
    opts: &WorkerOptions,
    claim: &Claim,
    dir: &std::path::Path,
    declared_ms: Option<u64>,
    done_ms: &AtomicU64,
    cancel: &CancelToken,
    finished: &mpsc::Receiver<()>,
) -> bool {
    let mut sent: Option<String> = claim.checkpoint.clone();
    loop {
        match finished.recv_timeout(opts.heartbeat_every) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // The transcription ended: its result decides.
            _ => return false,
        }
        let progress = declared_ms.filter(|total| *total > 0).map_or(0.0, |total| {
            (done_ms.load(Ordering::Relaxed) as f64 / total as f64).clamp(0.0, 0.99)
        });
        let current = checkpoint::collect(dir).unwrap_or_else(|e| {
            tracing::warn!("job {}: no checkpoint: {}", claim.job.id, error_chain(&e));
            None
        });
        let fresh = current.as_deref().filter(|c| sent.as_deref() != Some(*c));
        match queue.heartbeat(claim, progress, fresh, opts.lease) {
            Ok(()) => {
                if fresh.is_some() {
                    sent = current;
                }
            }
            Err(Error::LeaseLost(job)) => {
                tracing::warn!("job {job}: the lease was lost; stopping it");
                cancel.cancel();
                return true;
            }
            // Cut off for a while: the lease lasts several beats.
            Err(e) => tracing::warn!("job {}: heartbeat: {}", claim.job.id, error_chain(&e)),
        }
    }
}

/// Lowers the calling thread's OS priority by `niceness` (Linux's nice
/// value is per thread), so that a live sitting and the server come
/// first on a shared machine; the re-timer does the same.
pub fn lower_priority(niceness: i32) {
    let tid = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(tid), niceness) {
        tracing::warn!("worker: could not lower its priority: {e}");
    }
}

/// Runs jobs until [`WorkerOptions::stop`] is set (or
/// [`WorkerOptions::max_jobs`] have run): claims, runs, and waits
/// [`WorkerOptions::idle_wait`] when no job waits, the queue cannot be
/// reached, or [`WorkerOptions::paused`] says so. Returns the outcomes.
pub fn run_worker(engine: &Engine, queue: &dyn Queue, opts: &WorkerOptions) -> Vec<JobOutcome> {
    let mut outcomes = Vec::new();
    while !opts.stop.is_cancelled() && opts.max_jobs.is_none_or(|max| outcomes.len() < max) {
        if opts.paused.as_ref().is_some_and(|paused| paused()) {
            std::thread::sleep(opts.idle_wait);
            continue;
        }
        match run_one(engine, queue, opts) {
            Ok(Some(outcome)) => outcomes.push(outcome),
            Ok(None) => std::thread::sleep(opts.idle_wait),
            Err(e) => {
                tracing::warn!("{}: claiming a job: {}", opts.name, error_chain(&e));
                std::thread::sleep(opts.idle_wait);
            }
        }
    }
    outcomes
}
