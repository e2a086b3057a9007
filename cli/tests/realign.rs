//! `tocky realign`: a segment corrected through the store gets words that
//! follow its new text, timed inside its bounds against the real model.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tocky_store::{SegmentEdit, Store};

fn tocky(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("tocky runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A transcript of `clip.wav` as `tocky transcribe` writes it: one segment
/// with the recogniser's words (one of them wrong).
fn document(dir: &Path) -> PathBuf {
    let said = [
        "cũng", "lên", "tiến", "ủng", "hộ", "các", "kiến", "nghị", "này",
    ];
    let words: Vec<serde_json::Value> = said
        .iter()
        .enumerate()
        .map(|(k, w)| {
            let start = 400 + k as u64 * 330;
            serde_json::json!({"text": w, "start_ms": start, "end_ms": start + 300, "probability": 0.8})
        })
        .collect();
    let doc = serde_json::json!({
        "schema": "tocky.transcript", "schema_version": 1,
        "source": {"file": "clip.wav", "sha256": "c".repeat(64), "bytes": 1,
                   "codec": "pcm_s16le", "sample_rate": 16000, "channels": 1},
        "decoder": {"model": "ggml-base.bin", "tocky_version": "0.1.0", "beam_size": 5, "vad": true},
        "language": "vi", "duration_ms": 3687,
        "segments": [{
            "start_ms": 300, "end_ms": 3650, "text": said.join(" "), "words": words,
            "avg_logprob": -0.2, "no_speech_prob": 0.01
        }]
    });
    let path = dir.join("clip.json");
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    path
}

#[test]
fn realign_retimes_a_corrected_segment_inside_its_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/vi/vivos_VIVOSDEV01_R003.wav"),
        dir.path().join("clip.wav"),
    )
    .unwrap();
    let o = tocky(&db, &["ingest", document(dir.path()).to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));

    // Nothing to do before a correction.
    let media = dir.path().to_str().unwrap();
    let o = tocky(&db, &["realign", "1", "--media-dir", media, "-t", "2"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("0 segments re-aligned"),
        "{}",
        text(&o.stdout)
    );

    let corrected = "Cũng lên tiếng ủng hộ mạnh mẽ các kiến nghị này.";
    let (id, old) = {
        let mut store = Store::open(&db).unwrap();
        let segment = store.segments(1).unwrap().remove(0);
        let edit = SegmentEdit {
            text: Some(corrected.into()),
            ..SegmentEdit::default()
        };
        store
            .edit_segment(segment.id, segment.version, &edit, "test")
            .unwrap();
        (segment.id, segment.words)
    };

    let o = tocky(&db, &["realign", "1", "--media-dir", media, "-t", "2"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("1 segments re-aligned, 0 skipped"),
        "{}",
        text(&o.stdout)
    );

    let store = Store::open(&db).unwrap();
    let segment = store.segment(id).unwrap();
    assert!(segment.words_aligned);
    let texts: Vec<&str> = segment.words.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(texts, corrected.split_whitespace().collect::<Vec<_>>());
    let mut floor = 300;
    for w in &segment.words {
        assert!(
            w.start_ms >= floor && w.end_ms > w.start_ms && w.end_ms <= 3650,
            "{:?}",
            segment.words
        );
        floor = w.end_ms;
    }
    // "lên" is unchanged: it keeps its time; "Cũng" differs only in case.
    assert_eq!(
        (segment.words[1].start_ms, segment.words[1].end_ms),
        (old[1].start_ms, old[1].end_ms)
    );
    assert_eq!(segment.words[0].start_ms, old[0].start_ms);
}

#[test]
fn realign_names_missing_audio() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let o = tocky(&db, &["ingest", document(dir.path()).to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let empty = tempfile::tempdir().unwrap();
    let o = tocky(
        &db,
        &[
            "realign",
            "1",
            "--media-dir",
            empty.path().to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("clip.wav"), "{}", text(&o.stderr));
}
