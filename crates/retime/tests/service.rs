//! Re-timing in the background of the review server, with the real model,
//! a real store and a real fixture clip: an edit that changes a word is
//! re-timed, and the words reach the session's live clients.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// The model and the fixtures are found as the recognition tests find them.
mod clip;
#[path = "../../asr/tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use clip::{CLIP, CLIP_MS};
use tocky_asr::{AlignOptions, Engine, EngineOptions};
use tocky_core::document::TranscriptDocument;
use tocky_core::{Segment, Word};
use tocky_retime::{AudioLocator, Retimer, service};
use tocky_server::{AppState, ServerConfig};
use tocky_store::{SegmentEdit, SessionMeta, Store};

/// The clip's reference text as one segment, its words laid out evenly
/// (times a stenographer would never see; the point is which survive).
fn document() -> TranscriptDocument {
    let text = std::fs::read_to_string(common::fixture("vivos_VIVOSDEV01_R003.txt")).unwrap();
    let text = text.trim();
    let n = text.split_whitespace().count() as u64;
    let words = text
        .split_whitespace()
        .enumerate()
        .map(|(i, w)| Word {
            text: w.into(),
            start_ms: i as u64 * CLIP_MS / n,
            end_ms: (i as u64 + 1) * CLIP_MS / n - 10,
            probability: 0.9,
        })
        .collect();
    clip::document(vec![Segment {
        start_ms: 0,
        end_ms: CLIP_MS,
        text: text.into(),
        words,
        ..Segment::default()
    }])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_is_re_timed_in_the_background_and_reaches_live_clients() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    std::fs::create_dir(&media).unwrap();
    std::fs::copy(common::fixture(CLIP), media.join(CLIP)).unwrap();
    let db = dir.path().join("tocky.db");
    let mut store = Store::open(&db).unwrap();
    store
        .ingest(&document(), &SessionMeta::default(), "test")
        .unwrap();
    let before = store.segments(1).unwrap().remove(0);
    let state = AppState::new(ServerConfig {
        db: db.clone(),
        media_dirs: vec![media.clone()],
        ..ServerConfig::default()
    })
    .unwrap();
    let engine = Arc::new(Engine::load(&common::model_path(), &EngineOptions::default()).unwrap());
    let locate: AudioLocator = Box::new(move |session| {
        tocky_server::audio::resolve(std::slice::from_ref(&media), session.audio_file.as_deref()?)
    });
    let mut live = state.subscribe();
    let worker = service::spawn(
        service::Service {
            db: db.clone(),
            wanted: state.retime_wanted(),
            shutdown: state.shutdown_signal(),
            output: state.clone(),
        },
        Arc::new(Retimer::new(engine, AlignOptions::default(), locate)),
    );

    // "cũng lên tiếng ủng hộ các kiến nghị này": "ủng hộ" becomes "ủng hộ mạnh mẽ".
    let text = before.text.replace("ủng hộ", "ủng hộ mạnh mẽ");
    let edited = store
        .edit_segment(
            before.id,
            before.version,
            &SegmentEdit {
                text: Some(text.clone()),
                ..SegmentEdit::default()
            },
            "lan",
        )
        .unwrap();
    assert!(!edited.words_aligned);
    state.retime_wanted().notify_one();

    let event = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let event = live.recv().await.unwrap();
            let message: serde_json::Value = serde_json::from_str(&event.json).unwrap();
            if message["type"] == "segment" && message["segment"]["words_aligned"] == true {
                break message;
            }
        }
    })
    .await
    .expect("the re-timed words arrive");
    let words: Vec<Word> = serde_json::from_value(event["segment"]["words"].clone()).unwrap();
    let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(texts, text.split_whitespace().collect::<Vec<_>>());
    // In bounds, in order, each with a length.
    let mut last_end = 0;
    for w in &words {
        assert!(w.start_ms >= last_end && w.end_ms > w.start_ms, "{words:?}");
        last_end = w.end_ms;
    }
    assert!(last_end <= CLIP_MS);
    // Words away from the change keep their times (its neighbours may
    // give up theirs to make room for the new words).
    for kept in ["cũng", "lên", "tiếng", "kiến", "nghị", "này"] {
        let old = before.words.iter().find(|w| w.text == kept).unwrap();
        let new = words.iter().find(|w| w.text == kept).unwrap();
        assert_eq!(
            (new.start_ms, new.end_ms),
            (old.start_ms, old.end_ms),
            "{kept}"
        );
    }
    // The store agrees, and the version did not move: nobody's edit conflicts.
    let now = store.segment(before.id).unwrap();
    assert!(now.words_aligned);
    assert_eq!(now.version, edited.version);
    state.begin_shutdown();
    tokio::time::timeout(Duration::from_secs(30), worker)
        .await
        .expect("the re-timer stops with the server")
        .unwrap();
    // The pass was reported to the server's metrics (through tocky-core's
    // RetimeOutput, as the segment was), after its segment.
    let metrics = state.metrics().render();
    assert!(
        metrics.contains("tocky_retimed_segments_total{outcome=\"saved\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("tocky_retimed_segments_total{outcome=\"failed\"} 0"));
}
