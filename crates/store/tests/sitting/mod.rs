//! What the record's tests share: a session of evenly spaced segments,
//! agenda entries, and the reason of an `Invalid` error.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use tocky_core::document::{DecoderInfo, SourceInfo, TranscriptDocument};
use tocky_core::{Segment, Transcript};
use tocky_store::{AgendaEntry, AgendaItem, Error, IngestOutcome, SessionMeta, StartChange, Store};

/// A store with one session of `n` segments, 10 s apart (segment `i`
/// from `i * 10 s` to `i * 10 s + 9 s`), and its segment ids.
pub fn open(n: u64) -> (tempfile::TempDir, Store, i64, Vec<i64>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("record.db")).unwrap();
    let session = ingest(&mut store, n, 'a');
    let ids = store
        .segments(session)
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    (dir, store, session, ids)
}

pub fn ingest(store: &mut Store, n: u64, sha: char) -> i64 {
    let doc = TranscriptDocument::new(
        SourceInfo {
            file: "phien.wav".into(),
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
            duration_ms: n * 10_000,
            segments: (0..n)
                .map(|i| Segment {
                    start_ms: i * 10_000,
                    end_ms: i * 10_000 + 9_000,
                    text: format!("đoạn {i}"),
                    ..Segment::default()
                })
                .collect(),
        },
    );
    match store.ingest(&doc, &SessionMeta::default(), "t").unwrap() {
        IngestOutcome::Created { session_id, .. } => session_id,
        other => panic!("{other:?}"),
    }
}

pub fn entry(title: &str, start: StartChange) -> AgendaEntry {
    AgendaEntry {
        title: title.into(),
        start,
        ..AgendaEntry::default()
    }
}

pub fn titles(items: &[AgendaItem]) -> Vec<&str> {
    items.iter().map(|i| i.title.as_str()).collect()
}

pub fn invalid(e: Error) -> String {
    match e {
        Error::Invalid(reason) => reason,
        other => panic!("expected Invalid, got {other:?}"),
    }
}
