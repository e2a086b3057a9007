//! What happened since: the workflow steps logged after a mark (for the
//! server to tell live clients about the steps the store's triggers made
//! when the record changed).

use serde::{Deserialize, Serialize};

use super::WorkflowStep;
use crate::{Result, Store};

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
