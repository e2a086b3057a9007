//! The published record at a glance: every published version of every
//! sitting in one read, for the public list of sittings, the Atom feed and
//! the search index's published layer. Only what never changes once
//! published is read from a version (its number, hash, publisher and
//! time), with its state and its corrections count; the title and date
//! are the sitting's, which ingest sets and no edit changes.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::workflow::VersionState;
use crate::{Result, Store};

/// A published version, with the sitting it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedVersion {
    /// The session.
    pub session_id: i64,
    /// The sitting's title.
    pub title: String,
    /// The sitting's date, `YYYY-MM-DD`.
    pub sitting_date: Option<String>,
    /// The version's number, from 1.
    pub number: i64,
    /// Provisional or final.
    pub state: VersionState,
    /// The SHA-256 of its content (lowercase hex).
    pub sha256: String,
    /// Who published it.
    pub published_by: String,
    /// When (UTC, ISO 8601).
    pub published_at: String,
    /// When it was made final.
    pub finalised_at: Option<String>,
    /// How many corrections it lists against the version before.
    pub corrections: i64,
    /// Whether it is its sitting's latest version.
    pub latest: bool,
    /// How many segments it holds (all reviewed: a version is published
    /// only then).
    pub segment_count: i64,
}

/// Which published versions [`Store::published_versions`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishedScope {
    /// Each sitting's latest version, sittings by date (newest first).
    Latest,
    /// Every version, newest publication first.
    All,
}

impl Store {
    /// Published versions (`scope`), at most `limit` of them.
    pub fn published_versions(
        &self,
        scope: PublishedScope,
        limit: usize,
    ) -> Result<Vec<PublishedVersion>> {
        let (filter, order) = match scope {
            PublishedScope::Latest => (
                "WHERE latest",
                "ORDER BY day IS NULL, day DESC, session_id DESC",
            ),
            PublishedScope::All => ("", "ORDER BY published_at DESC, id DESC"),
        };
        let mut stmt = self.conn.prepare(&format!(
            "SELECT session_id, title, day, number, state, sha256, published_by, published_at,
                    finalised_at, corrections, latest, segments
             FROM (SELECT v.id, v.session_id, s.title, s.sitting_date AS day, v.number,
                          v.state, v.sha256, v.published_by, v.published_at, v.finalised_at,
                          (SELECT count(*) FROM corrections c WHERE c.version_id = v.id)
                              AS corrections,
                          v.number = (SELECT max(w.number) FROM record_versions w
                                      WHERE w.session_id = v.session_id) AS latest,
                          json_array_length(v.content, '$.segments') AS segments
                   FROM record_versions v JOIN sessions s ON s.id = v.session_id)
             {filter} {order} LIMIT ?1"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![limit], |r| {
            let state: String = r.get(4)?;
            Ok(PublishedVersion {
                session_id: r.get(0)?,
                title: r.get(1)?,
                sitting_date: r.get(2)?,
                number: r.get(3)?,
                // The CHECK allows only the two names.
                state: match state.as_str() {
                    "final" => VersionState::Final,
                    _ => VersionState::Provisional,
                },
                sha256: r.get(5)?,
                published_by: r.get(6)?,
                published_at: r.get(7)?,
                finalised_at: r.get(8)?,
                corrections: r.get(9)?,
                latest: r.get(10)?,
                segment_count: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
