//! `tocky export`, run as the real binary against a database in a
//! temporary folder: the record as text, JSON and subtitles, without the
//! segments that are not speech; a published version as it was published.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};

use support::{text, tocky};
use tocky_store::{SceneKind, SegmentEdit, SegmentState, Store};
use tocky_test_support::{publish, review_all};

/// A database holding session 1: three segments of 4 s, every 5 s, with
/// a word every 400 ms; the third is not speech; applause at 4.5 s.
fn sitting(dir: &Path) -> PathBuf {
    let db = dir.join("tocky.db");
    let texts = ["Kính thưa Quốc hội", "luật đất đai sửa đổi", "tiếng ồn"];
    let segments: Vec<serde_json::Value> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let start = i as u64 * 5_000;
            let words: Vec<serde_json::Value> = text
                .split_whitespace()
                .enumerate()
                .map(|(k, w)| {
                    let at = start + k as u64 * 400;
                    serde_json::json!({"text": w, "start_ms": at, "end_ms": at + 300, "probability": 0.9})
                })
                .collect();
            serde_json::json!({"start_ms": start, "end_ms": start + 4_000, "text": text,
                               "words": words})
        })
        .collect();
    let doc = serde_json::json!({
        "schema": "tocky.transcript", "schema_version": 1,
        "source": {"file": "phien.flac", "sha256": "a".repeat(64), "bytes": 1,
                   "codec": "flac", "sample_rate": 16000, "channels": 1},
        "decoder": {"model": "ggml-base.bin", "tocky_version": "0.1.0", "beam_size": 5, "vad": true},
        "language": "vi", "duration_ms": 15_000, "segments": segments
    });
    let path = dir.join("phien.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let o = tocky(&db, &["ingest", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut store = Store::open(&db).unwrap();
    let third = store.segment(3).unwrap();
    store
        .set_segment_state(3, third.version, SegmentState::NotSpeech, "test")
        .unwrap();
    store
        .add_note(1, 4_500, SceneKind::Applause, "", "test")
        .unwrap();
    db
}

#[test]
fn a_session_is_exported_as_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let db = sitting(dir.path());

    let o = tocky(&db, &["export", "1", "--format", "txt"]);
    assert!(o.status.success());
    let txt = text(&o.stdout);
    assert!(
        txt.contains("[0:00:00]\nKính thưa Quốc hội\n\n(Hội trường vỗ tay)\n\n[0:00:05]\nluật"),
        "{txt}"
    );
    assert!(!txt.contains("tiếng ồn"), "not speech is left out: {txt}");

    let o = tocky(&db, &["export", "1", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&text(&o.stdout)).unwrap();
    assert_eq!(json["schema_version"], 3);
    assert_eq!(json["segments"].as_array().unwrap().len(), 2);
    assert_eq!(json["record"][0]["entries"][1]["type"], "note");

    let srt = dir.path().join("phien.srt");
    let o = tocky(
        &db,
        &["export", "1", "-f", "srt", "-o", srt.to_str().unwrap()],
    );
    assert!(o.status.success());
    assert!(text(&o.stdout).is_empty());
    assert_eq!(
        std::fs::read_to_string(&srt).unwrap(),
        "1\n00:00:00,000 --> 00:00:04,000\nKính thưa Quốc hội\n\n\
         2\n00:00:05,000 --> 00:00:09,000\nluật đất đai sửa đổi\n\n"
    );

    let docx = dir.path().join("phien.docx");
    let o = tocky(&db, &["export", "1", "-f", "docx"]);
    assert!(!o.status.success(), "a DOCX needs a file");
    let o = tocky(
        &db,
        &["export", "1", "-f", "docx", "-o", docx.to_str().unwrap()],
    );
    assert!(o.status.success());
    assert_eq!(&std::fs::read(&docx).unwrap()[..2], b"PK");

    let o = tocky(&db, &["export", "1", "-f", "akn"]);
    assert!(o.status.success());
    let akn = text(&o.stdout);
    assert!(akn.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(akn.contains("<debate name=\"sitting\">"), "{akn}");

    let o = tocky(&db, &["export", "9", "-f", "txt"]);
    assert!(!o.status.success(), "an unknown session is refused");
}

#[test]
fn a_published_version_is_exported_as_published() {
    let dir = tempfile::tempdir().unwrap();
    let db = sitting(dir.path());
    let o = tocky(&db, &["export", "1", "-f", "txt", "--version", "1"]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("no published version"), "{err}");

    let mut store = Store::open(&db).unwrap();
    publish(&mut store, 1);
    let v1 = tocky(&db, &["export", "1", "-f", "akn", "--version", "1"]);
    assert!(v1.status.success(), "{}", text(&v1.stderr));
    let seg = store.segment(1).unwrap();
    let edit = SegmentEdit {
        text: Some("Kính thưa toàn thể Quốc hội".into()),
        ..SegmentEdit::default()
    };
    store.edit_segment(1, seg.version, &edit, "lan").unwrap();
    publish(&mut store, 1);

    let again = tocky(&db, &["export", "1", "-f", "akn", "--version", "1"]);
    assert_eq!(again.stdout, v1.stdout, "version 1 is as it was published");
    assert!(text(&v1.stdout).contains("<FRBRversionNumber value=\"1\"/>"));
    let o = tocky(&db, &["export", "1", "-f", "txt", "--version", "2"]);
    assert!(text(&o.stdout).contains("Kính thưa toàn thể Quốc hội"));
    let o = tocky(&db, &["export", "1", "-f", "txt", "--version", "3"]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("no version 3 (versions: 1, 2)"), "{err}");
    let o = tocky(&db, &["--version"]);
    assert!(
        text(&o.stdout).starts_with("tocky "),
        "tocky --version still answers"
    );
}

#[test]
fn the_written_form_follows_the_filler_flags_and_a_version_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let db = sitting(dir.path());
    let mut store = Store::open(&db).unwrap();
    let edit = SegmentEdit {
        text: Some("ờ Quốc hội khóa mười lăm nhé".into()),
        ..SegmentEdit::default()
    };
    store.edit_segment(1, 1, &edit, "test").unwrap();
    let txt = |args: &[&str]| {
        let mut all = vec!["export", "1", "--format", "txt"];
        all.extend_from_slice(args);
        let o = tocky(&db, &all);
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    assert!(
        txt(&[]).contains("\nQuốc hội khóa XV nhé\n"),
        "{}",
        txt(&[])
    );
    let kept = txt(&["--keep-fillers"]);
    assert!(kept.contains("\nờ Quốc hội khóa XV nhé\n"), "{kept}");
    let other = txt(&["--fillers", "nhé,ừm"]);
    assert!(other.contains("\nờ Quốc hội khóa XV\n"), "{other}");
    // The store keeps what was said.
    assert_eq!(
        store.segment(1).unwrap().text,
        "ờ Quốc hội khóa mười lăm nhé"
    );

    // Published with "nhé" as a filler, version 1 prints what was frozen
    // whatever the flags of the export.
    review_all(&mut store, 1, "lan");
    for to in ["checked", "approved", "published"] {
        let o = tocky(&db, &["workflow", "move", "1", to, "--fillers", "nhé"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    for flags in [&[][..], &["--keep-fillers"][..]] {
        let v1 = txt(&[&["--version", "1"][..], flags].concat());
        assert!(v1.contains("\nờ Quốc hội khóa XV\n"), "{v1}");
    }
}
