//! The sitting's agenda: ordered items (a title, and a reference such as a
//! bill's name), each starting at a segment and running until the next
//! started item's start.
//!
//! Segments before the first started item belong to no item, and each
//! segment belongs to at most one: the items' starts are kept in the
//! items' order, and no two items start at one segment.

mod plan;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::clean::check_label;
use crate::model::SegmentState;
use crate::{Error, Result, Store};

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

/// The most items an agenda may have.
pub const MAX_AGENDA_ITEMS: usize = 500;
/// The longest title of an item, in bytes.
pub const MAX_AGENDA_TITLE_BYTES: usize = 1000;
/// The longest reference of an item, in bytes.
pub const MAX_AGENDA_REFERENCE_BYTES: usize = 500;

/// What an entry of a new agenda says about its item's start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StartChange {
    /// Nothing: a matched item keeps its start; a new one has none.
    #[default]
    Keep,
    /// The item has not started (a start it had is cleared).
    Clear,
    /// The item starts at this segment.
    At(i64),
}

/// One item of an agenda given whole to [`Store::set_agenda`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgendaEntry {
    /// The item it is, when known (an editor's list); when `None` it is
    /// matched to an item by title, else by place (a file).
    pub id: Option<i64>,
    /// The version of item `id` that the change was made against, when
    /// checked.
    pub version: Option<i64>,
    /// Its title.
    pub title: String,
    /// Its reference, if any (empty means none).
    pub reference: Option<String>,
    /// Its start.
    pub start: StartChange,
}

/// Which item "a new item starts here" starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemStart {
    /// The first item not started yet that can start here and keep the
    /// items in time order.
    Next,
    /// This item, which may have started elsewhere (its start moves), if
    /// `version` is still its version.
    Item {
        /// The item.
        id: i64,
        /// Its version as the editor saw it.
        version: i64,
    },
    /// A new item, put after the last item started before this segment.
    New {
        /// Its title.
        title: String,
        /// Its reference, if any.
        reference: Option<String>,
    },
}

/// What a change of the agenda did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaChange {
    /// The whole agenda after it, in order.
    pub items: Vec<AgendaItem>,
    /// The operation that records it (for undo); `None` when nothing
    /// changed.
    pub operation_id: Option<i64>,
    /// The item started or changed, for the operations on one item.
    pub item_id: Option<i64>,
    /// Items added.
    pub added: usize,
    /// Items changed (title, reference, place or start).
    pub changed: usize,
    /// Items removed.
    pub removed: usize,
}

impl Store {
    /// A session's agenda, in order.
    pub fn agenda(&self, session_id: i64) -> Result<Vec<AgendaItem>> {
        self.session(session_id)?;
        agenda_of(&self.conn, session_id)
    }

    /// One agenda item.
    pub fn agenda_item(&self, id: i64) -> Result<AgendaItem> {
        get_item(&self.conn, id)
    }

    /// Replaces a session's agenda with `entries`, in their order, as one
    /// operation. Items are kept (same id) wherever they can be matched:
    /// by `id` when given, else by equal title in order, else by place
    /// between matched items (a retitled item); an item left unmatched is
    /// removed. A kept item keeps its start unless its entry says
    /// otherwise. Setting the agenda it already has changes nothing.
    pub fn set_agenda(
        &mut self,
        session_id: i64,
        entries: &[AgendaEntry],
        author: &str,
    ) -> Result<AgendaChange> {
        if entries.len() > MAX_AGENDA_ITEMS {
            return Err(Error::Invalid(format!(
                "an agenda has at most {MAX_AGENDA_ITEMS} items"
            )));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        check_session(&tx, session_id)?;
        let current = agenda_of(&tx, session_id)?;
        let matched = plan::match_entries(&current, entries, session_id)?;
        let planned = entries
            .iter()
            .zip(matched)
            .map(|(entry, id)| {
                let old = id.and_then(|id| current.iter().find(|c| c.id == id));
                let start = match entry.start {
                    StartChange::Keep => old.and_then(|o| o.start_segment_id),
                    StartChange::Clear => None,
                    StartChange::At(segment) => Some(segment),
                };
                Ok(Planned {
                    id,
                    title: check_title(&entry.title)?,
                    reference: check_reference(entry.reference.as_deref())?,
                    start,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let change = plan::apply(&tx, session_id, &current, planned, author)?;
        tx.commit()?;
        Ok(change)
    }

    /// "A new item starts here": starts an item at `segment_id` (see
    /// [`ItemStart`]), as one operation. Refused when another item starts
    /// there already, or when the items would leave time order.
    pub fn start_agenda_item(
        &mut self,
        session_id: i64,
        segment_id: i64,
        target: &ItemStart,
        author: &str,
    ) -> Result<AgendaChange> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        check_session(&tx, session_id)?;
        let current = agenda_of(&tx, session_id)?;
        let at = segment_key(&tx, session_id, segment_id, false)?;
        if let Some(there) = current
            .iter()
            .find(|i| i.start_segment_id == Some(segment_id))
        {
            // Starting that same item there again is no change at all.
            if !matches!(target, ItemStart::Item { id, .. } if *id == there.id) {
                return Err(Error::Invalid(format!(
                    "item {:?} starts at segment {segment_id} already",
                    there.title
                )));
            }
        }
        // Where the segment falls among the items started so far.
        let mut keys = Vec::with_capacity(current.len());
        for item in &current {
            keys.push(match item.start_segment_id {
                Some(s) => Some(segment_key(&tx, session_id, s, true)?),
                None => None,
            });
        }
        let before = keys
            .iter()
            .rposition(|k| k.is_some_and(|k| k < at))
            .map_or(0, |p| p + 1);
        let after = keys
            .iter()
            .position(|k| k.is_some_and(|k| k > at))
            .unwrap_or(keys.len());
        let mut planned: Vec<Planned> = current.iter().map(Planned::from).collect();
        let index = match target {
            ItemStart::Next => (before..after.max(before))
                .find(|&i| planned[i].start.is_none())
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "no agenda item waits to start at segment {segment_id}: \
                         name the item, or give the title of a new one"
                    ))
                })?,
            ItemStart::Item { id, version } => {
                let i = current
                    .iter()
                    .position(|c| c.id == *id)
                    .ok_or_else(|| not_in_session(*id, session_id))?;
                check_version(&current[i], *version)?;
                i
            }
            ItemStart::New { title, reference } => {
                if current.len() >= MAX_AGENDA_ITEMS {
                    return Err(Error::Invalid(format!(
                        "an agenda has at most {MAX_AGENDA_ITEMS} items"
                    )));
                }
                planned.insert(
                    before,
                    Planned {
                        id: None,
                        title: check_title(title)?,
                        reference: check_reference(reference.as_deref())?,
                        start: None,
                    },
                );
                before
            }
        };
        planned[index].start = Some(segment_id);
        let mut change = plan::apply(&tx, session_id, &current, planned, author)?;
        change.item_id = change.items.get(index).map(|i| i.id);
        tx.commit()?;
        Ok(change)
    }

    /// Clears an item's start (it has not started, after all), if
    /// `version` is still its version, as one operation.
    pub fn clear_agenda_start(
        &mut self,
        id: i64,
        version: i64,
        author: &str,
    ) -> Result<AgendaChange> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let item = get_item(&tx, id)?;
        check_version(&item, version)?;
        let current = agenda_of(&tx, item.session_id)?;
        let planned = current
            .iter()
            .map(|c| Planned {
                start: if c.id == id { None } else { c.start_segment_id },
                ..Planned::from(c)
            })
            .collect();
        let mut change = plan::apply(&tx, item.session_id, &current, planned, author)?;
        change.item_id = Some(id);
        tx.commit()?;
        Ok(change)
    }

    /// Moves an item's start to `segment_id`, if `version` is still its
    /// version: [`Self::start_agenda_item`] with [`ItemStart::Item`].
    pub fn move_agenda_start(
        &mut self,
        id: i64,
        version: i64,
        segment_id: i64,
        author: &str,
    ) -> Result<AgendaChange> {
        let session_id = get_item(&self.conn, id)?.session_id;
        self.start_agenda_item(
            session_id,
            segment_id,
            &ItemStart::Item { id, version },
            author,
        )
    }
}

/// An item as a change would leave it; `id` is `None` for a new one.
#[derive(Debug, Clone)]
struct Planned {
    id: Option<i64>,
    title: String,
    reference: Option<String>,
    start: Option<i64>,
}

impl From<&AgendaItem> for Planned {
    fn from(item: &AgendaItem) -> Self {
        Self {
            id: Some(item.id),
            title: item.title.clone(),
            reference: item.reference.clone(),
            start: item.start_segment_id,
        }
    }
}

/// A title as stored: NFC, trimmed, not empty, bounded, visible.
fn check_title(title: &str) -> Result<String> {
    let title = check_label("an agenda item's title", title, MAX_AGENDA_TITLE_BYTES)?;
    if title.is_empty() {
        return Err(Error::Invalid("an agenda item needs a title".into()));
    }
    Ok(title)
}

/// A reference as stored; an empty one is none.
fn check_reference(reference: Option<&str>) -> Result<Option<String>> {
    Ok(reference
        .map(|r| check_label("an agenda item's reference", r, MAX_AGENDA_REFERENCE_BYTES))
        .transpose()?
        .filter(|r| !r.is_empty()))
}

fn check_session(conn: &Connection, session_id: i64) -> Result<()> {
    conn.query_row("SELECT 1 FROM sessions WHERE id = ?1", [session_id], |_| {
        Ok(())
    })
    .optional()?
    .ok_or(Error::UnknownSession(session_id))
}

fn check_version(item: &AgendaItem, version: i64) -> Result<()> {
    if item.version == version {
        Ok(())
    } else {
        Err(Error::AgendaConflict {
            current: Box::new(item.clone()),
        })
    }
}

fn not_in_session(id: i64, session_id: i64) -> Error {
    Error::Invalid(format!("agenda item {id} is not in session {session_id}"))
}

/// Where a segment that an item starts at lies in its session's time
/// order (`(start_ms, seq)`, as segments are listed). Refused, as bad
/// input, for an unknown segment or one of another session; and, unless
/// the item `held` this start already, for one that an operation took out
/// of the record (a merged half), where no new start may be put.
pub(crate) fn segment_key(
    conn: &Connection,
    session_id: i64,
    id: i64,
    held: bool,
) -> Result<(i64, i64)> {
    let row: Option<(i64, i64, i64, String)> = conn
        .query_row(
            "SELECT session_id, start_ms, seq, state FROM segments WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((session, start_ms, seq, state)) = row else {
        return Err(Error::Invalid(format!("no segment {id}")));
    };
    if session != session_id {
        return Err(Error::Invalid(format!(
            "segment {id} is in session {session}, not {session_id}"
        )));
    }
    if !held
        && !matches!(
            SegmentState::parse(&state),
            Some(SegmentState::Speech | SegmentState::NotSpeech)
        )
    {
        return Err(Error::Invalid(format!(
            "segment {id} is no longer in the record"
        )));
    }
    Ok((start_ms, seq))
}

const ITEM_COLUMNS: &str = "SELECT id, session_id, position, title, reference, start_segment_id,
    version FROM agenda_items";

fn item_from_row(r: &Row<'_>) -> rusqlite::Result<AgendaItem> {
    Ok(AgendaItem {
        id: r.get(0)?,
        session_id: r.get(1)?,
        position: r.get(2)?,
        title: r.get(3)?,
        reference: r.get(4)?,
        start_segment_id: r.get(5)?,
        version: r.get(6)?,
    })
}

pub(crate) fn agenda_of(conn: &Connection, session_id: i64) -> Result<Vec<AgendaItem>> {
    let mut stmt = conn.prepare(&format!(
        "{ITEM_COLUMNS} WHERE session_id = ?1 ORDER BY position"
    ))?;
    let rows = stmt.query_map([session_id], item_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn get_item(conn: &Connection, id: i64) -> Result<AgendaItem> {
    conn.query_row(
        &format!("{ITEM_COLUMNS} WHERE id = ?1"),
        [id],
        item_from_row,
    )
    .optional()?
    .ok_or(Error::UnknownAgendaItem(id))
}
