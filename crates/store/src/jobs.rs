//! Transcription jobs: durable work that becomes a session.
//!
//! A job records audio the server keeps (its hash, name, size and path
//! under the media directory: the bytes are the server's), the settings to
//! transcribe it with, and the session it becomes. It is `queued` until a
//! worker claims it ([`Store::claim_job`]); while `running` it holds a
//! lease (a worker, a random token and an expiry) that the worker renews
//! with heartbeats, which also carry its progress and a checkpoint (opaque
//! JSON from which another worker can resume). A job whose lease expires
//! is queued again with its checkpoint, up to its maximum number of
//! attempts, after which it fails. A worker finishes it with
//! [`Store::complete_job`], which ingests the transcript and marks the job
//! done in one transaction, exactly once.
//!
//! Order: the highest [`Job::priority`] first, the oldest first within a
//! priority. Every lease operation takes the time (`now_ms`, Unix
//! milliseconds) from its caller, so that one clock (the server's) decides
//! expiry, and tests need not wait.

mod check;
mod lease;

use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::model::SessionMeta;
use crate::{Error, Result, Store, audit};

pub use check::MAX_CHECKPOINT_BYTES;
pub use lease::{Claim, Heartbeat};

/// The priority of ordinary batch work.
pub const PRIORITY_BATCH: i64 = 0;
/// The priority of work a live sitting waits for (its re-transcription,
/// say): taken before any batch work.
pub const PRIORITY_LIVE: i64 = 100;
/// How many times a job is tried, unless its submitter says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// A worker holds its lease.
    Running,
    /// Ingested: [`Job::session_id`] is its session.
    Done,
    /// Given up: [`Job::failure`] says why.
    Failed,
    /// Cancelled by someone.
    Cancelled,
}

impl JobState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The state of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job's audio, as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobAudio {
    /// Its SHA-256 in hex (stored in lower case).
    pub sha256: String,
    /// The file's name as uploaded.
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Where the server keeps it, relative to its media directory.
    pub path: String,
}

/// How a job's audio is transcribed. Two jobs of the same audio with equal
/// settings are the same work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSettings {
    /// The model's name (`ggml-large-v3-turbo.bin` …).
    pub model: String,
    /// The language (`vi` …); detected when absent.
    #[serde(default)]
    pub language: Option<String>,
    /// Text the decoder is primed with (names, terms).
    #[serde(default)]
    pub prompt: Option<String>,
    /// Which channels: `downmix`, `each`, or one channel's number from 0,
    /// as `tocky transcribe --channels` takes them.
    #[serde(default = "downmix")]
    pub channels: String,
}

fn downmix() -> String {
    "downmix".into()
}

/// A job to add.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Its audio.
    pub audio: JobAudio,
    /// How to transcribe it.
    pub settings: JobSettings,
    /// Title, date and agenda item of the session it becomes.
    pub meta: SessionMeta,
    /// Higher first ([`PRIORITY_BATCH`], [`PRIORITY_LIVE`]), -1000 to 1000.
    pub priority: i64,
    /// How many times it is tried before it fails, 1 to 100.
    pub max_attempts: u32,
    /// Who submitted it.
    pub submitted_by: Option<String>,
}

/// A job as stored (without its lease token, the worker's proof, and its
/// checkpoint, which may be large: see [`Store::job_checkpoint`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Its id.
    pub id: i64,
    /// Its audio.
    pub audio: JobAudio,
    /// How it is transcribed.
    pub settings: JobSettings,
    /// The session's title; the audio's name when absent.
    pub title: Option<String>,
    /// The sitting's date, `YYYY-MM-DD`.
    pub sitting_date: Option<String>,
    /// The agenda item.
    pub agenda_item: Option<String>,
    /// Higher first.
    pub priority: i64,
    /// Where it stands.
    pub state: JobState,
    /// How far its worker got, 0 to 1.
    pub progress: f64,
    /// The session it became, once done.
    pub session_id: Option<i64>,
    /// Why it failed, or why its last attempt did.
    pub failure: Option<String>,
    /// How many times it was claimed since it was submitted or retried.
    pub attempts: i64,
    /// How many attempts it gets.
    pub max_attempts: i64,
    /// Who submitted it.
    pub submitted_by: Option<String>,
    /// When it was submitted (Unix ms).
    pub created_at: i64,
    /// When it last changed (Unix ms).
    pub updated_at: i64,
    /// The worker holding its lease, while running.
    pub worker: Option<String>,
    /// When that lease expires (Unix ms), while running.
    pub lease_expires_at: Option<i64>,
}

/// What [`Store::add_job`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum JobAdded {
    /// A new job, queued.
    Added(Job),
    /// A job of the same audio with the same settings, not failed or
    /// cancelled, exists already: nothing was added. If it is done, its
    /// session is the transcript.
    Duplicate(Job),
    /// This audio is in the record already (ingested by other means or
    /// with other settings; the record keeps one session per audio):
    /// nothing was added.
    InRecord {
        /// Its session.
        session_id: i64,
    },
}

/// Which jobs [`Store::jobs`] lists.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs this user submitted.
    pub submitted_by: Option<String>,
    /// At most this many (all when absent).
    pub limit: Option<usize>,
}

pub(crate) const JOB_COLUMNS: &str = "SELECT id, audio_sha256, audio_name, audio_bytes, audio_path,
    settings, title, sitting_date, agenda_item, priority, state, progress, session_id, failure,
    attempts, max_attempts, submitted_by, created_at, updated_at, worker, lease_expires_at
    FROM jobs";

pub(crate) fn job_from_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    let settings: String = r.get(5)?;
    let state: String = r.get(10)?;
    Ok(Job {
        id: r.get(0)?,
        audio: JobAudio {
            sha256: r.get(1)?,
            name: r.get(2)?,
            bytes: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
            path: r.get(4)?,
        },
        // Settings were written by this crate from `JobSettings`.
        settings: serde_json::from_str(&settings).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, e.into())
        })?,
        title: r.get(6)?,
        sitting_date: r.get(7)?,
        agenda_item: r.get(8)?,
        priority: r.get(9)?,
        // The schema's CHECK allows only the five names.
        state: JobState::parse(&state).unwrap_or(JobState::Failed),
        progress: r.get(11)?,
        session_id: r.get(12)?,
        failure: r.get(13)?,
        attempts: r.get(14)?,
        max_attempts: r.get(15)?,
        submitted_by: r.get(16)?,
        created_at: r.get(17)?,
        updated_at: r.get(18)?,
        worker: r.get(19)?,
        lease_expires_at: r.get(20)?,
    })
}

pub(crate) fn get_job(conn: &Connection, id: i64) -> Result<Job> {
    conn.query_row(&format!("{JOB_COLUMNS} WHERE id = ?1"), [id], job_from_row)
        .optional()?
        .ok_or(Error::UnknownJob(id))
}

/// The current time in Unix milliseconds, for what is not a lease's.
pub(crate) fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A job of this audio and settings that is not failed or cancelled,
/// other than `except`.
fn live_duplicate(
    conn: &Connection,
    sha256: &str,
    settings: &str,
    except: i64,
) -> Result<Option<Job>> {
    Ok(conn
        .query_row(
            &format!(
                "{JOB_COLUMNS} WHERE audio_sha256 = ?1 AND settings = ?2 AND id != ?3
                 AND state NOT IN ('failed', 'cancelled') ORDER BY id LIMIT 1"
            ),
            params![sha256, settings, except],
            job_from_row,
        )
        .optional()?)
}

impl Store {
    /// Adds a job, queued, unless the same work exists: a job of the same
    /// audio (SHA-256) with the same settings that has not failed or been
    /// cancelled ([`JobAdded::Duplicate`]), or a session of that audio
    /// ([`JobAdded::InRecord`]). Audited as `job_submit`.
    pub fn add_job(&mut self, job: &NewJob) -> Result<JobAdded> {
        let checked = check::new_job(job)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(existing) = live_duplicate(&tx, &checked.sha256, &checked.settings, 0)? {
            return Ok(JobAdded::Duplicate(existing));
        }
        let session: Option<i64> = tx
            .query_row(
                "SELECT id FROM sessions WHERE audio_sha256 = ?1",
                [&checked.sha256],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(session_id) = session {
            return Ok(JobAdded::InRecord { session_id });
        }
        let now = unix_ms();
        tx.execute(
            "INSERT INTO jobs (audio_sha256, audio_name, audio_bytes, audio_path, settings, title,
                 sitting_date, agenda_item, priority, max_attempts, submitted_by, created_at,
                 updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
            params![
                checked.sha256,
                checked.name,
                checked.bytes,
                checked.path,
                checked.settings,
                checked.title,
                checked.sitting_date,
                checked.agenda_item,
                job.priority,
                job.max_attempts,
                checked.submitted_by,
                now,
            ],
        )?;
        let id = tx.last_insert_rowid();
        audit(
            &tx,
            checked.submitted_by.as_deref().unwrap_or("tocky"),
            "job_submit",
            &format!("job {id}"),
            &checked.name,
        )?;
        let added = get_job(&tx, id)?;
        tx.commit()?;
        Ok(JobAdded::Added(added))
    }

    /// One job.
    pub fn job(&self, id: i64) -> Result<Job> {
        get_job(&self.conn, id)
    }

    /// A job's checkpoint: what its last worker uploaded to resume from.
    pub fn job_checkpoint(&self, id: i64) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT checkpoint FROM jobs WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or(Error::UnknownJob(id))
    }

    /// Jobs, newest first.
    pub fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        let limit = filter
            .limit
            .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let mut stmt = self.conn.prepare(&format!(
            "{JOB_COLUMNS} WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR submitted_by = ?2)
             ORDER BY id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(
            params![
                filter.state.map(JobState::as_str),
                filter.submitted_by,
                limit
            ],
            job_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Cancels a queued or running job (its worker's next heartbeat is
    /// refused with [`Error::LeaseLost`]). Cancelling a cancelled job
    /// changes nothing; a done or failed one is refused. Audited as
    /// `job_cancel`.
    pub fn cancel_job(&mut self, id: i64, by: &str) -> Result<Job> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let job = get_job(&tx, id)?;
        match job.state {
            JobState::Cancelled => return Ok(job),
            JobState::Done | JobState::Failed => {
                return Err(Error::JobRefused {
                    job: id,
                    reason: format!("a {} job cannot be cancelled", job.state),
                });
            }
            JobState::Queued | JobState::Running => {}
        }
        tx.execute(
            "UPDATE jobs SET state = 'cancelled', worker = NULL, lease_token = NULL,
                 lease_expires_at = NULL, updated_at = ?2
             WHERE id = ?1",
            params![id, unix_ms()],
        )?;
        audit(
            &tx,
            by,
            "job_cancel",
            &format!("job {id}"),
            job.state.as_str(),
        )?;
        let job = get_job(&tx, id)?;
        tx.commit()?;
        Ok(job)
    }

    /// Queues a failed or cancelled job again, with all its attempts and
    /// its checkpoint. Refused for a job in another state, or when another
    /// job of the same audio and settings has been submitted since. Audited
    /// as `job_retry`.
    pub fn retry_job(&mut self, id: i64, by: &str) -> Result<Job> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let job = get_job(&tx, id)?;
        if !matches!(job.state, JobState::Failed | JobState::Cancelled) {
            return Err(Error::JobRefused {
                job: id,
                reason: format!(
                    "only a failed or cancelled job can be retried (it is {})",
                    job.state
                ),
            });
        }
        let settings: String =
            tx.query_row("SELECT settings FROM jobs WHERE id = ?1", [id], |r| {
                r.get(0)
            })?;
        if let Some(other) = live_duplicate(&tx, &job.audio.sha256, &settings, id)? {
            return Err(Error::JobRefused {
                job: id,
                reason: format!(
                    "job {} is the same audio with the same settings ({})",
                    other.id, other.state
                ),
            });
        }
        tx.execute(
            "UPDATE jobs SET state = 'queued', attempts = 0, progress = 0, failure = NULL,
                 worker = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = ?2
             WHERE id = ?1",
            params![id, unix_ms()],
        )?;
        audit(
            &tx,
            by,
            "job_retry",
            &format!("job {id}"),
            job.state.as_str(),
        )?;
        let job = get_job(&tx, id)?;
        tx.commit()?;
        Ok(job)
    }
}
