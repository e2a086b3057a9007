//! What happened since: the corrections the working record would publish
//! against the last version (for the publisher to give their reasons
//! before publishing), and the workflow steps logged after a mark (for
//! the server to tell live clients about the steps the store's triggers
//! made when the record changed).

use rusqlite::{Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use super::{Correction, WorkflowStep, content, latest_version};
use crate::{Result, Store};

/// The corrections publishing now would list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCorrections {
    /// The session.
    pub session_id: i64,
    /// The last published version (its number), which they correct; `None`
    /// before version 1, when there is nothing to correct.
    pub previous: Option<i64>,
    /// The number the next version would get.
    pub next: i64,
    /// Whether the working record is exactly the last version (a change
    /// undone): publishing would then make no new version.
    pub unchanged: bool,
    /// What changed, in the order of the sitting. Not stored yet: each
    /// one's `id` is 0, `version` is [`Self::next`] and `reason` is `None`.
    pub corrections: Vec<Correction>,
}

/// A step of the workflow log, with where it is in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedStep {
    /// Its row in the log (rising).
    pub id: i64,
    /// The session it moved.
    pub session_id: i64,
    /// The step.
    pub step: WorkflowStep,
}

impl Store {
    /// The corrections that publishing session `session_id` now would list
    /// against its last version, computed as publishing computes them.
    pub fn pending_corrections(&self, session_id: i64) -> Result<PendingCorrections> {
        // One read snapshot: the record and the last version agree.
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred)?;
        let (content, sha) = content::freeze(self, session_id, &self.written)?;
        let last = latest_version(&tx, session_id)?;
        let Some(last) = last else {
            return Ok(PendingCorrections {
                session_id,
                previous: None,
                next: 1,
                unchanged: false,
                corrections: Vec::new(),
            });
        };
        let before: String = tx.query_row(
            "SELECT content FROM record_versions WHERE id = ?1",
            [last.id],
            |r| r.get(0),
        )?;
        let next = last.number + 1;
        let corrections = content::changes(&before, &content)?
            .into_iter()
            .map(|c| Correction {
                id: 0,
                version: next,
                previous_version: last.number,
                target: c.target.into(),
                target_id: c.target_id,
                change: c.change.into(),
                at_ms: c.at_ms,
                before: c.before,
                after: c.after,
                reason: None,
            })
            .collect();
        Ok(PendingCorrections {
            session_id,
            previous: Some(last.number),
            next,
            unchanged: last.sha256 == sha,
            corrections,
        })
    }

    /// The last row of the workflow log (0 when it is empty): a mark for
    /// [`Store::workflow_steps_after`].
    pub fn workflow_log_mark(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT coalesce(max(id), 0) FROM workflow_log", [], |r| {
                r.get(0)
            })?)
    }

    /// The steps logged after row `mark`, oldest first, at most `limit`.
    pub fn workflow_steps_after(&self, mark: i64, limit: usize) -> Result<Vec<LoggedStep>> {
        let mut stmt = self.conn.prepare(
            "SELECT l.id, l.session_id, l.at, l.actor, l.from_state, l.to_state, v.number, l.note
             FROM workflow_log l LEFT JOIN record_versions v ON v.id = l.version_id
             WHERE l.id > ?1 ORDER BY l.id LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(rusqlite::params![mark, limit], |r| {
            Ok(LoggedStep {
                id: r.get(0)?,
                session_id: r.get(1)?,
                step: WorkflowStep {
                    at: r.get(2)?,
                    actor: r.get(3)?,
                    from: r.get(4)?,
                    to: r.get(5)?,
                    version: r.get(6)?,
                    note: r.get(7)?,
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
