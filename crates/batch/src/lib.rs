//! Batch transcription: audio files and folders to transcripts, resumable,
//! on a pool of workers that share one model.
//!
//! The pieces, one concept each:
//! - [`inputs`]: paths given (files, folders scanned with a glob) to
//!   [`Input`]s, each with the output name it gets;
//! - [`naming`]: where outputs and checkpoints of an input go, and names
//!   that two inputs would share made distinct;
//! - [`checkpoint`]: the file that records a transcription in progress,
//!   and the settings it is valid for;
//! - [`resume`]: whether a file is already done, and where to start it;
//! - [`job`]: one input ([`FileJob`]) transcribed into its outputs;
//! - [`pool`]: a list of jobs on N workers, reporting [`Event`]s to an
//!   [`Observer`], cancellable between files with a [`CancelToken`];
//! - [`service`]: one uploaded file at a time for the server
//!   ([`BatchTranscriber`], tocky-core's `TranscribeAudio`).
//!
//! `tocky transcribe` is a thin layer over [`pool::run`]: it parses the
//! arguments, draws the progress bar from the events, prints transcripts
//! to standard output and the summary table.

pub mod checkpoint;
mod decode;
pub mod error;
pub mod format;
pub mod inputs;
pub mod job;
pub mod model;
pub mod naming;
pub mod options;
pub mod pool;
pub mod resume;
pub mod service;

pub use error::{Error, Result, error_chain};
pub use format::Format;
pub use inputs::{DEFAULT_GLOB, Input, Unusable, collect_inputs};
pub use job::{FileJob, JobResult, Summary, transcribe_file};
pub use model::ModelId;
pub use options::{BatchOptions, CHECKPOINT_EVERY, Channels};
pub use pool::{CancelToken, Event, Observer, Outcome, run};
pub use service::BatchTranscriber;
