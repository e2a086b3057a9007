//! Vietnamese search over a real store and a real tantivy index.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use tocky_index::{SearchIndex, SearchQuery};
use tocky_store::{SegmentEdit, SessionMeta, Store};
use tocky_test_support::{DocOptions, Words, document};

/// A session of `texts` dated `date`: 8 s long every 10 s from 1 s,
/// without words.
fn ingest(store: &mut Store, sha: char, date: &str, texts: &[&str]) -> i64 {
    let options = DocOptions {
        file: format!("{sha}.wav"),
        sha,
        first_ms: 1_000,
        every_ms: 10_000,
        length_ms: 8_000,
        words: Words::None,
        ..DocOptions::default()
    };
    let meta = SessionMeta {
        sitting_date: Some(date.into()),
        ..SessionMeta::default()
    };
    tocky_test_support::ingest(store, &document(texts, &options), &meta)
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    index: SearchIndex,
    index_dir: std::path::PathBuf,
    october: i64,
    november: i64,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("tocky.db")).unwrap();
    let october = ingest(
        &mut store,
        'a',
        "2026-10-21",
        &[
            "Kính thưa Quốc hội, tôi xin trình bày tờ trình.",
            "Dự án luật về công nghệ thông tin được thảo luận.",
            "Ý kiến của má tôi rất đúng.",
            "Thông tin về công nghệ mới được báo cáo.",
            "Hoà bình và ổn định là điều kiện phát triển.",
        ],
    );
    let november = ingest(
        &mut store,
        'b',
        "2026-11-05",
        &[
            "mà tôi nghĩ khác",
            "quoc hoi da thong qua nghi quyet",
            "Đại biểu <script>alert(1)</script> phát biểu",
        ],
    );
    let index_dir = dir.path().join("index");
    let (index, rebuilt) = SearchIndex::open_synced(&index_dir, &store).unwrap();
    assert!(rebuilt, "a new index is built from the store");
    Fixture {
        _dir: dir,
        store,
        index,
        index_dir,
        october,
        november,
    }
}

fn search(index: &SearchIndex, text: &str) -> Vec<String> {
    let q = SearchQuery {
        text: text.into(),
        limit: 20,
        ..SearchQuery::default()
    };
    index
        .search(&q)
        .unwrap()
        .into_iter()
        .map(|h| h.text)
        .collect()
}

#[test]
fn a_query_without_diacritics_finds_text_with_them() {
    let f = fixture();
    let hits = search(&f.index, "quoc hoi");
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits.iter().any(|t| t.contains("Quốc hội")));
    assert!(hits.iter().any(|t| t.contains("quoc hoi")));
    // And the folded query matches whatever tone-mark style was written.
    assert_eq!(search(&f.index, "hoa binh").len(), 1);
    assert_eq!(search(&f.index, "hòa bình").len(), 1, "hòa finds hoà");
}

#[test]
fn a_query_with_diacritics_ranks_exact_matches_first() {
    let f = fixture();
    let hits = search(&f.index, "má tôi");
    assert_eq!(hits.len(), 2, "both má and mà match when folded: {hits:?}");
    assert!(
        hits[0].contains("má tôi"),
        "the exact match ranks first: {hits:?}"
    );
    let hits = search(&f.index, "mà tôi");
    assert!(hits[0].contains("mà tôi"), "{hits:?}");
}

#[test]
fn quoted_phrases_match_consecutive_syllables() {
    let f = fixture();
    let phrase = search(&f.index, "\"công nghệ thông tin\"");
    assert_eq!(
        phrase,
        vec!["Dự án luật về công nghệ thông tin được thảo luận.".to_owned()]
    );
    let words = search(&f.index, "công nghệ thông tin");
    assert_eq!(
        words.len(),
        2,
        "unquoted, both segments hold the four syllables: {words:?}"
    );
    assert_eq!(search(&f.index, "\"cong nghe thong tin\"").len(), 1);
}

#[test]
fn filters_and_hit_fields() {
    let f = fixture();
    let q = |session_id, from: Option<&str>, to: Option<&str>| SearchQuery {
        text: "tôi".into(),
        session_id,
        from: from.map(Into::into),
        to: to.map(Into::into),
        limit: 20,
        ..SearchQuery::default()
    };
    assert_eq!(f.index.search(&q(None, None, None)).unwrap().len(), 3);
    assert_eq!(
        f.index
            .search(&q(Some(f.october), None, None))
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        f.index
            .search(&q(None, Some("2026-11-01"), None))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        f.index
            .search(&q(None, None, Some("2026-10-31")))
            .unwrap()
            .len(),
        2
    );
    assert!(f.index.search(&q(None, Some("31/10/2026"), None)).is_err());
    let hit = &f.index.search(&q(Some(f.november), None, None)).unwrap()[0];
    assert_eq!((hit.session_id, hit.start_ms), (f.november, 1_000));
    assert!(
        hit.snippet_html.contains("<b>tôi</b>"),
        "{}",
        hit.snippet_html
    );

    let speaker = {
        let mut store = Store::open(f.store.path()).unwrap();
        let speaker = store
            .add_speaker(f.october, "Chủ tịch Quốc hội", Some("1"), None)
            .unwrap();
        let seg = store.segments(f.october).unwrap().remove(0);
        store
            .edit_segment(
                seg.id,
                seg.version,
                &SegmentEdit {
                    speaker_id: Some(Some(speaker)),
                    ..SegmentEdit::default()
                },
                "t",
            )
            .unwrap();
        f.index.update(&store, None, Some(seg.id)).unwrap();
        speaker
    };
    let by_speaker = SearchQuery {
        text: "quốc hội".into(),
        speaker_id: Some(speaker),
        limit: 5,
        ..SearchQuery::default()
    };
    assert_eq!(f.index.search(&by_speaker).unwrap().len(), 1);
}

#[test]
fn snippets_escape_transcript_text() {
    let f = fixture();
    let hits = f
        .index
        .search(&SearchQuery {
            text: "phat bieu".into(),
            limit: 5,
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert!(
        !hits[0].snippet_html.contains("<script>"),
        "{}",
        hits[0].snippet_html
    );
    assert!(
        hits[0].snippet_html.contains("&lt;script&gt;"),
        "{}",
        hits[0].snippet_html
    );
}

#[test]
fn edits_are_searchable_after_an_update_and_a_stale_index_is_rebuilt() {
    let mut f = fixture();
    let seg = f.store.segments(f.october).unwrap().remove(0);
    let edit = SegmentEdit {
        text: Some("Kính thưa Chủ tịch nước".into()),
        ..SegmentEdit::default()
    };
    f.store
        .edit_segment(seg.id, seg.version, &edit, "t")
        .unwrap();
    f.index.update(&f.store, None, Some(seg.id)).unwrap();
    assert_eq!(search(&f.index, "chu tich nuoc").len(), 1);
    assert_eq!(
        search(&f.index, "trình bày").len(),
        0,
        "the old text is gone"
    );
    assert_eq!(
        f.index.generation().unwrap(),
        Some(f.store.generation().unwrap())
    );

    // The store changes behind the index's back (a crash between the two writes).
    let seg = f.store.segment(seg.id).unwrap();
    let edit = SegmentEdit {
        text: Some("Kính thưa Thủ tướng".into()),
        ..SegmentEdit::default()
    };
    f.store
        .edit_segment(seg.id, seg.version, &edit, "t")
        .unwrap();
    drop(f.index);
    let (index, rebuilt) = SearchIndex::open_synced(&f.index_dir, &f.store).unwrap();
    assert!(rebuilt);
    assert_eq!(search(&index, "thu tuong").len(), 1);
}

#[test]
fn a_corrupt_or_missing_index_is_rebuilt_and_the_store_is_untouched() {
    let f = fixture();
    let dir = f.index_dir.clone();
    drop(f.index);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::write(&path, b"garbage").unwrap();
        }
    }
    let (index, rebuilt) = SearchIndex::open_synced(&dir, &f.store).unwrap();
    assert!(rebuilt);
    assert_eq!(search(&index, "quoc hoi").len(), 2);
    drop(index);
    std::fs::remove_dir_all(&dir).unwrap();
    let (index, rebuilt) = SearchIndex::open_synced(Path::new(&dir), &f.store).unwrap();
    assert!(rebuilt);
    assert_eq!(index.len(), 8);
    assert_eq!(f.store.sessions().unwrap().len(), 2);
}

#[test]
fn empty_and_oversized_queries_are_refused() {
    let f = fixture();
    for text in ["", "  ,.!? ", &"a".repeat(2_000)] {
        let q = SearchQuery {
            text: text.into(),
            limit: 5,
            ..SearchQuery::default()
        };
        assert!(f.index.search(&q).is_err(), "{text:?}");
    }
}

#[test]
fn an_update_catches_up_with_an_edit_whose_own_update_never_ran() {
    let mut f = fixture();
    let segs = f.store.segments(f.october).unwrap();
    let edit = |text: &str| SegmentEdit {
        text: Some(text.into()),
        ..SegmentEdit::default()
    };
    // The first edit's index update fails (or its process is slower than
    // the next writer's): only the second segment's update runs.
    f.store
        .edit_segment(
            segs[0].id,
            segs[0].version,
            &edit("Kính thưa Thủ tướng"),
            "a",
        )
        .unwrap();
    f.store
        .edit_segment(
            segs[1].id,
            segs[1].version,
            &edit("Chủ tịch nước phát biểu"),
            "b",
        )
        .unwrap();
    f.index.update(&f.store, None, Some(segs[1].id)).unwrap();
    assert_eq!(search(&f.index, "chu tich nuoc").len(), 1);
    assert_eq!(
        search(&f.index, "thu tuong").len(),
        1,
        "the missed edit is caught up, not buried under a newer generation"
    );
    assert_eq!(
        search(&f.index, "trình bày").len(),
        0,
        "its old text is gone"
    );

    // The same after a restart: the recorded generation is one the index has.
    f.store
        .edit_segment(
            segs[2].id,
            segs[2].version,
            &edit("Ý kiến của đại biểu"),
            "a",
        )
        .unwrap();
    drop(f.index);
    let (index, caught_up) = SearchIndex::open_synced(&f.index_dir, &f.store).unwrap();
    assert!(caught_up);
    assert_eq!(search(&index, "y kien cua dai bieu").len(), 1);
    assert_eq!(index.len(), 8, "caught up, not duplicated");
    assert_eq!(
        index.generation().unwrap(),
        Some(f.store.generation().unwrap())
    );
}

#[test]
fn a_restore_to_an_older_backup_rebuilds_the_index() {
    let mut f = fixture();
    let backup = f.index_dir.with_file_name("backup.db");
    f.store.backup(&backup).unwrap();
    // One edit after the backup, indexed: the index is one generation ahead
    // of the backup, which restoring would bring the store back to.
    let seg = f.store.segments(f.october).unwrap().remove(0);
    f.store
        .edit_segment(
            seg.id,
            seg.version,
            &SegmentEdit {
                text: Some("Kính thưa Thủ tướng".into()),
                ..SegmentEdit::default()
            },
            "t",
        )
        .unwrap();
    f.index.update(&f.store, None, Some(seg.id)).unwrap();
    assert_eq!(search(&f.index, "thu tuong").len(), 1);
    drop(f.index);

    f.store.restore(&backup).unwrap();
    let (index, rebuilt) = SearchIndex::open_synced(&f.index_dir, &f.store).unwrap();
    assert!(
        rebuilt,
        "the restored record is not the one the index holds"
    );
    assert_eq!(
        search(&index, "thu tuong").len(),
        0,
        "{:?}",
        search(&index, "thu tuong")
    );
    assert_eq!(search(&index, "trinh bay").len(), 1);

    // And an index left running across the restore catches it on its next update.
    let other = f.store.segments(f.november).unwrap().remove(0);
    f.store
        .edit_segment(
            other.id,
            other.version,
            &SegmentEdit {
                text: Some("mà tôi đồng ý".into()),
                ..SegmentEdit::default()
            },
            "t",
        )
        .unwrap();
    index.update(&f.store, None, Some(other.id)).unwrap();
    f.store.restore(&backup).unwrap();
    index.update(&f.store, None, Some(other.id)).unwrap();
    assert_eq!(search(&index, "dong y").len(), 0);
    assert_eq!(search(&index, "nghi khac").len(), 1);
}

#[test]
fn a_directory_that_is_not_an_index_is_refused_not_wiped() {
    let dir = tempfile::tempdir().unwrap();
    // The index directory configured, by mistake, as the data directory.
    let db = dir.path().join("tocky.db");
    let store = Store::open(&db).unwrap();
    drop(store);
    let err = SearchIndex::open(dir.path()).err().expect("refused");
    assert!(
        matches!(err, tocky_index::Error::NotAnIndex { .. }),
        "{err}"
    );
    assert!(db.is_file(), "the record survives");
    let store = Store::open(&db).unwrap();

    // A damaged index with a write cut short is still cleared and rebuilt.
    let index_dir = dir.path().join("tocky.index");
    std::fs::create_dir(&index_dir).unwrap();
    for name in [
        "meta.json",
        ".tmpAbC123",
        "0123456789abcdef0123456789abcdef.idx",
    ] {
        std::fs::write(index_dir.join(name), b"garbage").unwrap();
    }
    let (index, rebuilt) = SearchIndex::open_synced(&index_dir, &store).unwrap();
    assert!(rebuilt && index.is_empty());
    assert!(!index_dir.join(".tmpAbC123").exists());
}

#[test]
fn a_speaker_filter_of_zero_or_below_matches_nothing() {
    let f = fixture();
    for speaker in [0, -1] {
        let q = SearchQuery {
            text: "tôi".into(),
            speaker_id: Some(speaker),
            limit: 20,
            ..SearchQuery::default()
        };
        assert!(f.index.search(&q).unwrap().is_empty(), "{speaker}");
    }
}

#[test]
fn query_syntax_is_searched_literally_or_refused_never_a_panic() {
    let f = fixture();
    let cases: &[(&str, usize)] = &[
        ("\"quoc hoi", 2),
        ("quoc hoi\"", 2),
        ("text:quoc", 0),
        ("quoc: hoi", 2),
        ("-quoc", 2),
        ("+quoc AND hoi", 0),
        ("quoc*", 2),
        ("quốc~2", 0),
        ("(quốc hội)", 2),
        ("điều\\", 1),
        ("\u{301}", 0),
        ("\"\u{301} quoc\"", 0),
        ("\"hoà bình\"", 1),
    ];
    for (text, n) in cases {
        let q = SearchQuery {
            text: (*text).into(),
            limit: 20,
            ..SearchQuery::default()
        };
        let hits = f.index.search(&q).unwrap();
        assert_eq!(hits.len(), *n, "{text:?}: {hits:?}");
    }
    for text in ["\"", "\"\"", "*", ":", "-", "\" \""] {
        let q = SearchQuery {
            text: text.into(),
            limit: 20,
            ..SearchQuery::default()
        };
        assert!(
            matches!(f.index.search(&q), Err(tocky_index::Error::InvalidQuery(_))),
            "{text:?}"
        );
    }
}

#[test]
fn racing_writers_and_updates_leave_no_edit_unindexed() {
    let f = fixture();
    let ids: Vec<i64> = f
        .store
        .segments(f.october)
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    // Each thread has its own connection, as the server's blocking tasks do,
    // and edits then re-indexes its own segments; the index is shared.
    std::thread::scope(|scope| {
        for (t, chunk) in ids.chunks(2).enumerate() {
            let (path, index) = (f.store.path(), &f.index);
            scope.spawn(move || {
                let mut store = Store::open(path).unwrap();
                for round in 0..5 {
                    for id in chunk {
                        let seg = store.segment(*id).unwrap();
                        let edit = SegmentEdit {
                            text: Some(format!("luồng {t} vòng {round} đoạn {id}")),
                            ..SegmentEdit::default()
                        };
                        store.edit_segment(*id, seg.version, &edit, "t").unwrap();
                        index.update(&store, None, Some(*id)).unwrap();
                    }
                }
            });
        }
    });
    assert_eq!(
        f.index.generation().unwrap(),
        Some(f.store.generation().unwrap())
    );
    for id in ids {
        let text = f.store.segment(id).unwrap().text;
        let q = SearchQuery {
            text: format!("\"{text}\""),
            limit: 5,
            ..SearchQuery::default()
        };
        let hits = f.index.search(&q).unwrap();
        assert_eq!(hits.len(), 1, "{text}");
        assert_eq!(hits[0].segment_id, id);
    }
    assert_eq!(f.index.len(), 8);
}
