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
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "editor_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(EDITOR_ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(*run_ms));
        child.kill().unwrap(); // SIGKILL
        let output = child.wait_with_output().unwrap();
        let printed = String::from_utf8_lossy(&output.stdout);
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
