//! Search over the record: a tantivy index derived from the store.
//!
//! The index can always be rebuilt from the store (`tocky index rebuild`).
//! Each commit records the store generation it reflects, and every commit
//! first catches up with each segment the store changed since the last one,
//! so that the recorded generation never claims a change the index lacks
//! (an update that failed, or writers racing). An index that lags behind
//! the store (a crash between the two writes) is brought up to date by
//! [`SearchIndex::open_synced`]; one that cannot be opened, or that the
//! store has since been restored past, is rebuilt. A damaged index never
//! takes the store down with it.
//!
//! Segment text is indexed twice (see [`analyzer`]): once exact and once
//! folded. A query typed without diacritics searches the folded field; one
//! typed with diacritics searches both, with exact matches weighted up so
//! that they rank first. Quoted text is a phrase over syllables.
//!
//! The index holds two layers ([`published`]): the working record (each
//! segment as it is now), and the text as published (each sitting's latest
//! published version, from its frozen content). A search reads one or the
//! other ([`SearchQuery::published`]), never both.

pub mod analyzer;
pub mod error;
pub mod jump;
pub mod published;
mod query;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};
use tocky_store::{SearchRow, Store};

use crate::analyzer::{EXACT, FOLDED, Form, VietnameseTokenizer};
pub use crate::error::{Error, Result};
pub use crate::query::{MAX_QUERY_BYTES, SearchQuery};

/// Memory for the index writer.
const WRITER_MEMORY: usize = 64 << 20;

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The segment.
    pub segment_id: i64,
    /// Its session.
    pub session_id: i64,
    /// Where it starts in the audio (ms): where to jump.
    pub start_ms: i64,
    /// Relevance.
    pub score: f32,
    /// The segment's text.
    pub text: String,
    /// The text around the matches, HTML-escaped, matches in `<b>`.
    pub snippet_html: String,
    /// The segment's speaker, if known.
    #[serde(default)]
    pub speaker_id: Option<i64>,
    /// The published version the text is from; `None` for the working
    /// record.
    #[serde(default)]
    pub version: Option<i64>,
    /// For published text, the first segment of the speech it is in (the
    /// version page's anchor `s{id}`).
    #[serde(default)]
    pub speech: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub(crate) segment_id: Field,
    pub(crate) session_id: Field,
    pub(crate) speaker_id: Field,
    pub(crate) start_ms: Field,
    pub(crate) sitting_day: Field,
    pub(crate) exact: Field,
    pub(crate) folded: Field,
    /// [`published::WORKING`], [`published::PUBLISHED`] or
    /// [`published::MARKER`].
    pub(crate) layer: Field,
    /// A published document's version number.
    pub(crate) version: Field,
    /// A marker's version SHA-256.
    pub(crate) sha256: Field,
    /// A published document's speech (its first segment's id).
    pub(crate) speech: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |analyzer: &str, stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(analyzer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        segment_id: b.add_u64_field("segment_id", INDEXED | STORED | FAST),
        session_id: b.add_u64_field("session_id", INDEXED | STORED | FAST),
        speaker_id: b.add_u64_field("speaker_id", INDEXED | STORED | FAST),
        start_ms: b.add_u64_field("start_ms", STORED | FAST),
        sitting_day: b.add_u64_field("sitting_day", INDEXED | FAST),
        exact: b.add_text_field("text_exact", text(EXACT, false)),
        folded: b.add_text_field("text", text(FOLDED, true)),
        layer: b.add_u64_field("layer", INDEXED | STORED | FAST),
        version: b.add_u64_field("version", STORED),
        sha256: b.add_text_field("sha256", STRING | STORED),
        speech: b.add_u64_field("speech", STORED),
    };
    (b.build(), fields)
}

/// `YYYY-MM-DD` as the number YYYYMMDD (0 when absent or malformed).
pub(crate) fn day_number(date: Option<&str>) -> u64 {
    date.map(|d| d.replace('-', ""))
        .filter(|d| d.len() == 8)
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

fn id(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The index's directory for a store file: beside it, `tocky.db` →
/// `tocky.index/`.
pub fn default_dir(db: &Path) -> PathBuf {
    db.with_extension("index")
}

/// The search index, on disk in one directory.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    dir: PathBuf,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it when absent. An index that
    /// cannot be read is cleared and started afresh; a directory holding
    /// anything but an index's files is refused ([`Error::NotAnIndex`]),
    /// never cleared.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema();
        let index = match Index::open_in_dir(dir) {
            Ok(index) if index.schema() == schema => index,
            _ => {
                // Damaged or from an older schema: derived data, so rebuild.
                clear_index_dir(dir)?;
                Index::create_in_dir(dir, schema)?
            }
        };
        index
            .tokenizers()
            .register(EXACT, VietnameseTokenizer::analyzer(Form::Exact));
        index
            .tokenizers()
            .register(FOLDED, VietnameseTokenizer::analyzer(Form::Folded));
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            dir: dir.to_owned(),
        })
    }

    /// Opens the index and brings it up to date with `store` (catching up,
    /// or rebuilding it whole) when it lags behind. Returns the index and
    /// whether it had to be brought up to date.
    pub fn open_synced(dir: &Path, store: &Store) -> Result<(Self, bool)> {
        let index = Self::open(dir)?;
        if index.generation()? == Some(store.generation()?) {
            return Ok((index, false));
        }
        index.update(store, None, None)?;
        Ok((index, true))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The store generation the last commit reflects.
    pub fn generation(&self) -> Result<Option<i64>> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .and_then(|p| p.strip_prefix("generation=")?.parse().ok()))
    }

    /// Replaces the whole index with the store's segments.
    pub fn rebuild(&self, store: &Store) -> Result<usize> {
        let mut writer = self.lock_writer();
        let count = self.rebuild_locked(&mut writer, store)?;
        drop(writer);
        self.reader.reload()?;
        Ok(count)
    }

    fn rebuild_locked(&self, writer: &mut IndexWriter, store: &Store) -> Result<usize> {
        with_rollback(writer, |writer| {
            writer.delete_all_documents()?;
            let mut count = 0;
            let mut failure = None;
            let sync = store.search_rows_since(None, None, None, |row| {
                if failure.is_none() && row.in_record {
                    match writer.add_document(self.document(&row)) {
                        Ok(_) => count += 1,
                        Err(e) => failure = Some(e),
                    }
                }
            })?;
            if let Some(e) = failure {
                return Err(e.into());
            }
            commit(writer, sync.generation)?;
            Ok(count)
        })
    }

    /// Re-indexes one session's segments, or one segment, after the store
    /// changed them (delete and re-add by segment id), together with every
    /// segment the store changed since the index's last commit (so that
    /// an earlier update that failed, or one racing this, loses nothing),
    /// and records the store generation that covers. Rebuilds the whole
    /// index instead when the store was replaced since (a restore).
    /// Returns how many segments were indexed.
    pub fn update(
        &self,
        store: &Store,
        session: Option<i64>,
        segment: Option<i64>,
    ) -> Result<usize> {
        // Under the writer's lock: the generation read is the last committed.
        let mut writer = self.lock_writer();
        let indexed = self.generation()?;
        let mut rows = Vec::new();
        let sync = match indexed {
            Some(since) => store.search_rows_since(Some(since), session, segment, |row| {
                rows.push(row);
            })?,
            None => store.search_sync()?,
        };
        let count = match indexed {
            Some(since) if since >= sync.rebuild_from && since <= sync.generation => {
                with_rollback(&mut writer, |writer| {
                    // The working layer's documents only: the published
                    // text stays as published.
                    if let Some(session) = session {
                        writer.delete_query(self.working(self.fields.session_id, session))?;
                    }
                    for row in &rows {
                        writer
                            .delete_query(self.working(self.fields.segment_id, row.segment_id))?;
                        // Not speech, or merged away: only dropped.
                        if row.in_record {
                            writer.add_document(self.document(row))?;
                        }
                    }
                    commit(writer, sync.generation)?;
                    Ok(rows.len())
                })?
            }
            // Never synced, from before a restore, or ahead of the store.
            _ => self.rebuild_locked(&mut writer, store)?,
        };
        drop(writer);
        self.reader.reload()?;
        Ok(count)
    }

    /// Runs a search.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>> {
        let (query, highlight) = q.build(&self.fields)?;
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(q.limit.clamp(1, 1000)))?;
        let mut snippets = SnippetGenerator::create(&searcher, &*highlight, self.fields.folded)?;
        snippets.set_max_num_chars(200);
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let u64_of = |f: Field| doc.get_first(f).and_then(|v| v.as_u64()).unwrap_or(0);
            let (version, speech) = match u64_of(self.fields.layer) {
                published::PUBLISHED => (
                    Some(u64_of(self.fields.version) as i64),
                    Some(u64_of(self.fields.speech) as i64).filter(|s| *s > 0),
                ),
                _ => (None, None),
            };
            hits.push(Hit {
                segment_id: u64_of(self.fields.segment_id) as i64,
                session_id: u64_of(self.fields.session_id) as i64,
                start_ms: u64_of(self.fields.start_ms) as i64,
                score,
                text: doc
                    .get_first(self.fields.folded)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                snippet_html: snippets.snippet_from_doc(&doc).to_html(),
                // 0 stands for none.
                speaker_id: Some(u64_of(self.fields.speaker_id) as i64).filter(|s| *s > 0),
                version,
                speech,
            });
        }
        Ok(hits)
    }

    /// Documents in the index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether the index holds no documents.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn document(&self, row: &SearchRow) -> TantivyDocument {
        let f = &self.fields;
        doc!(
            f.segment_id => id(row.segment_id),
            f.session_id => id(row.session_id),
            // Speaker ids start at 1: 0 stands for none.
            f.speaker_id => row.speaker_id.map_or(0, id),
            f.start_ms => id(row.start_ms),
            f.sitting_day => day_number(row.sitting_date.as_deref()),
            f.exact => row.text.as_str(),
            f.folded => row.text.as_str(),
            f.layer => published::WORKING,
        )
    }

    /// The working layer's documents whose `field` is `value`.
    fn working(&self, field: Field, value: i64) -> Box<dyn tantivy::query::Query> {
        let term = |f: Field, v: u64| -> Box<dyn tantivy::query::Query> {
            Box::new(tantivy::query::TermQuery::new(
                Term::from_field_u64(f, v),
                IndexRecordOption::Basic,
            ))
        };
        Box::new(tantivy::query::BooleanQuery::intersection(vec![
            term(field, id(value)),
            term(self.fields.layer, published::WORKING),
        ]))
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        // A writer poisoned by a panic elsewhere is still usable: tantivy
        // rolls back uncommitted work.
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether a file name is one tantivy writes in an index directory.
fn is_index_file(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default();
    name == "meta.json"
        || name == ".managed.json"
        || name.starts_with(".tantivy-")
        // An atomic write cut short (tantivy writes through `tempfile`).
        || name.starts_with(".tmp")
        || (stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_hexdigit()) && name.len() > 32)
}

/// Empties an index directory that cannot be read, after checking that it
/// holds only an index's files: a directory named by mistake (the data
/// directory, say) is refused, not wiped.
fn clear_index_dir(dir: &Path) -> Result<()> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let indexy =
            entry.file_type()?.is_file() && entry.file_name().to_str().is_some_and(is_index_file);
        if !indexy {
            return Err(Error::NotAnIndex {
                dir: dir.to_owned(),
                found: path,
            });
        }
        files.push(path);
    }
    for path in files {
        std::fs::remove_file(path)?;
    }
    Ok(())
}

/// Runs `f`, and on failure drops the writer's uncommitted work, which
/// would otherwise ride along with the next commit (a half-done rebuild's
/// "delete everything", say).
fn with_rollback<T>(
    writer: &mut IndexWriter,
    f: impl FnOnce(&mut IndexWriter) -> Result<T>,
) -> Result<T> {
    let result = f(writer);
    if result.is_err() {
        // The first error is the one to report; a writer that cannot roll
        // back fails again on the next use.
        let _ = writer.rollback();
    }
    result
}

fn commit(writer: &mut IndexWriter, generation: i64) -> Result<()> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&format!("generation={generation}"));
    prepared.commit()?;
    Ok(())
}
