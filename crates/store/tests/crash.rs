//! A real process editing the store, killed with SIGKILL mid-stream: every
//! edit it committed survives, none is half-written, and the revision
//! history still chains. The test binary runs itself as the editor.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use tocky_core::document::{DecoderInfo, SourceInfo, TranscriptDocument};
use tocky_core::{Segment, Transcript};
use tocky_store::{IngestOutcome, SegmentEdit, SessionMeta, Store};

const EDITOR_ENV: &str = "TOCKY_CRASH_TEST_EDITOR_DB";

/// The editor child: edits round-robin forever, printing each committed
/// version, until killed. Not a test of its own.
#[test]
#[ignore = "run by killing_an_editor_loses_no_committed_edit as its child process"]
fn editor_child() {
    let db = std::env::var_os(EDITOR_ENV).expect("run by the crash test");
    let mut store = Store::open(Path::new(&db)).unwrap();
    let session = store.sessions().unwrap()[0].id;
    let ids: Vec<i64> = store
        .segments(session)
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    for round in 0.. {
        for id in &ids {
            let seg = store.segment(*id).unwrap();
            let text = format!("bản sửa {round} của đoạn {id}: {}", "chữ ".repeat(200));
            let saved = store
                .edit_segment(
                    *id,
                    seg.version,
                    &SegmentEdit {
                        text: Some(text),
                        ..SegmentEdit::default()
                    },
                    "child",
                )
                .unwrap();
            println!("{id} {}", saved.version);
        }
    }
}

fn document() -> TranscriptDocument {
    TranscriptDocument::new(
        SourceInfo {
            file: "a.wav".into(),
            sha256: "c".repeat(64),
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
            duration_ms: 50_000,
            segments: (0..5)
                .map(|i| Segment {
                    start_ms: i * 10_000,
                    end_ms: i * 10_000 + 9_000,
                    text: format!("đoạn {i}"),
                    ..Segment::default()
                })
                .collect(),
        },
    )
}

#[test]
fn killing_an_editor_loses_no_committed_edit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let mut store = Store::open(&db).unwrap();
    let IngestOutcome::Created { session_id, .. } = store
        .ingest(&document(), &SessionMeta::default(), "t")
        .unwrap()
    else {
        panic!()
    };
    drop(store);

    for (attempt, run_ms) in [150u64, 400, 700].iter().enumerate() {
        let stdout = run_and_kill("editor_child", EDITOR_ENV, &db, *run_ms);
        let printed = String::from_utf8_lossy(&stdout);
        // The last version the child saw committed, per segment.
        let mut acknowledged = std::collections::HashMap::new();
        for line in printed.lines() {
            let mut parts = line.split_whitespace();
            if let (Some(id), Some(v)) = (
                parts.next().and_then(|s| s.parse::<i64>().ok()),
                parts.next().and_then(|s| s.parse::<i64>().ok()),
            ) {
                acknowledged.insert(id, v);
            }
        }
        assert!(
            !acknowledged.is_empty(),
            "attempt {attempt}: the editor committed nothing in {run_ms} ms"
        );

        let store = Store::open(&db).unwrap();
        for seg in store.segments(session_id).unwrap() {
            let revisions = store.revisions(seg.id).unwrap();
            // Acknowledged edits are all there (a later one may have committed just before the kill).
            assert!(
                seg.version >= *acknowledged.get(&seg.id).unwrap_or(&1),
                "attempt {attempt}: {seg:?} lost an edit"
            );
            assert_eq!(
                revisions.len() as i64,
                seg.version - 1,
                "one revision per edit"
            );
            for pair in revisions.windows(2) {
                assert_eq!(
                    pair[0].text_after, pair[1].text_before,
                    "the history chains"
                );
                assert_eq!(pair[0].version + 1, pair[1].version);
            }
            if let Some(last) = revisions.last() {
                assert_eq!(
                    last.text_after, seg.text,
                    "the current text is the last revision's"
                );
            }
        }
    }
}

const OPERATOR_ENV: &str = "TOCKY_CRASH_TEST_OPERATOR_DB";

/// The operator child: splits each segment after its first word and merges
/// the halves back, forever, printing each committed operation, until
/// killed. Not a test of its own.
#[test]
#[ignore = "run by killing_an_operator_leaves_every_operation_whole as its child process"]
fn operator_child() {
    let db = std::env::var_os(OPERATOR_ENV).expect("run by the crash test");
    let mut store = Store::open(Path::new(&db)).unwrap();
    let session = store.sessions().unwrap()[0].id;
    loop {
        for k in 0..5 {
            let seg = store.segments(session).unwrap()[k].clone();
            if seg.text.split_whitespace().count() < 2 {
                continue; // the half of a split a kill interrupted the merge of
            }
            let split = store
                .split_segment(seg.id, seg.version, tocky_store::SplitAt::Word(1), "child")
                .unwrap();
            println!("op {}", split.operation_id);
            let (left, right) = (&split.segments[0], &split.segments[1]);
            let merged = store
                .merge_with_next(left.id, left.version, right.id, right.version, "child")
                .unwrap();
            println!("op {}", merged.operation_id);
        }
    }
}

#[test]
fn killing_an_operator_leaves_every_operation_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let mut store = Store::open(&db).unwrap();
    let IngestOutcome::Created { session_id, .. } = store
        .ingest(&document(), &SessionMeta::default(), "t")
        .unwrap()
    else {
        panic!()
    };
    drop(store);
    let whole_text = "đoạn 0 đoạn 1 đoạn 2 đoạn 3 đoạn 4";

    for (attempt, run_ms) in [150u64, 400, 700].iter().enumerate() {
        let stdout = run_and_kill("operator_child", OPERATOR_ENV, &db, *run_ms);
        let acknowledged: Vec<i64> = String::from_utf8_lossy(&stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("op ")?.parse().ok())
            .collect();
        assert!(
            !acknowledged.is_empty(),
            "attempt {attempt}: the operator committed nothing in {run_ms} ms"
        );

        let store = Store::open(&db).unwrap();
        // Every acknowledged operation is there, with every row it wrote
        // at least at the version it left (none half-written).
        for id in &acknowledged {
            let op = store.operation(*id).unwrap();
            for row in &op.after.segments {
                assert!(store.segment(row.id).unwrap().version >= row.version);
            }
        }
        // Splits and merges keep the words: the session reads the same.
        let segments = store.segments(session_id).unwrap();
        let text: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(text.join(" "), whole_text, "attempt {attempt}");
        // Segments tile the time they had, and histories chain.
        for pair in segments.windows(2) {
            assert!(pair[0].end_ms <= pair[1].start_ms, "{pair:?}");
        }
        for seg in &segments {
            let revisions = store.revisions(seg.id).unwrap();
            if let Some(last) = revisions.last() {
                assert_eq!(last.version, seg.version);
                assert_eq!(last.text_after, seg.text);
            }
            for pair in revisions.windows(2) {
                assert_eq!(pair[0].version + 1, pair[1].version);
                assert_eq!(pair[0].text_after, pair[1].text_before);
            }
        }
    }
}

/// Runs the ignored test `child` of this binary on `db` (named by `env`),
/// kills it with SIGKILL after `run_ms`, and returns what it printed.
fn run_and_kill(child: &str, env: &str, db: &Path, run_ms: u64) -> Vec<u8> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            child,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(env, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(run_ms));
    child.kill().unwrap(); // SIGKILL
    child.wait_with_output().unwrap().stdout
}
