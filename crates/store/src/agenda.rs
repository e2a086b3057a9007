//! The sitting's agenda: ordered items (a title, and a reference such as a
//! bill's name), each starting at a segment and running until the next
//! started item's start.
//!
//! Segments before the first started item belong to no item, and each
//! segment belongs to at most one: the items' starts are kept in the
//! items' order, and no two items start at one segment.

use serde::{Deserialize, Serialize};

/// One item of a sitting's agenda, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaItem {
    /// Its id: kept across re-imports of the agenda wherever the item can
    /// be matched, so that links to it stay valid.
    pub id: i64,
    /// Its session.
    pub session_id: i64,
    /// Its place in the agenda, from 0.
    pub position: i64,
    /// Its title, NFC.
    pub title: String,
    /// A reference, such as the name of the bill under discussion.
    pub reference: Option<String>,
    /// The segment at which it starts; `None` while it has not started.
    pub start_segment_id: Option<i64>,
    /// Incremented by every change; a change must name the version it
    /// changes.
    pub version: i64,
}
