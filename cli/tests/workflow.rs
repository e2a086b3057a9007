//! `tocky workflow`, run as the real binary against a database in a
//! temporary folder: a refusal with its reason, the steps to a published
//! version, and that version written exactly as stored.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{text, tocky};

/// A database holding session 1: two segments.
fn sitting(dir: &Path) -> PathBuf {
    let db = dir.join("tocky.db");
    let doc = serde_json::json!({
        "schema": "tocky.transcript", "schema_version": 1,
        "source": {"file": "phien.flac", "sha256": "a".repeat(64), "bytes": 1,
                   "codec": "flac", "sample_rate": 16000, "channels": 1},
        "decoder": {"model": "ggml-base.bin", "tocky_version": "0.1.0", "beam_size": 5, "vad": true},
        "language": "vi", "duration_ms": 10_000, "segments": [
            {"start_ms": 0, "end_ms": 4000, "text": "Kính thưa Quốc hội", "words": [],
             "avg_logprob": -0.2, "no_speech_prob": 0.01},
            {"start_ms": 5000, "end_ms": 9000, "text": "xin cảm ơn", "words": [],
             "avg_logprob": -0.2, "no_speech_prob": 0.01}
        ]
    });
    let path = dir.join("phien.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let o = tocky(&db, &["ingest", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    db
}

#[test]
fn a_sitting_is_published_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = sitting(dir.path());
    let o = tocky(&db, &["workflow", "move", "1", "checked"]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("2 segments are not reviewed yet; nothing was changed"),
        "{}",
        text(&o.stderr)
    );
    {
        let mut store = tocky_store::Store::open(&db).unwrap();
        tocky_test_support::review_all(&mut store, 1, "lan");
    }
    for to in ["checked", "approved"] {
        let o = tocky(&db, &["workflow", "move", "1", to]);
        assert!(o.status.success(), "{to}: {}", text(&o.stderr));
    }
    let o = tocky(
        &db,
        &["workflow", "move", "1", "published", "--note", "bản tạm"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("approved → published (version 1, sha256 "),
        "{}",
        text(&o.stdout)
    );

    let out = dir.path().join("v1.json");
    let o = tocky(
        &db,
        &["workflow", "version", "1", "1", "-o", out.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let store = tocky_store::Store::open(&db).unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        store.version(1, 1).unwrap().content
    );
    let o = tocky(&db, &["workflow", "show", "1"]);
    assert!(text(&o.stdout).starts_with("session 1: published (2 segments, 0 not reviewed)"));
    let o = tocky(&db, &["workflow", "version", "1", "2"]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("no published version 2"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn an_editor_account_is_added_from_the_command_line() {
    use std::io::Write;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("--db")
        .arg(&db)
        .args(["user", "add", "thu", "--role", "editor"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let store = tocky_store::Store::open(&db).unwrap();
    let users = store.users().unwrap();
    assert_eq!(users[0].role, tocky_store::Role::Editor);
    let o = tocky(&db, &["user", "role", "thu", "chief"]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("expected admin, editor, stenographer or reader"),
        "{}",
        text(&o.stderr)
    );
}
