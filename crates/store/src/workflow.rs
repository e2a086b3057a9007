//! The workflow of a sitting (docs/workflow.md): draft → checked (every
//! segment of the record reviewed) → approved → published (a frozen,
//! numbered version, provisional) → final.
//!
//! Each step is one transaction that checks where the sitting stands,
//! moves it, and writes the workflow log and the audit log with who moved
//! it; a step that is not allowed is refused with
//! [`Error::WorkflowRefused`] and writes nothing. Publishing freezes the
//! record as a [`PublishedRecord`] (JSON and its SHA-256, never changed
//! afterwards) and lists its [`Correction`]s against the version before.
//! Any change to what the record prints (triggers of migration 6, whatever
//! wrote it) sends a checked, approved or published sitting back to
//! draft: readers keep the last published version while the working
//! record is the draft of the next one.

mod content;
pub mod pending;

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

pub use content::{
    PublishedRecord, PublishedSegment, PublishedSession, SCHEMA, SCHEMA_VERSION, sha256_hex,
};

use crate::error::Refusal;
use crate::{Error, Result, Store, audit};

/// Where a sitting's working record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkflowState {
    /// Being transcribed and edited (also: corrections after publication).
    Draft,
    /// Every segment reviewed; a stenographer says it is ready.
    Checked,
    /// An editor approved it for publication.
    Approved,
    /// Its last version is published, provisional, and nothing changed since.
    Published,
    /// Its last version is final, and nothing changed since.
    Final,
}

impl WorkflowState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Checked => "checked",
            Self::Approved => "approved",
            Self::Published => "published",
            Self::Final => "final",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(Self::Draft),
            "checked" => Some(Self::Checked),
            "approved" => Some(Self::Approved),
            "published" => Some(Self::Published),
            "final" => Some(Self::Final),
            _ => None,
        }
    }
}

impl std::str::FromStr for WorkflowState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| {
            format!("unknown state {s:?} (expected draft, checked, approved, published or final)")
        })
    }
}

/// A published version's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionState {
    /// Published the same day; members may ask for corrections.
    Provisional,
    /// The final record.
    Final,
}

/// A published version, without its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// Its row id.
    pub id: i64,
    /// Its session.
    pub session_id: i64,
    /// Its number, from 1.
    pub number: i64,
    /// Provisional or final.
    pub state: VersionState,
    /// The SHA-256 of its content (lowercase hex).
    pub sha256: String,
    /// Its content's length in bytes.
    pub bytes: i64,
    /// Who published it.
    pub published_by: String,
    /// When (UTC, ISO 8601).
    pub published_at: String,
    /// What the publisher said of it.
    pub note: Option<String>,
    /// Who made it final, and when.
    pub finalised_by: Option<String>,
    /// When it was made final.
    pub finalised_at: Option<String>,
    /// The version it corrects (its number), if any.
    pub previous: Option<i64>,
    /// The version that corrects it (its number), if any.
    pub next: Option<i64>,
    /// How many corrections it lists against `previous`.
    pub corrections: i64,
}

/// A published version with its content, exactly as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordVersion {
    /// The version.
    pub info: VersionInfo,
    /// Its content: a [`PublishedRecord`] as JSON, the bytes hashed.
    pub content: String,
}

/// A change a version made to the one before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// Its id.
    pub id: i64,
    /// The version that made it (its number).
    pub version: i64,
    /// The version it corrects (its number).
    pub previous_version: i64,
    /// What it changed: `segment`, `note` or `agenda_item`.
    pub target: String,
    /// That thing's id in the store.
    pub target_id: i64,
    /// `text`, `speaker`, `added` or `removed`.
    pub change: String,
    /// Where in the sitting (ms from the start of its audio), when known.
    pub at_ms: Option<i64>,
    /// The text (or speaker) before; `None` when added.
    pub before: Option<String>,
    /// After; `None` when removed.
    pub after: Option<String>,
    /// Why, as given at publication.
    pub reason: Option<String>,
}

/// One step of a sitting's workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowStep {
    /// When (UTC, ISO 8601).
    pub at: String,
    /// Who (`tocky` when a change to the record sent it back to draft).
    pub actor: String,
    /// From.
    pub from: String,
    /// To.
    pub to: String,
    /// The version it published or finalised (its number).
    pub version: Option<i64>,
    /// What was said.
    pub note: Option<String>,
}

/// Where a sitting stands, for people and for the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    /// The session.
    pub session_id: i64,
    /// Where its working record is.
    pub state: WorkflowState,
    /// Segments in the record (speech).
    pub segments: i64,
    /// Of those, how many are not reviewed.
    pub unreviewed: i64,
    /// The last published version, which readers see.
    pub published: Option<VersionInfo>,
    /// Every step, oldest first.
    pub history: Vec<WorkflowStep>,
}

/// What a step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowMove {
    /// The session.
    pub session_id: i64,
    /// Where it was.
    pub from: WorkflowState,
    /// Where it is.
    pub to: WorkflowState,
    /// The version published or made final by this step.
    pub version: Option<VersionInfo>,
}

/// Reasons given at publication: for the corrections of one segment, and
/// for the rest.
#[derive(Debug, Clone, Default)]
pub struct Reasons {
    /// Why, by segment id.
    pub by_segment: BTreeMap<i64, String>,
    /// Why, for every other correction (the publication's note when `None`).
    pub default: Option<String>,
}

const VERSION_COLUMNS: &str = "SELECT v.id, v.session_id, v.number, v.state, v.sha256,
        length(CAST(v.content AS BLOB)), v.published_by, v.published_at, v.note,
        v.finalised_by, v.finalised_at,
        (SELECT max(p.number) FROM record_versions p
            WHERE p.session_id = v.session_id AND p.number < v.number),
        (SELECT min(n.number) FROM record_versions n
            WHERE n.session_id = v.session_id AND n.number > v.number),
        (SELECT count(*) FROM corrections c WHERE c.version_id = v.id)
    FROM record_versions v";

fn version_from_row(r: &Row<'_>) -> rusqlite::Result<VersionInfo> {
    let state: String = r.get(3)?;
    Ok(VersionInfo {
        id: r.get(0)?,
        session_id: r.get(1)?,
        number: r.get(2)?,
        // The CHECK allows only the two names.
        state: match state.as_str() {
            "final" => VersionState::Final,
            _ => VersionState::Provisional,
        },
        sha256: r.get(4)?,
        bytes: r.get(5)?,
        published_by: r.get(6)?,
        published_at: r.get(7)?,
        note: r.get(8)?,
        finalised_by: r.get(9)?,
        finalised_at: r.get(10)?,
        previous: r.get(11)?,
        next: r.get(12)?,
        corrections: r.get(13)?,
    })
}

fn latest_version(conn: &Connection, session_id: i64) -> Result<Option<VersionInfo>> {
    Ok(conn
        .query_row(
            &format!("{VERSION_COLUMNS} WHERE v.session_id = ?1 ORDER BY v.number DESC LIMIT 1"),
            [session_id],
            version_from_row,
        )
        .optional()?)
}

/// The working state, the live status, and the counts of segments in the
/// record and of those unreviewed.
fn standing(conn: &Connection, session_id: i64) -> Result<(WorkflowState, bool, i64, i64)> {
    let (workflow, status): (String, String) = conn
        .query_row(
            "SELECT workflow, status FROM sessions WHERE id = ?1",
            [session_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or(Error::UnknownSession(session_id))?;
    let (segments, unreviewed): (i64, i64) = conn.query_row(
        "SELECT count(*), count(*) FILTER (WHERE review_status != 'reviewed')
         FROM segments WHERE session_id = ?1 AND state = 'speech'",
        [session_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    // The CHECK allows only the five names.
    let state = WorkflowState::parse(&workflow).unwrap_or(WorkflowState::Draft);
    Ok((state, status == "live", segments, unreviewed))
}

impl Store {
    /// Where session `session_id` stands: its state, its review counts,
    /// its last published version and every step so far.
    pub fn workflow(&self, session_id: i64) -> Result<Workflow> {
        let (state, _, segments, unreviewed) = standing(&self.conn, session_id)?;
        let mut stmt = self.conn.prepare(
            "SELECT l.at, l.actor, l.from_state, l.to_state, v.number, l.note
             FROM workflow_log l LEFT JOIN record_versions v ON v.id = l.version_id
             WHERE l.session_id = ?1 ORDER BY l.id",
        )?;
        let history = stmt
            .query_map([session_id], |r| {
                Ok(WorkflowStep {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    from: r.get(2)?,
                    to: r.get(3)?,
                    version: r.get(4)?,
                    note: r.get(5)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Workflow {
            session_id,
            state,
            segments,
            unreviewed,
            published: latest_version(&self.conn, session_id)?,
            history,
        })
    }

    /// Moves session `session_id` to `to` on behalf of `actor` (roles are
    /// the caller's to check), with a note for the log, and for publishing
    /// the reasons of its corrections. Allowed steps: draft → checked →
    /// approved → published → final, and back to draft from checked or
    /// approved. A step that is not allowed is refused with its reason
    /// ([`Error::WorkflowRefused`]).
    pub fn move_workflow(
        &mut self,
        session_id: i64,
        to: WorkflowState,
        actor: &str,
        note: Option<&str>,
        reasons: &Reasons,
    ) -> Result<WorkflowMove> {
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        // Immediate: the checks and the step see and write one state.
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let (from, live, segments, unreviewed) = standing(&tx, session_id)?;
        let refuse = |refusal| Error::WorkflowRefused {
            session: session_id,
            refusal,
        };
        let step = match to {
            WorkflowState::Draft => "sent back to draft",
            WorkflowState::Checked => "checked",
            WorkflowState::Approved => "approved",
            WorkflowState::Published => "published",
            WorkflowState::Final => "made final",
        };
        if from == to {
            return Err(refuse(Refusal::Already {
                state: from.as_str().into(),
            }));
        }
        if live && to != WorkflowState::Draft {
            return Err(refuse(Refusal::Live { step }));
        }
        if matches!(
            to,
            WorkflowState::Checked | WorkflowState::Approved | WorkflowState::Published
        ) {
            if segments == 0 {
                return Err(refuse(Refusal::Empty { step }));
            }
            if unreviewed > 0 {
                return Err(refuse(Refusal::Unreviewed { count: unreviewed }));
            }
        }
        let (allowed, needed) = match to {
            WorkflowState::Draft => (
                matches!(from, WorkflowState::Checked | WorkflowState::Approved),
                "a checked or approved",
            ),
            WorkflowState::Checked => (from == WorkflowState::Draft, "a draft"),
            WorkflowState::Approved => (from == WorkflowState::Checked, "a checked"),
            WorkflowState::Published => (from == WorkflowState::Approved, "an approved"),
            WorkflowState::Final => (from == WorkflowState::Published, "a published"),
        };
        if !allowed {
            return Err(refuse(Refusal::OutOfOrder {
                step,
                needed,
                state: from.as_str().into(),
            }));
        }

        let mut reached = to;
        let version_id = match to {
            WorkflowState::Published => {
                let (id, back_to) = publish(self, &tx, session_id, actor, note, reasons)?;
                reached = back_to;
                Some(id)
            }
            WorkflowState::Final => {
                let latest =
                    latest_version(&tx, session_id)?.ok_or(refuse(Refusal::OutOfOrder {
                        step,
                        needed: "a published",
                        state: from.as_str().into(),
                    }))?;
                tx.execute(
                    "UPDATE record_versions SET state = 'final', finalised_by = ?1,
                         finalised_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                     WHERE id = ?2",
                    params![crate::clean::audit_actor(actor), latest.id],
                )?;
                Some(latest.id)
            }
            _ => None,
        };
        tx.execute(
            "UPDATE sessions SET workflow = ?1 WHERE id = ?2",
            params![reached.as_str(), session_id],
        )?;
        tx.execute(
            "INSERT INTO workflow_log (session_id, actor, from_state, to_state, version_id, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                session_id,
                crate::clean::audit_actor(actor),
                from.as_str(),
                reached.as_str(),
                version_id,
                note
            ],
        )?;
        let version = match version_id {
            Some(id) => Some(tx.query_row(
                &format!("{VERSION_COLUMNS} WHERE v.id = ?1"),
                [id],
                version_from_row,
            )?),
            None => None,
        };
        let detail = match &version {
            Some(v) => format!(
                "{} -> {} (version {}, sha256 {})",
                from.as_str(),
                reached.as_str(),
                v.number,
                v.sha256
            ),
            None => format!("{} -> {}", from.as_str(), reached.as_str()),
        };
        audit(
            &tx,
            actor,
            "workflow",
            &format!("session {session_id}"),
            &detail,
        )?;
        tx.commit()?;
        Ok(WorkflowMove {
            session_id,
            from,
            to: reached,
            version,
        })
    }

    /// The published versions of a session, oldest first.
    pub fn versions(&self, session_id: i64) -> Result<Vec<VersionInfo>> {
        self.session(session_id)?;
        let mut stmt = self.conn.prepare(&format!(
            "{VERSION_COLUMNS} WHERE v.session_id = ?1 ORDER BY v.number"
        ))?;
        let rows = stmt.query_map([session_id], version_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Version `number` of a session, with its content exactly as published.
    pub fn version(&self, session_id: i64, number: i64) -> Result<RecordVersion> {
        self.session(session_id)?;
        let info = self
            .conn
            .query_row(
                &format!("{VERSION_COLUMNS} WHERE v.session_id = ?1 AND v.number = ?2"),
                params![session_id, number],
                version_from_row,
            )
            .optional()?
            .ok_or(Error::UnknownVersion {
                session: session_id,
                number,
            })?;
        let content: String = self.conn.query_row(
            "SELECT content FROM record_versions WHERE id = ?1",
            [info.id],
            |r| r.get(0),
        )?;
        Ok(RecordVersion { info, content })
    }

    /// The corrections version `number` of a session lists against the
    /// version before it (none for version 1), in the order of the sitting.
    pub fn corrections(&self, session_id: i64, number: i64) -> Result<Vec<Correction>> {
        let info = self.version(session_id, number)?.info;
        corrections_where(&self.conn, "c.version_id = ?1", info.id)
    }

    /// Every correction published for a segment, oldest version first:
    /// the way back from the record to its corrections.
    pub fn segment_corrections(&self, segment_id: i64) -> Result<Vec<Correction>> {
        crate::get_segment(&self.conn, segment_id)?;
        corrections_where(
            &self.conn,
            "c.target = 'segment' AND c.target_id = ?1",
            segment_id,
        )
    }
}

fn corrections_where(conn: &Connection, filter: &str, value: i64) -> Result<Vec<Correction>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT c.id, v.number,
                (SELECT max(p.number) FROM record_versions p
                    WHERE p.session_id = v.session_id AND p.number < v.number),
                c.target, c.target_id, c.change, c.at_ms, c.before, c.after, c.reason
         FROM corrections c JOIN record_versions v ON v.id = c.version_id
         WHERE {filter} ORDER BY v.number, c.id"
    ))?;
    let rows = stmt.query_map([value], |r| {
        Ok(Correction {
            id: r.get(0)?,
            version: r.get(1)?,
            previous_version: r.get::<_, Option<i64>>(2)?.unwrap_or(0),
            target: r.get(3)?,
            target_id: r.get(4)?,
            change: r.get(5)?,
            at_ms: r.get(6)?,
            before: r.get(7)?,
            after: r.get(8)?,
            reason: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Freezes the record as the next version, with its corrections against
/// the last one. When nothing changed since the last version, no version
/// is made: the sitting is back where that version left it. Returns the
/// version's id and the state the sitting reaches.
fn publish(
    store: &Store,
    tx: &Connection,
    session_id: i64,
    actor: &str,
    note: Option<&str>,
    reasons: &Reasons,
) -> Result<(i64, WorkflowState)> {
    let (content, sha) = content::freeze(store, session_id, &store.written)?;
    let last = latest_version(tx, session_id)?;
    if let Some(last) = &last
        && last.sha256 == sha
    {
        let state = match last.state {
            VersionState::Provisional => WorkflowState::Published,
            VersionState::Final => WorkflowState::Final,
        };
        return Ok((last.id, state));
    }
    let number = last.as_ref().map_or(1, |v| v.number + 1);
    tx.execute(
        "INSERT INTO record_versions (session_id, number, content, sha256, published_by, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            session_id,
            number,
            content,
            sha,
            crate::clean::audit_actor(actor),
            note
        ],
    )?;
    let id = tx.last_insert_rowid();
    if let Some(last) = last {
        let before: String = tx.query_row(
            "SELECT content FROM record_versions WHERE id = ?1",
            [last.id],
            |r| r.get(0),
        )?;
        let mut insert = tx.prepare(
            "INSERT INTO corrections (version_id, target, target_id, change, at_ms, before, after,
                 reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for c in content::changes(&before, &content)? {
            let reason = match c.target {
                "segment" => reasons.by_segment.get(&c.target_id).map(String::as_str),
                _ => None,
            }
            .or(reasons.default.as_deref())
            .or(note);
            insert.execute(params![
                id,
                c.target,
                c.target_id,
                c.change,
                c.at_ms,
                c.before,
                c.after,
                reason
            ])?;
        }
    }
    Ok((id, WorkflowState::Published))
}
