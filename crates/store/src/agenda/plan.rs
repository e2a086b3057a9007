//! How a change of the agenda is planned and written: which current item
//! each entry of a new list is, and the checks and writes that every
//! change goes through.

use rusqlite::{Connection, params};

use super::{
    AgendaChange, AgendaEntry, AgendaItem, MAX_AGENDA_ITEMS, Planned, agenda_of, check_version,
    get_item, not_in_session, segment_key,
};
use crate::ops::{Snapshot, record_operation};
use crate::{Error, Result};

/// Which current item each entry is (`None`: a new item). Entries with an
/// id are that item (version-checked); the others are matched to the
/// items left, in order: by equal title (a longest common subsequence,
/// so a moved item is not matched across others), then, between two
/// matches, by place (a retitled item keeps its id and its start).
pub(super) fn match_entries(
    current: &[AgendaItem],
    entries: &[AgendaEntry],
    session_id: i64,
) -> Result<Vec<Option<i64>>> {
    let mut matched: Vec<Option<i64>> = vec![None; entries.len()];
    let mut claimed = std::collections::HashSet::new();
    for (slot, entry) in matched.iter_mut().zip(entries) {
        let Some(id) = entry.id else { continue };
        let item = current
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| not_in_session(id, session_id))?;
        if !claimed.insert(id) {
            return Err(Error::Invalid(format!("agenda item {id} is listed twice")));
        }
        if let Some(version) = entry.version {
            check_version(item, version)?;
        }
        *slot = Some(id);
    }
    let olds: Vec<&AgendaItem> = current
        .iter()
        .filter(|c| !claimed.contains(&c.id))
        .collect();
    let news: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].id.is_none())
        .collect();
    let titles: Vec<String> = news
        .iter()
        .map(|&i| tocky_core::text::nfc(entries[i].title.trim()))
        .collect();
    // lcs[i][j]: the longest run of equal titles in olds[i..] and news[j..].
    let (n, m) = (olds.len(), news.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if olds[i].title == titles[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let (mut gap_old, mut gap_new) = (Vec::new(), Vec::new());
    let mut pair_gap = |gap_old: &mut Vec<i64>, gap_new: &mut Vec<usize>| {
        for (old, new) in gap_old.drain(..).zip(gap_new.drain(..)) {
            matched[new] = Some(old);
        }
        gap_old.clear();
        gap_new.clear();
    };
    while i < n || j < m {
        if i < n && j < m && olds[i].title == titles[j] {
            pair_gap(&mut gap_old, &mut gap_new);
            gap_old.push(olds[i].id);
            gap_new.push(news[j]);
            pair_gap(&mut gap_old, &mut gap_new);
            i += 1;
            j += 1;
        } else if j == m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
            gap_old.push(olds[i].id);
            i += 1;
        } else {
            gap_new.push(news[j]);
            j += 1;
        }
    }
    pair_gap(&mut gap_old, &mut gap_new);
    Ok(matched)
}

/// Checks `planned` (starts in the session, in the record, one item per
/// segment, in time order) and writes it as the session's agenda: items
/// missing from it are removed, changed ones get a new version, new ones
/// are added. Records the operation when anything changed.
pub(super) fn apply(
    conn: &Connection,
    session_id: i64,
    current: &[AgendaItem],
    planned: Vec<Planned>,
    author: &str,
) -> Result<AgendaChange> {
    if planned.len() > MAX_AGENDA_ITEMS {
        return Err(Error::Invalid(format!(
            "an agenda has at most {MAX_AGENDA_ITEMS} items"
        )));
    }
    let mut last: Option<((i64, i64), &str)> = None;
    let mut starts = std::collections::HashMap::new();
    for item in &planned {
        let Some(segment) = item.start else { continue };
        // A start an item keeps is not checked again: its segment may have
        // left the record since (merged), and the agenda must stay editable.
        let held = current
            .iter()
            .any(|c| Some(c.id) == item.id && c.start_segment_id == Some(segment));
        let key = segment_key(conn, session_id, segment, held)?;
        if let Some(other) = starts.insert(segment, item.title.as_str()) {
            return Err(Error::Invalid(format!(
                "items {other:?} and {:?} both start at segment {segment}",
                item.title
            )));
        }
        if let Some((before, title)) = last
            && key <= before
        {
            return Err(Error::Invalid(format!(
                "item {:?} would start at segment {segment}, before the start of item \
                 {title:?}, which comes earlier in the agenda: keep items in time order",
                item.title
            )));
        }
        last = Some((key, item.title.as_str()));
    }
    let kept: std::collections::HashSet<i64> = planned.iter().filter_map(|p| p.id).collect();
    let removed: Vec<&AgendaItem> = current.iter().filter(|c| !kept.contains(&c.id)).collect();
    let changed: Vec<(usize, &AgendaItem)> = planned
        .iter()
        .enumerate()
        .filter_map(|(position, p)| {
            let old = current.iter().find(|c| Some(c.id) == p.id)?;
            let same = old.position == position as i64
                && old.title == p.title
                && old.reference == p.reference
                && old.start_segment_id == p.start;
            (!same).then_some((position, old))
        })
        .collect();
    let added = planned.iter().filter(|p| p.id.is_none()).count();
    if removed.is_empty() && changed.is_empty() && added == 0 {
        return Ok(AgendaChange {
            items: current.to_vec(),
            operation_id: None,
            item_id: None,
            added: 0,
            changed: 0,
            removed: 0,
        });
    }
    for item in &removed {
        conn.execute("DELETE FROM agenda_items WHERE id = ?1", [item.id])?;
    }
    // Out of the way first: places and starts are unique, and the rows
    // change one by one.
    for (_, old) in &changed {
        conn.execute(
            "UPDATE agenda_items SET position = -1 - id, start_segment_id = NULL WHERE id = ?1",
            [old.id],
        )?;
    }
    let mut after = Vec::with_capacity(changed.len() + added);
    for (position, p) in planned.iter().enumerate() {
        let id = match p.id {
            Some(id) if changed.iter().any(|(_, old)| old.id == id) => {
                conn.execute(
                    "UPDATE agenda_items SET position = ?2, title = ?3, reference = ?4,
                         start_segment_id = ?5, version = version + 1
                     WHERE id = ?1",
                    params![id, position as i64, p.title, p.reference, p.start],
                )?;
                id
            }
            Some(_) => continue,
            None => conn.query_row(
                "INSERT INTO agenda_items (session_id, position, title, reference,
                     start_segment_id)
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                params![session_id, position as i64, p.title, p.reference, p.start],
                |r| r.get(0),
            )?,
        };
        after.push(get_item(conn, id)?);
    }
    let before: Vec<AgendaItem> = changed
        .iter()
        .map(|(_, old)| (*old).clone())
        .chain(removed.iter().map(|r| (*r).clone()))
        .collect();
    let operation_id = record_operation(
        conn,
        session_id,
        "agenda",
        author,
        &Snapshot {
            agenda: before,
            ..Snapshot::default()
        },
        &Snapshot {
            agenda: after,
            ..Snapshot::default()
        },
    )?;
    Ok(AgendaChange {
        items: agenda_of(conn, session_id)?,
        operation_id: Some(operation_id),
        item_id: None,
        added,
        changed: changed.len(),
        removed: removed.len(),
    })
}
