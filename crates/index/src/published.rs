//! The published layer of the index: the text of each sitting's latest
//! published version, so that a search can be limited to what was
//! published (the public's search never sees a draft).
//!
//! A published version never changes, so its documents are made once: one
//! per segment of its frozen content (the written form the record printed
//! where the content has it, else the text), and one *marker* that names
//! the version (its number and SHA-256). [`SearchIndex::sync_published`]
//! compares the markers with the store's latest versions and re-indexes
//! only the sittings whose latest version changed (or that have none any
//! more, after a restore). It runs before each published search, so that a
//! version is searchable from its first search on, whoever published it
//! (the server, the CLI); with nothing new it costs one query of the store
//! and one of the index. The state lives in the index itself, committed
//! with the documents it describes: a rebuild, which drops both, is
//! followed by a fresh sync.

use std::collections::HashMap;

use serde::Deserialize;
use tantivy::collector::DocSetCollector;
use tantivy::query::{BooleanQuery, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{TantivyDocument, Term, doc};
use tocky_store::Store;
use tocky_store::published::PublishedScope;

use crate::{Error, Result, SearchIndex, commit, day_number, id, with_rollback};

/// The layer of the working record's documents.
pub const WORKING: u64 = 0;
/// The layer of published text.
pub const PUBLISHED: u64 = 1;
/// The layer of markers: which version of a sitting is indexed.
pub const MARKER: u64 = 2;

/// What the index reads of a version's frozen content (the store's
/// `PublishedRecord`): fields it lacks are not needed, and `written` is
/// absent from content published before the written form was frozen.
#[derive(Deserialize)]
struct Frozen {
    session: FrozenSession,
    segments: Vec<FrozenSegment>,
    #[serde(default)]
    record: Vec<FrozenItem>,
}

/// A part of the record: only its speeches' segments are read.
#[derive(Deserialize)]
struct FrozenItem {
    #[serde(default)]
    entries: Vec<FrozenEntry>,
}

#[derive(Deserialize)]
struct FrozenEntry {
    #[serde(default)]
    segment_ids: Vec<i64>,
}

#[derive(Deserialize)]
struct FrozenSession {
    sitting_date: Option<String>,
}

#[derive(Deserialize)]
struct FrozenSegment {
    id: i64,
    start_ms: i64,
    speaker_id: Option<i64>,
    text: String,
    #[serde(default)]
    written: Option<String>,
}

impl SearchIndex {
    /// Brings the published layer up to date with the store's latest
    /// published versions. Returns how many sittings were re-indexed.
    pub fn sync_published(&self, store: &Store) -> Result<usize> {
        // A commit records the working layer's generation: an index never
        // synced gets it first.
        if self.generation()?.is_none() {
            self.update(store, None, None)?;
        }
        let latest = store.published_versions(PublishedScope::Latest, usize::MAX)?;
        let mut writer = self.lock_writer();
        let indexed = self.markers()?;
        let wanted: HashMap<i64, (i64, &str)> = latest
            .iter()
            .map(|v| (v.session_id, (v.number, v.sha256.as_str())))
            .collect();
        let mut stale: Vec<i64> = wanted
            .iter()
            .filter(|(s, (_, sha))| indexed.get(*s).map(String::as_str) != Some(*sha))
            .map(|(s, _)| *s)
            .chain(indexed.keys().filter(|s| !wanted.contains_key(s)).copied())
            .collect();
        if stale.is_empty() {
            return Ok(0);
        }
        stale.sort_unstable();
        let generation = self.generation()?.unwrap_or(0);
        let f = self.fields;
        with_rollback(&mut writer, |writer| {
            for &session in &stale {
                for layer in [PUBLISHED, MARKER] {
                    writer.delete_query(Box::new(BooleanQuery::intersection(vec![
                        term(f.session_id, id(session)),
                        term(f.layer, layer),
                    ])))?;
                }
                let Some(&(number, sha)) = wanted.get(&session) else {
                    continue;
                };
                let content = store.version(session, number)?.content;
                let frozen: Frozen = serde_json::from_str(&content).map_err(|e| {
                    Error::Store(tocky_store::Error::Invalid(format!(
                        "version {number} of session {session}: {e}"
                    )))
                })?;
                let day = day_number(frozen.session.sitting_date.as_deref());
                // Each segment's speech, by its first segment: the page's anchor.
                let speech_of: HashMap<i64, i64> = frozen
                    .record
                    .iter()
                    .flat_map(|item| &item.entries)
                    .filter_map(|e| Some((e.segment_ids.first()?, &e.segment_ids)))
                    .flat_map(|(first, ids)| ids.iter().map(move |id| (*id, *first)))
                    .collect();
                for seg in &frozen.segments {
                    let text = seg.written.as_deref().unwrap_or(&seg.text);
                    writer.add_document(doc!(
                        f.segment_id => id(seg.id),
                        f.session_id => id(session),
                        f.speaker_id => seg.speaker_id.map_or(0, id),
                        f.start_ms => id(seg.start_ms),
                        f.sitting_day => day,
                        f.exact => text,
                        f.folded => text,
                        f.layer => PUBLISHED,
                        f.version => id(number),
                        f.speech => speech_of.get(&seg.id).map_or(0, |s| id(*s)),
                    ))?;
                }
                writer.add_document(doc!(
                    f.session_id => id(session),
                    f.layer => MARKER,
                    f.version => id(number),
                    f.sha256 => sha,
                ))?;
            }
            commit(writer, generation)
        })?;
        drop(writer);
        self.reader.reload()?;
        Ok(stale.len())
    }

    /// The version SHA-256 indexed for each sitting, from the markers.
    fn markers(&self) -> Result<HashMap<i64, String>> {
        let searcher = self.reader.searcher();
        let found = searcher.search(&term(self.fields.layer, MARKER), &DocSetCollector)?;
        let mut out = HashMap::with_capacity(found.len());
        for address in found {
            let doc: TantivyDocument = searcher.doc(address)?;
            let session = doc
                .get_first(self.fields.session_id)
                .and_then(|v| v.as_u64())
                .unwrap_or(0);
            let sha = doc
                .get_first(self.fields.sha256)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            out.insert(session as i64, sha.to_owned());
        }
        Ok(out)
    }
}

fn term(field: tantivy::schema::Field, value: u64) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_u64(field, value),
        IndexRecordOption::Basic,
    ))
}
