//! `tocky agenda set` and `show`, run as the real binary against a
//! database in a temporary folder.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tocky(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("tocky runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A database holding session 1: 20 segments, one every 60 s.
fn sitting(dir: &Path) -> PathBuf {
    let db = dir.join("tocky.db");
    let segments: Vec<serde_json::Value> = (0..20)
        .map(|i| {
            serde_json::json!({
                "start_ms": i * 60_000, "end_ms": i * 60_000 + 50_000,
                "text": format!("Đoạn số {i}."), "words": [],
                "avg_logprob": -0.2, "no_speech_prob": 0.01
            })
        })
        .collect();
    let doc = serde_json::json!({
        "schema": "tocky.transcript", "schema_version": 1,
        "source": {"file": "phien.flac", "sha256": "a".repeat(64), "bytes": 1,
                   "codec": "flac", "sample_rate": 16000, "channels": 1},
        "decoder": {"model": "ggml-base.bin", "tocky_version": "0.1.0", "beam_size": 5, "vad": true},
        "language": "vi", "duration_ms": 1_200_000, "segments": segments
    });
    let path = write(dir, "phien.json", &doc.to_string());
    let o = tocky(&db, &["ingest", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    db
}

fn set(db: &Path, file: &Path) -> Output {
    tocky(db, &["agenda", "set", "1", file.to_str().unwrap()])
}

fn shown(db: &Path) -> serde_json::Value {
    let o = tocky(db, &["agenda", "show", "1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

const AGENDA: &str = r#"
[[item]]
title = "Khai mạc kỳ họp"
start = "00:00:00"

[[item]]
title = "Thảo luận dự án Luật Đất đai (sửa đổi)"
reference = "Luật Đất đai (sửa đổi)"
start = 00:12:30

[[item]]
title = "Chất vấn và trả lời chất vấn"
"#;

#[test]
fn an_agenda_file_is_set_shown_and_re_imported_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let db = sitting(dir.path());
    let file = write(dir.path(), "agenda.toml", AGENDA);

    let o = set(&db, &file);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("3 added, 0 changed, 0 removed"),
        "{}",
        stdout(&o)
    );
    let first = shown(&db);
    let items = first.as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[1]["reference"], "Luật Đất đai (sửa đổi)");
    // 00:12:30 is the first segment starting at or after it: 13:00, the 14th.
    assert_eq!(items[1]["start_segment_id"], 14);
    assert!(items[2]["start_segment_id"].is_null());

    let again = set(&db, &file);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("as the file says already"),
        "{}",
        stdout(&again)
    );
    assert_eq!(shown(&db), first);

    // Without starts, a re-import keeps them; a retitled item keeps its id.
    let retitled = write(
        dir.path(),
        "retitled.toml",
        "[[item]]\ntitle = \"Khai mạc kỳ họp\"\n\n[[item]]\ntitle = \"Thảo luận Luật Đất đai\"\n\n\
         [[item]]\ntitle = \"Chất vấn và trả lời chất vấn\"\n",
    );
    let o = set(&db, &retitled);
    assert!(
        stdout(&o).contains("0 added, 1 changed, 0 removed"),
        "{}",
        stdout(&o)
    );
    let now = shown(&db);
    assert_eq!(now[1]["id"], first[1]["id"]);
    assert_eq!(now[1]["start_segment_id"], 14);
    assert_eq!(now[0], first[0]);

    let text = tocky(&db, &["agenda", "show", "1"]);
    let lines: Vec<String> = stdout(&text).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[1],
        "2.\tThảo luận Luật Đất đai\tstarts 0:13:00 (segment 14)"
    );
    assert!(lines[2].ends_with("not started"));
}

#[test]
fn a_bad_file_names_its_line_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = sitting(dir.path());
    let cases = [
        (
            "[[item]]\ntitle = \"A\"\nstart = \"12h30\"\n",
            "line 3: start is a time",
        ),
        (
            "[[item]]\ntitle = \"A\"\n\n[[item]]\ntitle = \"  \"\n",
            "line 5: an item needs a title",
        ),
        (
            "[[item]]\ntitle = \"A\"\nstart = \"00:10:00\"\n[[item]]\ntitle = \"B\"\nstart = \"00:05:00\"\n",
            "line 6: 0:05:00 is before the start on line 3",
        ),
        (
            "[[item]]\ntitle = \"A\"\nstart = \"2:00:00\"\n",
            "line 3: no segment starts at or after 2:00:00",
        ),
        ("[[item]]\ntitle = \"A\"\ncolour = \"red\"\n", "line 3"),
        ("[[item]]\ntitle = \"A\n", "line 2"),
        ("", "no [[item]]"),
    ];
    for (text, said) in cases {
        let file = write(dir.path(), "bad.toml", text);
        let o = set(&db, &file);
        assert!(!o.status.success(), "{text:?} was accepted");
        let err = stderr(&o);
        assert!(err.contains(said), "{text:?}: {err}");
        assert!(err.contains("nothing was changed"), "{err}");
    }
    assert_eq!(shown(&db), serde_json::json!([]));
    let o = tocky(&db, &["agenda", "show", "7"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no session 7"), "{}", stderr(&o));
}
