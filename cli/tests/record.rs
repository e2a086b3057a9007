//! `tocky ingest`, `backup` and `restore` as separate processes, including
//! ones killed with SIGKILL in the middle of a write.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{text, tocky};

/// A transcript document with `n` segments, as `tocky transcribe` writes it.
fn document(dir: &Path, name: &str, sha_byte: char, n: usize) -> PathBuf {
    let segments: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "start_ms": i * 4000, "end_ms": i * 4000 + 3500,
                "text": format!("Kính thưa Quốc hội, đây là đoạn số {i} về dự án Luật Đất đai sửa đổi."),
                "words": [{"text": "Kính", "start_ms": i * 4000, "end_ms": i * 4000 + 300, "probability": 0.9}],
                "avg_logprob": -0.2, "no_speech_prob": 0.01
            })
        })
        .collect();
    let doc = serde_json::json!({
        "schema": "tocky.transcript", "schema_version": 1,
        "source": {"file": format!("{name}.flac"), "sha256": sha_byte.to_string().repeat(64), "bytes": 1,
                   "codec": "flac", "sample_rate": 16000, "channels": 1},
        "decoder": {"model": "ggml-base.bin", "tocky_version": "0.1.0", "beam_size": 5, "vad": true},
        "language": "vi", "duration_ms": n * 4000, "segments": segments
    });
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    path
}

fn count(db: &Path, sql: &str) -> i64 {
    let out = Command::new("python3")
        .arg("-c")
        // A process killed before its first commit leaves no schema at all
        // (the migrations are one transaction): that store is empty, so
        // every count is 0. A half-made schema would fail the query.
        .arg("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('PRAGMA integrity_check').fetchone()[0]); empty=c.execute('SELECT count(*) FROM sqlite_master').fetchone()[0]==0; print(0 if empty else c.execute(sys.argv[2]).fetchone()[0])")
        .arg(db)
        .arg(sql)
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("ok"),
        "integrity check: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines
        .next()
        .unwrap_or_else(|| panic!("{sql}: {}", String::from_utf8_lossy(&out.stderr)))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn ingest_is_idempotent_and_refuses_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let doc = document(dir.path(), "phien-1", 'a', 3);
    let o = tocky(
        &db,
        &[
            "ingest",
            "--title",
            "Phiên họp sáng",
            "--date",
            "2026-10-21",
            doc.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("session 1, 3 segments"));
    let o = tocky(&db, &["ingest", doc.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("already in the record as session 1"));
    assert_eq!(count(&db, "SELECT count(*) FROM segments"), 3);

    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"schema\": \"tocky.transcript\", \"schema_version\": 7}",
    )
    .unwrap();
    let o = tocky(&db, &["ingest", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("version 7 is not supported"));
    let o = tocky(
        &db,
        &["ingest", "--date", "21/10/2026", doc.to_str().unwrap()],
    );
    assert!(!o.status.success());
}

#[test]
fn killing_an_ingest_midway_leaves_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let big = document(dir.path(), "big", 'b', 200_000);
    for (attempt, delay_ms) in [30u64, 150, 400, 900].iter().enumerate() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tocky"))
            .arg("--db")
            .arg(&db)
            .args(["ingest", big.to_str().unwrap()])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(*delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // All of the session or none of it, and an intact file.
        let sessions = count(&db, "SELECT count(*) FROM sessions");
        let segments = count(&db, "SELECT count(*) FROM segments");
        assert!(
            (sessions, segments) == (0, 0) || (sessions, segments) == (1, 200_000),
            "attempt {attempt}: {sessions} sessions, {segments} segments"
        );
    }
    // A later ingest completes (or finds it already done).
    let o = tocky(&db, &["ingest", big.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(count(&db, "SELECT count(*) FROM segments"), 200_000);
}

#[test]
fn backup_and_restore_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let backup = dir.path().join("copy.db");
    tocky(
        &db,
        &[
            "ingest",
            document(dir.path(), "one", 'c', 2).to_str().unwrap(),
        ],
    );
    let o = tocky(&db, &["backup", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    tocky(
        &db,
        &[
            "ingest",
            document(dir.path(), "two", 'd', 2).to_str().unwrap(),
        ],
    );
    assert_eq!(count(&db, "SELECT count(*) FROM sessions"), 2);
    let o = tocky(&db, &["restore", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(count(&db, "SELECT count(*) FROM sessions"), 1);
    let o = tocky(
        &db,
        &["restore", dir.path().join("missing.db").to_str().unwrap()],
    );
    assert!(!o.status.success());
}

#[test]
fn search_finds_ingested_text_with_or_without_diacritics() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let doc = document(dir.path(), "phien", 'e', 5);
    let o = tocky(
        &db,
        &["ingest", "--date", "2026-10-21", doc.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    for query in ["quoc hoi", "Quốc hội", "\"luat dat dai\""] {
        let o = tocky(&db, &["search", query]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(out.lines().count(), 5, "{query}: {out}");
        assert!(
            out.lines()
                .all(|l| l.starts_with("session 1    2026-10-21  00:00:")),
            "{out}"
        );
    }
    let o = tocky(&db, &["search", "--json", "--limit", "2", "đoạn số 3"]);
    let hits: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(hits[0]["start_ms"], 12_000, "{hits}");
    assert!(hits[0]["snippet_html"].as_str().unwrap().contains("<b>"));

    // A lost index is rebuilt from the store on the next search.
    std::fs::remove_dir_all(db.with_extension("index")).unwrap();
    let o = tocky(&db, &["search", "quoc hoi"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 5);
    let o = tocky(&db, &["index", "rebuild"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("indexed 5 segments"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = tocky(&db, &["search", "--from", "2026-11-01", "quoc hoi"]);
    assert!(String::from_utf8_lossy(&o.stdout).is_empty());
}

/// `tocky search … | head`: output whose reader has gone ends quietly with
/// the status a shell gives a program ended by SIGPIPE, not with a panic.
#[test]
fn a_closed_standard_output_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let doc = document(dir.path(), "phien", 'f', 5);
    assert!(
        tocky(&db, &["ingest", doc.to_str().unwrap()])
            .status
            .success()
    );
    let cache = dir.path().join("cache");
    let cache = cache.to_str().unwrap();
    for args in [
        &["search", "quoc hoi"][..],
        &["--cache-dir", cache, "model", "list"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = Command::new(env!("CARGO_BIN_EXE_tocky"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = text(&o.stderr);
        assert_eq!(o.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// `tocky restore` is refused while `tocky serve` has the record open (a
/// live sitting would go on appending to a session the restore removed),
/// and works once it has stopped; neither a backup nor a restore takes the
/// record itself for the other file.
#[test]
fn restore_is_refused_while_the_record_is_served() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let backup = dir.path().join("copy.db");
    let one = document(dir.path(), "one", '1', 2);
    assert!(
        tocky(&db, &["ingest", one.to_str().unwrap()])
            .status
            .success()
    );
    assert!(
        tocky(&db, &["backup", backup.to_str().unwrap()])
            .status
            .success()
    );
    let two = document(dir.path(), "two", '2', 2);
    assert!(
        tocky(&db, &["ingest", two.to_str().unwrap()])
            .status
            .success()
    );

    for args in [
        ["backup", db.to_str().unwrap()],
        ["restore", db.to_str().unwrap()],
    ] {
        let o = tocky(&db, &args);
        assert!(!o.status.success(), "{args:?}");
        assert!(
            text(&o.stderr).contains("is the record itself"),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
    assert_eq!(count(&db, "SELECT count(*) FROM sessions"), 2);

    let mut server = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("--db")
        .arg(&db)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("listening on"), "{line}");
    let o = tocky(&db, &["restore", backup.to_str().unwrap()]);
    let _ = server.kill();
    let _ = server.wait();
    assert!(!o.status.success());
    let stderr = text(&o.stderr);
    assert!(stderr.contains("stop `tocky serve`"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(count(&db, "SELECT count(*) FROM sessions"), 2);

    let o = tocky(&db, &["restore", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(count(&db, "SELECT count(*) FROM sessions"), 1);
}

/// `tocky user add` for a name that exists says so before asking for a
/// password, and the account keeps the password it had.
#[test]
fn adding_an_account_that_exists_is_refused_before_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let add = |stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tocky"))
            .arg("--db")
            .arg(&db)
            .args(["user", "add", "lan", "--role", "stenographer"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let first = add("a long enough password\n");
    assert!(first.status.success(), "{first:?}");
    // No password given this time: the refusal must come first.
    let second = add("");
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(count(&db, "SELECT count(*) FROM users"), 1);
}
