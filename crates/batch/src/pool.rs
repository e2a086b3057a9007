//! A list of jobs on N workers sharing one model, reporting events to an
//! observer, cancellable.
//!
//! Cancellation is checked before each file and before each channel of a
//! file: the decoder (`tocky_asr::Engine::transcribe_reader_with`) has no
//! way to stop inside a channel, so a cancelled batch ends once the files
//! in flight have finished their current channel. What they decoded stays
//! in their checkpoints, so a rerun resumes them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tocky_asr::Engine;
use tocky_core::document::TranscriptDocument;

use crate::{BatchOptions, Error, FileJob, JobResult, Summary, error_chain, transcribe_file};

/// Stops a batch: shared between whoever cancels and the workers.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the batch to stop: no file starts after this.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What happens to one job, as it happens.
#[derive(Debug)]
pub enum Event<'a> {
    /// A worker took the job.
    Started,
    /// Decoding went on.
    Progress {
        /// The recording time passed in this file (never going back; with
        /// several channels, the furthest any has reached).
        audio_ms: u64,
        /// How much `audio_ms` grew since the last event of this job: the
        /// amount to add to a total over all jobs.
        advanced_ms: u64,
        /// `audio_ms` over the length the file declares, when it declares
        /// one (at most 1).
        fraction: Option<f64>,
    },
    /// Transcribed (and written, with an output directory).
    Done {
        /// The transcript.
        doc: &'a TranscriptDocument,
        /// What the run did.
        summary: &'a Summary,
    },
    /// Its outputs were up to date.
    Skipped {
        /// The audio's length.
        audio_ms: u64,
    },
    /// It failed; the batch goes on with the next file.
    Failed {
        /// Why, on one line with its causes (see [`error_chain`]).
        reason: &'a str,
    },
    /// The batch was cancelled while this file was in flight.
    Cancelled,
}

/// Receives the events of a batch, from the worker threads (so calls for
/// different jobs may come at once, and a slow observer slows its worker).
pub trait Observer: Sync {
    /// `job` is the index in the list given to [`run`].
    fn event(&self, job: usize, event: Event<'_>);
}

impl<F: Fn(usize, Event<'_>) + Sync> Observer for F {
    fn event(&self, job: usize, event: Event<'_>) {
        self(job, event);
    }
}

/// How one job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Transcribed.
    Done(Summary),
    /// Up to date already.
    Skipped {
        /// The audio's length.
        audio_ms: u64,
    },
    /// Failed, with the reason.
    Failed(String),
    /// Not started, or stopped between channels, because the batch was
    /// cancelled.
    Cancelled,
}

/// Runs `jobs` on `opts.workers` threads (at least 1, at most one a job)
/// sharing `engine`; returns each job's outcome, in the order given. One
/// file's failure does not stop the others.
pub fn run(
    engine: &Engine,
    jobs: &[FileJob],
    opts: &BatchOptions,
    observer: &dyn Observer,
    cancel: &CancelToken,
) -> Vec<Outcome> {
    let workers = opts.workers.clamp(1, jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Outcome>> = Mutex::new(vec![Outcome::Cancelled; jobs.len()]);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while !cancel.is_cancelled() {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let outcome = run_one(engine, i, job, opts, observer, cancel);
                    if let Ok(mut all) = outcomes.lock()
                        && let Some(slot) = all.get_mut(i)
                    {
                        *slot = outcome;
                    }
                }
            });
        }
    });
    outcomes.into_inner().unwrap_or_default()
}

/// One job on this worker, its events reported.
fn run_one(
    engine: &Engine,
    i: usize,
    job: &FileJob,
    opts: &BatchOptions,
    observer: &dyn Observer,
    cancel: &CancelToken,
) -> Outcome {
    observer.event(i, Event::Started);
    let mut reported = 0u64;
    let mut on_progress = |ms: u64| {
        let advanced_ms = ms.saturating_sub(reported);
        reported = reported.max(ms);
        let fraction = job
            .declared_ms
            .filter(|&d| d > 0)
            .map(|d| (reported as f64 / d as f64).min(1.0));
        observer.event(
            i,
            Event::Progress {
                audio_ms: reported,
                advanced_ms,
                fraction,
            },
        );
    };
    match transcribe_file(engine, job, opts, cancel, &mut on_progress) {
        Ok(JobResult::Done { doc, summary }) => {
            observer.event(
                i,
                Event::Done {
                    doc: &doc,
                    summary: &summary,
                },
            );
            Outcome::Done(summary)
        }
        Ok(JobResult::Skipped { audio_ms }) => {
            observer.event(i, Event::Skipped { audio_ms });
            Outcome::Skipped { audio_ms }
        }
        Err(Error::Cancelled) => {
            observer.event(i, Event::Cancelled);
            Outcome::Cancelled
        }
        Err(e) => {
            let reason = error_chain(&e);
            observer.event(i, Event::Failed { reason: &reason });
            Outcome::Failed(reason)
        }
    }
}
