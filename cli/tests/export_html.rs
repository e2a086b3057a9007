//! `tocky export --format html`, run as the real binary: the working
//! record marked as a draft, a published version's page (the same bytes
//! `tocky serve` answers for it), and an unknown version refused.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};

use support::{text, tocky};

/// A database holding session 1 (two segments, the first hostile),
/// published as version 1.
fn published(dir: &Path) -> PathBuf {
    let db = dir.join("tocky.db");
    let doc = serde_json::json!({
        "schema": "tocky.transcript", "schema_version": 1,
        "source": {"file": "phien.flac", "sha256": "a".repeat(64), "bytes": 1,
                   "codec": "flac", "sample_rate": 16000, "channels": 1},
        "decoder": {"model": "ggml-base.bin", "tocky_version": "0.1.0", "beam_size": 5, "vad": true},
        "language": "vi", "duration_ms": 10_000, "segments": [
            {"start_ms": 0, "end_ms": 4000, "text": "Kính thưa </p><script>x</script>", "words": [],
             "avg_logprob": -0.2, "no_speech_prob": 0.01},
            {"start_ms": 5000, "end_ms": 9000, "text": "xin cảm ơn", "words": [],
             "avg_logprob": -0.2, "no_speech_prob": 0.01}
        ]
    });
    let path = dir.join("phien.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let o = tocky(&db, &["ingest", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    {
        let mut store = tocky_store::Store::open(&db).unwrap();
        tocky_test_support::review_all(&mut store, 1, "lan");
    }
    for to in ["checked", "approved", "published"] {
        let o = tocky(&db, &["workflow", "move", "1", to]);
        assert!(o.status.success(), "{to}: {}", text(&o.stderr));
    }
    db
}

#[test]
fn a_version_exports_as_its_public_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = published(dir.path());
    let out = dir.path().join("v1.html");
    let o = tocky(
        &db,
        &[
            "export",
            "1",
            "--format",
            "html",
            "--version",
            "1",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(
        page.starts_with("<!DOCTYPE html>\n<html lang=\"vi\">"),
        "{page}"
    );
    assert!(
        page.contains("<dd id=\"version\">1 (tạm thời)</dd>"),
        "{page}"
    );
    assert!(page.contains("id=\"s1\"") && page.contains("href=\"/records/1/v/1#s1\""));
    assert!(page.contains("href=\"/api/sessions/1/audio#t=0.000\""));
    assert!(page.contains("&lt;/p&gt;&lt;script&gt;x&lt;/script&gt;"));
    assert!(!page.contains("<script"));
    let store = tocky_store::Store::open(&db).unwrap();
    let sha = &store.versions(1).unwrap()[0].sha256;
    assert!(page.contains(sha.as_str()));

    // The working record (standard output): marked as a draft.
    let o = tocky(&db, &["export", "1", "--format", "html"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("<p class=\"draft\">"));

    let o = tocky(&db, &["export", "1", "--format", "html", "--version", "4"]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("session 1 has no version 4 (versions: 1)"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn search_in_published_text_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = published(dir.path());
    {
        let mut store = tocky_store::Store::open(&db).unwrap();
        let s = store.segments(1).unwrap().remove(1);
        let edit = tocky_store::SegmentEdit {
            text: Some("xin trân trọng cảm ơn".into()),
            ..Default::default()
        };
        store.edit_segment(s.id, s.version, &edit, "lan").unwrap();
    }
    // The working record has the edit; the published text does not.
    let o = tocky(&db, &["search", "tran trong"]);
    assert!(
        text(&o.stdout).contains("xin trân trọng cảm ơn"),
        "{}",
        text(&o.stdout)
    );
    let o = tocky(&db, &["search", "--published", "tran trong"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).is_empty(), "{}", text(&o.stdout));
    let o = tocky(&db, &["search", "--published", "cam on"]);
    let out = text(&o.stdout);
    assert!(out.starts_with("session 1    v1 "), "{out}");
    assert!(out.contains("xin cảm ơn"), "{out}");
}
