//! The index's published layer over a real store and a real tantivy
//! index: a search limited to published text finds each sitting's latest
//! published version only, whatever the working record says since, and
//! follows new versions, rebuilds and restores.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tocky_index::{SearchIndex, SearchQuery};
use tocky_store::{SegmentEdit, SessionMeta, Store};
use tocky_test_support::{DocOptions, Words, document, publish};

/// A session of `texts`, 9 s long every 10 s, without words.
fn ingest(store: &mut Store, sha: char, texts: &[&str]) -> i64 {
    let options = DocOptions {
        file: format!("{sha}.wav"),
        sha,
        every_ms: 10_000,
        length_ms: 9_000,
        words: Words::None,
        ..DocOptions::default()
    };
    let meta = SessionMeta {
        sitting_date: Some("2026-10-21".into()),
        ..SessionMeta::default()
    };
    tocky_test_support::ingest(store, &document(texts, &options), &meta)
}

fn edit(store: &mut Store, index: &SearchIndex, segment: i64, text: &str) {
    let s = store.segment(segment).unwrap();
    let edit = SegmentEdit {
        text: Some(text.into()),
        ..SegmentEdit::default()
    };
    store
        .edit_segment(segment, s.version, &edit, "lan")
        .unwrap();
    index.update(store, None, Some(segment)).unwrap();
}

/// The texts and versions of the hits of `text`, published or not.
fn search(index: &SearchIndex, text: &str, published: bool) -> Vec<(String, Option<i64>)> {
    let q = SearchQuery {
        text: text.into(),
        limit: 20,
        published,
        ..SearchQuery::default()
    };
    index
        .search(&q)
        .unwrap()
        .into_iter()
        .map(|h| (h.text, h.version))
        .collect()
}

#[test]
fn published_search_reads_the_latest_published_version_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("tocky.db")).unwrap();
    let first = ingest(&mut store, 'a', &["Kính thưa Quốc hội", "luật đất đai"]);
    // Never published.
    ingest(&mut store, 'b', &["phiên chưa công bố về đất đai"]);
    let index_dir = dir.path().join("index");
    let (index, _) = SearchIndex::open_synced(&index_dir, &store).unwrap();

    // Nothing published: nothing in the published layer.
    assert_eq!(index.sync_published(&store).unwrap(), 0);
    assert!(search(&index, "dat dai", true).is_empty());
    assert_eq!(search(&index, "dat dai", false).len(), 2);

    publish(&mut store, first);
    assert_eq!(index.sync_published(&store).unwrap(), 1);
    assert_eq!(index.sync_published(&store).unwrap(), 0, "nothing new");
    assert_eq!(
        search(&index, "dat dai", true),
        [("luật đất đai".to_owned(), Some(1))]
    );

    // Edits of the working record leave the published text as published,
    // whether a segment or the whole session is re-indexed.
    let seg = store.segments(first).unwrap()[1].id;
    edit(&mut store, &index, seg, "luật nhà ở");
    index.update(&store, Some(first), None).unwrap();
    assert_eq!(search(&index, "dat dai", true).len(), 1);
    assert!(search(&index, "nha o", true).is_empty());
    assert_eq!(
        search(&index, "nha o", false),
        [("luật nhà ở".to_owned(), None)]
    );
    let working: Vec<_> = search(&index, "dat dai", false);
    assert_eq!(
        working,
        [("phiên chưa công bố về đất đai".to_owned(), None)]
    );

    // The next version replaces the first in the published layer.
    publish(&mut store, first);
    assert_eq!(index.sync_published(&store).unwrap(), 1);
    assert!(search(&index, "dat dai", true).is_empty());
    assert_eq!(
        search(&index, "nha o", true),
        [("luật nhà ở".to_owned(), Some(2))]
    );

    // A rebuild drops the layer with its markers; the next sync fills it.
    index.rebuild(&store).unwrap();
    assert!(search(&index, "nha o", true).is_empty());
    assert_eq!(index.sync_published(&store).unwrap(), 1);
    assert_eq!(search(&index, "nha o", true).len(), 1);
    drop(index);

    // The layer is kept on disk with its markers.
    let (index, _) = SearchIndex::open_synced(&index_dir, &store).unwrap();
    assert_eq!(index.sync_published(&store).unwrap(), 0);
    assert_eq!(search(&index, "nha o", true).len(), 1);
}

#[test]
fn a_restore_from_before_publication_empties_the_published_layer() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("tocky.db")).unwrap();
    let session = ingest(&mut store, 'a', &["Kính thưa Quốc hội"]);
    let backup = dir.path().join("backup.db");
    store.backup(&backup).unwrap();
    let (index, _) = SearchIndex::open_synced(&dir.path().join("index"), &store).unwrap();
    publish(&mut store, session);
    index.sync_published(&store).unwrap();
    assert_eq!(search(&index, "kinh thua", true).len(), 1);

    store.restore(&backup).unwrap();
    index.update(&store, None, None).unwrap();
    index.sync_published(&store).unwrap();
    assert!(search(&index, "kinh thua", true).is_empty());
    assert_eq!(search(&index, "kinh thua", false).len(), 1);
}
