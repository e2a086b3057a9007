//! Vietnamese search over a real store and a real tantivy index.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use tocky_core::document::{DecoderInfo, SourceInfo, TranscriptDocument};
use tocky_core::{Segment, Transcript};
use tocky_index::{SearchIndex, SearchQuery};
use tocky_store::{IngestOutcome, SegmentEdit, SessionMeta, Store};

fn doc(sha: char, texts: &[&str]) -> TranscriptDocument {
    TranscriptDocument::new(
        SourceInfo {
            file: format!("{sha}.wav"),
            sha256: sha.to_string().repeat(64),
            bytes: 1,
            codec: "pcm_s16le".into(),
            sample_rate: 16_000,
            channels: 1,
            transcribed_channels: None,
        },
        DecoderInfo {
            model: "m".into(),
            tocky_version: "0".into(),
            beam_size: 5,
            vad: true,
            prompt: None,
        },
        Transcript {
            language: "vi".into(),
            duration_ms: 60_000,
            segments: texts
                .iter()
                .enumerate()
                .map(|(i, t)| Segment {
                    start_ms: 1_000 + i as u64 * 10_000,
                    end_ms: 9_000 + i as u64 * 10_000,
                    text: (*t).into(),
                    ..Segment::default()
                })
                .collect(),
        },
    )
}

fn ingest(store: &mut Store, sha: char, date: &str, texts: &[&str]) -> i64 {
    let meta = SessionMeta {
        sitting_date: Some(date.into()),
        ..SessionMeta::default()
    };
    match store.ingest(&doc(sha, texts), &meta, "test").unwrap() {
        IngestOutcome::Created { session_id, .. } => session_id,
        other => panic!("{other:?}"),
    }
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
