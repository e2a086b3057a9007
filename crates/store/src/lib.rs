//! The record: transcripts in SQLite, the source of truth.
//!
//! One file, no server. It runs in WAL mode with foreign keys on and
//! `synchronous = FULL`, so that a committed edit survives a crash or a
//! power cut. Every write is one `BEGIN IMMEDIATE` transaction: writers
//! from several threads or processes queue on SQLite's lock (with a busy
//! timeout) instead of failing. Edits carry the version they change; a
//! stale one is refused with [`Error::Conflict`] and nothing is
//! overwritten. Every edit is kept as a [`Revision`], and the audit log
//! records who did what. The search index is derived from this store; the
//! store's *generation*, bumped by every write that search must see, tells
//! an index whether it is stale. Each segment records the generation at
//! which it last changed, so that an index can catch up with exactly what
//! it missed (see [`Store::search_rows_since`]).

pub mod agenda;
pub mod clean;
mod edits;
pub mod error;
mod ingest;
pub mod jobs;
pub mod live;
pub mod model;
pub mod notes;
pub mod ops;
pub mod people;
pub mod published;
pub mod record;
mod retime;
mod rows;
mod schema;
mod segment_ops;
pub mod tokens;
pub mod users;
pub mod workflow;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use rusqlite_migration::SchemaVersion;

pub use agenda::{AgendaChange, AgendaEntry, AgendaItem, ItemStart, StartChange};
pub use edits::MAX_SPEAKER_NAME_BYTES;
pub use error::{Error, Refusal, Result};
pub use jobs::{
    Claim, Heartbeat, Job, JobAdded, JobAudio, JobFilter, JobSettings, JobState, NewJob,
};
pub use live::NewSpeaker;
pub use model::{
    AuditEntry, IngestOutcome, ReviewStatus, Revision, Role, SearchRow, SearchSync, SegmentEdit,
    SegmentState, Session, SessionMeta, SessionSummary, Speaker, StoredSegment, User,
};
pub use notes::{NoteChange, NoteEdit, SceneKind, SceneNote};
pub use people::{ImportSummary, NewPerson, Person, PersonRole, RoleSpan};
pub use record::{Record, RecordEntry, RecordItem, Speech};
pub use segment_ops::{NewSegment, OperationOutcome, SplitAt};
pub use tokens::ApiToken;
pub use workflow::{
    Correction, PublishedRecord, Reasons, RecordVersion, VersionInfo, VersionState, Workflow,
    WorkflowMove, WorkflowState, WorkflowStep,
};

/// How long a writer waits for another's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest transcript document `ingest_file` reads.
pub const MAX_DOCUMENT_BYTES: u64 = 256 << 20;

/// An open store.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
    /// The rules of the record's written form ([`Store::set_written`]).
    pub(crate) written: tocky_itn::Itn,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema
    /// up to date.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::Io {
                path: dir.into(),
                source: e,
            })?;
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Invalid(format!(
                "{}: cannot switch to WAL mode (got {mode})",
                path.display()
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        migrate(&mut conn)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
            written: tocky_itn::Itn::new(tocky_itn::Options::default()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The generation: a counter bumped by every write that search must see.
    pub fn generation(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT value FROM generation WHERE id = 1", [], |r| {
                r.get(0)
            })?)
    }

    /// All sessions, newest sitting first.
    pub fn sessions(&self) -> Result<Vec<Session>> {
        let mut stmt = self.conn.prepare(&format!(
            "{SESSION_COLUMNS} ORDER BY sitting_date DESC, id DESC"
        ))?;
        let rows = stmt.query_map([], session_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// All sessions with their review counts, newest sitting first.
    pub fn session_summaries(&self) -> Result<Vec<SessionSummary>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.id, s.title, s.sitting_date, s.agenda_item, s.audio_file, s.audio_sha256,
                    s.duration_ms, s.language, s.status, s.created_at, s.workflow,
                    (SELECT count(*) FROM segments g WHERE g.session_id = s.id),
                    (SELECT count(*) FROM segments g WHERE g.session_id = s.id
                        AND g.review_status = 'reviewed')
             FROM sessions s ORDER BY s.sitting_date DESC, s.id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SessionSummary {
                session: session_from_row(r)?,
                segment_count: r.get(11)?,
                reviewed_count: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A session's speakers, by name.
    pub fn speakers(&self, session_id: i64) -> Result<Vec<Speaker>> {
        self.session(session_id)?;
        let mut stmt = self.conn.prepare(
            "SELECT id, name, seat, channel, person_id FROM speakers WHERE session_id = ?1
             ORDER BY name",
        )?;
        let rows = stmt.query_map([session_id], |r| {
            Ok(Speaker {
                id: r.get(0)?,
                name: r.get(1)?,
                seat: r.get(2)?,
                channel: r.get(3)?,
                person_id: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One session.
    pub fn session(&self, id: i64) -> Result<Session> {
        self.conn
            .query_row(
                &format!("{SESSION_COLUMNS} WHERE id = ?1"),
                [id],
                session_from_row,
            )
            .optional()?
            .ok_or(Error::UnknownSession(id))
    }

    /// A session's segments in time order.
    pub fn segments(&self, session_id: i64) -> Result<Vec<StoredSegment>> {
        self.session(session_id)?;
        let mut stmt = self.conn.prepare(&format!(
            "{SEGMENT_COLUMNS} WHERE session_id = ?1 AND state != 'removed' ORDER BY start_ms, seq"
        ))?;
        let rows = stmt.query_map([session_id], segment_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One segment.
    pub fn segment(&self, id: i64) -> Result<StoredSegment> {
        get_segment(&self.conn, id)
    }

    /// Where the record stands for search: its generation, and the
    /// generation from which an index must be rebuilt whole.
    pub fn search_sync(&self) -> Result<SearchSync> {
        search_sync(&self.conn)
    }

    /// In one consistent read: what search needs of every segment that
    /// changed after generation `since` (of every segment when `None`),
    /// and of one session's (`session`) or one segment (`segment`); and the
    /// [`SearchSync`] those rows reflect. An index that has every change up
    /// to generation `since`, once it has these rows, has every change up
    /// to the returned generation, however many writers ran in between.
    pub fn search_rows_since(
        &self,
        since: Option<i64>,
        session: Option<i64>,
        segment: Option<i64>,
        mut f: impl FnMut(SearchRow),
    ) -> Result<SearchSync> {
        // A read transaction: the generation and the rows come from one snapshot.
        let tx = self.conn.unchecked_transaction()?;
        let sync = search_sync(&tx)?;
        {
            const COLUMNS: &str =
                "SELECT g.id, g.session_id, g.speaker_id, g.start_ms, s.sitting_date, g.text,
                        g.state = 'speech'
                 FROM segments g JOIN sessions s ON s.id = g.session_id";
            // Written so that a catch-up looks up its rows by index (no
            // `IS NULL` or `ORDER BY` to turn it into a scan of the table).
            let mut stmt = tx.prepare(&match since {
                Some(_) => {
                    format!("{COLUMNS} WHERE g.generation > ?1 OR g.session_id = ?2 OR g.id = ?3")
                }
                None => format!("{COLUMNS} ORDER BY g.id"),
            })?;
            let mut rows = match since {
                Some(since) => stmt.query(params![since, session, segment])?,
                None => stmt.query([])?,
            };
            while let Some(r) = rows.next()? {
                f(SearchRow {
                    segment_id: r.get(0)?,
                    session_id: r.get(1)?,
                    speaker_id: r.get(2)?,
                    start_ms: r.get(3)?,
                    sitting_date: r.get(4)?,
                    text: r.get(5)?,
                    in_record: r.get(6)?,
                });
            }
        }
        tx.commit()?;
        Ok(sync)
    }

    /// Every segment in the store, for rebuilding a search index.
    pub fn for_each_segment(&self, mut f: impl FnMut(&StoredSegment)) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare(&format!("{SEGMENT_COLUMNS} ORDER BY id"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            f(&segment_from_row(row)?);
        }
        Ok(())
    }

    /// Records an action in the audit log (logins, user changes …).
    pub fn audit(&mut self, actor: &str, action: &str, subject: &str, detail: &str) -> Result<()> {
        audit(&self.conn, actor, action, subject, detail)
    }

    /// The latest audit entries, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT at, actor, action, subject FROM audit_log ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                subject: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Writes a consistent copy of the store to `dest` while it is in use
    /// (SQLite's online backup). The copy appears complete or not at all.
    pub fn backup(&self, dest: &Path) -> Result<()> {
        let mut partial = dest.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let _ = std::fs::remove_file(&partial);
        self.conn.backup(rusqlite::MAIN_DB, &partial, None)?;
        let check: String =
            Connection::open(&partial)?.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if check != "ok" {
            let _ = std::fs::remove_file(&partial);
            return Err(Error::Invalid(format!(
                "the backup failed its integrity check: {check}"
            )));
        }
        std::fs::rename(&partial, dest).map_err(|e| Error::Io {
            path: dest.into(),
            source: e,
        })?;
        // The rename itself survives a power cut only once its folder is synced.
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }

    /// Replaces the store's contents with a backup's, after checking the
    /// backup's integrity. Stop the server first: other connections would
    /// see the store change under them.
    pub fn restore(&mut self, backup: &Path) -> Result<()> {
        if !backup.is_file() {
            return Err(Error::Io {
                path: backup.into(),
                source: std::io::ErrorKind::NotFound.into(),
            });
        }
        let source =
            Connection::open_with_flags(backup, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let check: String = source.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(Error::Invalid(format!(
                "{}: not a sound backup ({check})",
                backup.display()
            )));
        }
        // Only a tocky record this version can read: anything else would
        // replace the record with what cannot be used or migrated.
        match schema::migrations().current_version(&source)? {
            SchemaVersion::Inside(_) => {}
            version => {
                return Err(Error::Invalid(format!(
                    "{}: not a tocky record this version can restore (schema version {version})",
                    backup.display()
                )));
            }
        }
        drop(source);
        let before = self.generation()?;
        self.conn.restore(
            rusqlite::MAIN_DB,
            backup,
            None::<fn(rusqlite::backup::Progress)>,
        )?;
        migrate(&mut self.conn)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The backup's generation may equal the one an index already
        // reflects; a generation above both, from which indexes rebuild,
        // makes every index see that the record was replaced.
        tx.execute(
            "UPDATE generation SET value = MAX(value, ?1) + 1, rebuild_from = MAX(value, ?1) + 1
             WHERE id = 1",
            [before],
        )?;
        audit(&tx, "tocky", "restore", &backup.display().to_string(), "")?;
        tx.commit()?;
        Ok(())
    }
}

const SESSION_COLUMNS: &str =
    "SELECT id, title, sitting_date, agenda_item, audio_file, audio_sha256,
    duration_ms, language, status, created_at, workflow FROM sessions";

pub(crate) const SEGMENT_COLUMNS: &str =
    "SELECT id, session_id, seq, start_ms, end_ms, channel, speaker_id,
    text, words, version, review_status, updated_at, state, words_aligned FROM segments";

fn session_from_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: r.get(0)?,
        title: r.get(1)?,
        sitting_date: r.get(2)?,
        agenda_item: r.get(3)?,
        audio_file: r.get(4)?,
        audio_sha256: r.get(5)?,
        duration_ms: r.get(6)?,
        language: r.get(7)?,
        status: r.get(8)?,
        created_at: r.get(9)?,
        workflow: r.get(10)?,
    })
}

pub(crate) fn segment_from_row(r: &Row<'_>) -> rusqlite::Result<StoredSegment> {
    let words: String = r.get(8)?;
    Ok(StoredSegment {
        id: r.get(0)?,
        session_id: r.get(1)?,
        seq: r.get(2)?,
        start_ms: r.get(3)?,
        end_ms: r.get(4)?,
        channel: r.get(5)?,
        speaker_id: r.get(6)?,
        text: r.get(7)?,
        // Words were written by this crate; unreadable ones read as none.
        words: serde_json::from_str(&words).unwrap_or_default(),
        version: r.get(9)?,
        review_status: r.get(10)?,
        updated_at: r.get(11)?,
        // The schema's CHECK allows only the three names.
        state: SegmentState::parse(&r.get::<_, String>(12)?).unwrap_or(SegmentState::Speech),
        words_aligned: r.get(13)?,
    })
}

fn search_sync(conn: &Connection) -> Result<SearchSync> {
    Ok(conn.query_row(
        "SELECT value, rebuild_from FROM generation WHERE id = 1",
        [],
        |r| {
            Ok(SearchSync {
                generation: r.get(0)?,
                rebuild_from: r.get(1)?,
            })
        },
    )?)
}

pub(crate) fn get_segment(conn: &Connection, id: i64) -> Result<StoredSegment> {
    conn.query_row(
        &format!("{SEGMENT_COLUMNS} WHERE id = ?1"),
        [id],
        segment_from_row,
    )
    .optional()?
    .ok_or(Error::UnknownSegment(id))
}

/// Brings the schema up to date with foreign keys off, as SQLite's way of
/// rebuilding a table needs (a dropped parent would cascade into its
/// children), then turns them on; each migration checks them itself.
fn migrate(conn: &mut Connection) -> Result<()> {
    conn.pragma_update(None, "foreign_keys", false)?;
    schema::migrations().to_latest(conn)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// Bumps the generation; returns the new one.
pub(crate) fn bump_generation(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "UPDATE generation SET value = value + 1 WHERE id = 1 RETURNING value",
        [],
        |r| r.get(0),
    )?)
}

pub(crate) fn audit(
    conn: &Connection,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<()> {
    // Actors and subjects can be typed by anyone (a failed login's name):
    // what could forge or hide text is escaped, and length is bounded.
    conn.execute(
        "INSERT INTO audit_log (actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4)",
        params![
            clean::audit_actor(actor),
            action,
            clean::audit_text(subject),
            clean::audit_text(detail)
        ],
    )?;
    Ok(())
}
