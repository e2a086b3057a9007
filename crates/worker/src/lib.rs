//! Workers that run the record's durable transcription jobs.
//!
//! A worker claims a job from a [`Queue`], fetches its audio, transcribes
//! it with tocky-batch's [`tocky_batch::transcribe_file`] (so the text is
//! `tocky transcribe`'s), renews its lease with heartbeats that carry its
//! progress and its checkpoint, and completes the job with the transcript
//! or fails it. Two queues:
//! - [`StoreQueue`]: the record's database itself, for the workers that
//!   `tocky serve` runs on its own machine;
//! - [`HttpQueue`]: a server's `/api/worker` routes, for `tocky worker` on
//!   other machines (no database there).
//!
//! The pieces: [`queue`] (the trait and what it hands out), [`store`] and
//! [`http`] (the two queues), [`checkpoint`] (a job's checkpoint as the
//! queue keeps it: the batch checkpoint files of its channels), [`run`]
//! (one job, and the loop).

pub mod checkpoint;
pub mod error;
pub mod http;
pub mod queue;
pub mod run;
pub mod store;

pub use error::{Error, Result};
pub use http::HttpQueue;
pub use queue::{Completed, Queue};
pub use run::{JobOutcome, WorkerOptions, run_one, run_worker};
pub use store::StoreQueue;
