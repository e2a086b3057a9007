//! What a worker needs from wherever jobs wait: claim one, fetch its
//! audio, renew its lease, finish it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tocky_core::document::TranscriptDocument;
use tocky_store::Claim;

use crate::Result;

/// A finished job's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completed {
    /// The session the job became.
    pub session_id: i64,
    /// False when the audio was in the record already (or the job was
    /// completed before by this lease): nothing new was ingested.
    pub created: bool,
}

/// Where jobs wait. Every call after [`Queue::claim`] carries the claim,
/// whose lease token proves the worker still holds the job; a call with a
/// lost lease is [`crate::Error::LeaseLost`].
pub trait Queue: Send + Sync {
    /// The next job, leased to `worker` for `lease`; None when none waits.
    fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Claim>>;

    /// The job's audio as a local file; `cache` is a folder of this job's
    /// where a download may go (and resume from, when a partial file is
    /// there).
    fn audio(&self, claim: &Claim, cache: &Path) -> Result<PathBuf>;

    /// Renews the lease for `lease` and records `progress` (0 to 1) and a
    /// new checkpoint (the stored one stays when None).
    fn heartbeat(
        &self,
        claim: &Claim,
        progress: f64,
        checkpoint: Option<&str>,
        lease: Duration,
    ) -> Result<()>;

    /// Finishes the job with its transcript (ingested exactly once).
    fn complete(&self, claim: &Claim, doc: &TranscriptDocument) -> Result<Completed>;

    /// Gives the job up: `retryable` when the trouble is the worker's (it
    /// is queued again while it has attempts left), not when the job
    /// itself is bad (audio that does not decode).
    fn fail(&self, claim: &Claim, reason: &str, retryable: bool) -> Result<()>;
}
