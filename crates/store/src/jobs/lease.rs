//! A worker's side of a job: claiming it, renewing its lease, and
//! finishing it (done or failed).
//!
//! A lease is proven by its token, random and new at every claim: a worker
//! whose lease expired and whose job was taken again holds a token that
//! matches nothing, and every write it attempts is refused with
//! [`Error::LeaseLost`]. A lease that expired but was not taken again yet
//! is still honoured (no one else is working on the job).

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use tocky_core::document::TranscriptDocument;

use super::{Job, JobState, check, get_job};
use crate::ingest::{ingest_in, validate};
use crate::model::{IngestOutcome, SessionMeta};
use crate::{Error, Result, Store, audit};

/// A job a worker has claimed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// The job, now running (its `attempts` counts this one).
    pub job: Job,
    /// The lease's token: what the worker's heartbeats and its result
    /// must carry.
    pub lease_token: String,
    /// When the lease expires unless renewed (Unix ms).
    pub lease_expires_at: i64,
    /// What an earlier attempt left to resume from.
    pub checkpoint: Option<String>,
}

/// What a worker reports while it works.
#[derive(Debug, Clone, Copy)]
pub struct Heartbeat<'a> {
    /// How far it got, 0 to 1.
    pub progress: f64,
    /// A new checkpoint (JSON), replacing the stored one; the stored one
    /// stays when absent.
    pub checkpoint: Option<&'a str>,
    /// How long the renewed lease lasts from `now_ms`.
    pub lease: Duration,
    /// The time (Unix ms).
    pub now_ms: i64,
}

/// A 16-byte random lease token in hex.
fn new_lease_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Invalid(format!("the system's random source failed: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The job's state, if `lease_token` is its running lease's; otherwise
/// [`Error::LeaseLost`] (or [`Error::UnknownJob`]). A done job whose last
/// lease was this token reads as done, so that a retried completion can be
/// answered.
fn leased(conn: &Connection, job: i64, lease_token: &str) -> Result<JobState> {
    let (state, token): (String, Option<String>) = conn
        .query_row(
            "SELECT state, lease_token FROM jobs WHERE id = ?1",
            [job],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or(Error::UnknownJob(job))?;
    let state = JobState::parse(&state).unwrap_or(JobState::Failed);
    match state {
        JobState::Running | JobState::Done if token.as_deref() == Some(lease_token) => Ok(state),
        _ => Err(Error::LeaseLost {
            job,
            state: state.to_string(),
        }),
    }
}

/// Queues again every running job whose lease expired at `now_ms` (its
/// checkpoint kept), or fails it when it has had all its attempts.
/// Returns how many jobs it changed.
fn release_expired(conn: &Connection, now_ms: i64) -> Result<usize> {
    let failed = conn.execute(
        "UPDATE jobs SET state = 'failed',
             failure = 'its worker (' || coalesce(worker, '?') || ') stopped answering on attempt '
                 || attempts || ' of ' || max_attempts,
             worker = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = ?1
         WHERE state = 'running' AND lease_expires_at <= ?1 AND attempts >= max_attempts",
        [now_ms],
    )?;
    let queued = conn.execute(
        "UPDATE jobs SET state = 'queued',
             failure = 'attempt ' || attempts || ': its worker (' || coalesce(worker, '?')
                 || ') stopped answering',
             worker = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = ?1
         WHERE state = 'running' AND lease_expires_at <= ?1",
        [now_ms],
    )?;
    Ok(failed + queued)
}

impl Store {
    /// Takes the next job for `worker`: the highest-priority, oldest queued
    /// job, after queuing again the running jobs whose lease expired at
    /// `now_ms` (so such a job is taken again, its checkpoint kept, with
    /// one more attempt; one that has had all its attempts fails). The job
    /// is leased to the worker until `now_ms + lease`. None when no job
    /// waits. Two workers never hold the same job: the claim is one write
    /// transaction.
    pub fn claim_job(
        &mut self,
        worker: &str,
        lease: Duration,
        now_ms: i64,
    ) -> Result<Option<Claim>> {
        let worker = check::worker(worker)?;
        let expires = now_ms.saturating_add(check::lease_ms(lease)?);
        let token = new_lease_token()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        release_expired(&tx, now_ms)?;
        let next: Option<i64> = tx
            .query_row(
                "SELECT id FROM jobs WHERE state = 'queued' ORDER BY priority DESC, id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = next else {
            // The expired leases released above are worth keeping.
            tx.commit()?;
            return Ok(None);
        };
        tx.execute(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = ?2,
                 lease_token = ?3, lease_expires_at = ?4, updated_at = ?5
             WHERE id = ?1",
            params![id, worker, token, expires, now_ms],
        )?;
        let job = get_job(&tx, id)?;
        let checkpoint: Option<String> =
            tx.query_row("SELECT checkpoint FROM jobs WHERE id = ?1", [id], |r| {
                r.get(0)
            })?;
        tx.commit()?;
        Ok(Some(Claim {
            job,
            lease_token: token,
            lease_expires_at: expires,
            checkpoint,
        }))
    }

    /// Queues again (or fails, past their attempts) the running jobs whose
    /// lease expired at `now_ms`, as every claim does first; for a server
    /// to call now and then, so that its list shows them even while no
    /// worker asks for work. Returns how many jobs changed.
    pub fn release_expired_jobs(&mut self, now_ms: i64) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = release_expired(&tx, now_ms)?;
        tx.commit()?;
        Ok(n)
    }

    /// Renews a running job's lease until `now_ms + lease` and records the
    /// worker's progress and checkpoint. Returns the new expiry.
    /// [`Error::LeaseLost`] when the lease is no longer this token's: the
    /// worker must stop.
    pub fn heartbeat(
        &mut self,
        job_id: i64,
        lease_token: &str,
        beat: &Heartbeat<'_>,
    ) -> Result<i64> {
        let progress = check::progress(beat.progress)?;
        if let Some(c) = beat.checkpoint {
            check::checkpoint(c)?;
        }
        let expires = beat.now_ms.saturating_add(check::lease_ms(beat.lease)?);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if leased(&tx, job_id, lease_token)? != JobState::Running {
            return Err(Error::LeaseLost {
                job: job_id,
                state: JobState::Done.to_string(),
            });
        }
        tx.execute(
            "UPDATE jobs SET progress = ?2, checkpoint = coalesce(?3, checkpoint),
                 lease_expires_at = ?4, updated_at = ?5
             WHERE id = ?1",
            params![job_id, progress, beat.checkpoint, expires, beat.now_ms],
        )?;
        tx.commit()?;
        Ok(expires)
    }

    /// Finishes a job with its transcript: ingests it as a session (titled,
    /// dated and placed as the job says) and marks the job done, in one
    /// transaction. Exactly once: when the job is done already by this
    /// lease (a retried upload whose answer was lost), the existing session
    /// is returned as [`IngestOutcome::AlreadyPresent`] and nothing is
    /// ingested. A stale lease is refused ([`Error::LeaseLost`]); a
    /// transcript of other audio than the job's is refused
    /// ([`Error::Invalid`]). When the audio is in the record already, the
    /// job is done with that session.
    pub fn complete_job(
        &mut self,
        job_id: i64,
        lease_token: &str,
        doc: &TranscriptDocument,
        now_ms: i64,
    ) -> Result<IngestOutcome> {
        validate(doc)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state = leased(&tx, job_id, lease_token)?;
        let job = get_job(&tx, job_id)?;
        if state == JobState::Done {
            return match job.session_id {
                Some(session_id) => Ok(IngestOutcome::AlreadyPresent { session_id }),
                None => Err(Error::JobRefused {
                    job: job_id,
                    reason: "it is done, but its session was deleted".into(),
                }),
            };
        }
        if !doc.source.sha256.eq_ignore_ascii_case(&job.audio.sha256) {
            return Err(Error::Invalid(format!(
                "job {job_id}: the transcript is of other audio (SHA-256 {}, the job's is {})",
                crate::clean::audit_actor(&doc.source.sha256),
                job.audio.sha256
            )));
        }
        let meta = SessionMeta {
            title: job.title.clone().or_else(|| Some(job.audio.name.clone())),
            sitting_date: job.sitting_date.clone(),
            agenda_item: job.agenda_item.clone(),
        };
        let actor = job.submitted_by.as_deref().unwrap_or("tocky");
        let outcome = ingest_in(&tx, doc, &meta, actor)?;
        let session_id = match outcome {
            IngestOutcome::Created { session_id, .. }
            | IngestOutcome::AlreadyPresent { session_id } => session_id,
        };
        // The lease token stays, so that a retried completion is recognised.
        tx.execute(
            "UPDATE jobs SET state = 'done', session_id = ?2, progress = 1, failure = NULL,
                 checkpoint = NULL, lease_expires_at = NULL, updated_at = ?3
             WHERE id = ?1",
            params![job_id, session_id, now_ms],
        )?;
        audit(
            &tx,
            job.worker.as_deref().unwrap_or("tocky"),
            "job_done",
            &format!("job {job_id}"),
            &format!("session {session_id}"),
        )?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Reports that a worker could not finish a job. A `retryable` failure
    /// (the worker's own trouble: out of memory, a lost connection) queues
    /// the job again while it has attempts left, its checkpoint kept;
    /// otherwise (or past its attempts) the job fails with `reason`.
    /// Returns the job as it is now. [`Error::LeaseLost`] for a stale lease.
    pub fn fail_job(
        &mut self,
        job_id: i64,
        lease_token: &str,
        reason: &str,
        retryable: bool,
        now_ms: i64,
    ) -> Result<Job> {
        let reason = check::reason(reason);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if leased(&tx, job_id, lease_token)? != JobState::Running {
            return Err(Error::LeaseLost {
                job: job_id,
                state: JobState::Done.to_string(),
            });
        }
        let job = get_job(&tx, job_id)?;
        let again = retryable && job.attempts < job.max_attempts;
        let (state, failure) = if again {
            ("queued", format!("attempt {}: {reason}", job.attempts))
        } else if retryable {
            (
                "failed",
                format!("{reason} (after {} attempts)", job.attempts),
            )
        } else {
            ("failed", reason)
        };
        tx.execute(
            "UPDATE jobs SET state = ?2, failure = ?3, worker = NULL, lease_token = NULL,
                 lease_expires_at = NULL, updated_at = ?4
             WHERE id = ?1",
            params![job_id, state, failure, now_ms],
        )?;
        let job = get_job(&tx, job_id)?;
        tx.commit()?;
        Ok(job)
    }
}
