//! The record's database as a queue: the local workers of `tocky serve`,
//! each on its own connection to the server's store file.

use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tocky_core::document::TranscriptDocument;
use tocky_store::{Claim, Heartbeat, IngestOutcome, Store};

use crate::queue::{Completed, Queue};
use crate::{Error, Result};

/// The milliseconds since the Unix epoch (the store's lease clock).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// What runs after a job's session is in the record (the server brings
/// its search index up to date).
pub type OnComplete = Box<dyn Fn(&Store, i64) + Send + Sync>;

/// Jobs straight from a store, their audio under the server's media
/// directory.
pub struct StoreQueue {
    store: Mutex<Store>,
    media_dir: PathBuf,
    on_complete: Option<OnComplete>,
}

impl StoreQueue {
    /// A queue over `store` (a connection of its own: a claim holds the
    /// write lock only for its transaction), with job audio kept under
    /// `media_dir`.
    pub fn new(store: Store, media_dir: &Path) -> Self {
        Self {
            store: Mutex::new(store),
            media_dir: media_dir.to_path_buf(),
            on_complete: None,
        }
    }

    /// Calls `f` with the store and the new session after each completion
    /// (the server's search index follows the record this way: another
    /// process's index catches up by the store's generation instead).
    pub fn on_complete(mut self, f: OnComplete) -> Self {
        self.on_complete = Some(f);
        self
    }

    fn with<T>(&self, f: impl FnOnce(&mut Store) -> tocky_store::Result<T>) -> Result<T> {
        let mut store = self
            .store
            .lock()
            .map_err(|_| Error::Server("a worker thread panicked holding the store".into()))?;
        f(&mut store).map_err(|e| match e {
            tocky_store::Error::LeaseLost { job, .. } => Error::LeaseLost(job),
            e => Error::Store(e),
        })
    }
}

/// `path` (relative, as a job records it) under `media_dir`; None when it
/// would leave the folder.
pub(crate) fn media_path(media_dir: &Path, path: &str) -> Option<PathBuf> {
    let relative = Path::new(path);
    let plain = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    (plain && !path.is_empty()).then(|| media_dir.join(relative))
}

impl Queue for StoreQueue {
    fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Claim>> {
        self.with(|s| s.claim_job(worker, lease, now_ms()))
    }

    fn audio(&self, claim: &Claim, _cache: &Path) -> Result<PathBuf> {
        let job = claim.job.id;
        let path =
            media_path(&self.media_dir, &claim.job.audio.path).ok_or_else(|| Error::Audio {
                job,
                reason: format!(
                    "{:?} is not a path under the media folder",
                    claim.job.audio.path
                ),
            })?;
        if !path.is_file() {
            return Err(Error::Audio {
                job,
                reason: format!("{} is missing", claim.job.audio.path),
            });
        }
        Ok(path)
    }

    fn heartbeat(
        &self,
        claim: &Claim,
        progress: f64,
        checkpoint: Option<&str>,
        lease: Duration,
    ) -> Result<()> {
        let beat = Heartbeat {
            progress,
            checkpoint,
            lease,
            now_ms: now_ms(),
        };
        self.with(|s| s.heartbeat(claim.job.id, &claim.lease_token, &beat))
            .map(|_| ())
    }

    fn complete(&self, claim: &Claim, doc: &TranscriptDocument) -> Result<Completed> {
        let outcome = self.with(|s| {
            let outcome = s.complete_job(claim.job.id, &claim.lease_token, doc, now_ms())?;
            if let (Some(f), IngestOutcome::Created { session_id, .. }) =
                (&self.on_complete, &outcome)
            {
                f(s, *session_id);
            }
            Ok(outcome)
        })?;
        Ok(match outcome {
            IngestOutcome::Created { session_id, .. } => Completed {
                session_id,
                created: true,
            },
            IngestOutcome::AlreadyPresent { session_id } => Completed {
                session_id,
                created: false,
            },
        })
    }

    fn fail(&self, claim: &Claim, reason: &str, retryable: bool) -> Result<()> {
        self.with(|s| {
            s.fail_job(
                claim.job.id,
                &claim.lease_token,
                reason,
                retryable,
                now_ms(),
            )
        })
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_paths_stay_in_the_folder() {
        let dir = Path::new("/srv/media");
        assert_eq!(
            media_path(dir, "jobs/ab/cd.wav"),
            Some(PathBuf::from("/srv/media/jobs/ab/cd.wav"))
        );
        assert_eq!(media_path(dir, "../etc/passwd"), None);
        assert_eq!(media_path(dir, "/etc/passwd"), None);
        assert_eq!(media_path(dir, ""), None);
    }
}
