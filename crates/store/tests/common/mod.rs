//! What the store's tests share: transcripts to ingest and stores to open.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use tocky_core::document::{DecoderInfo, SourceInfo, TranscriptDocument};
use tocky_core::{Segment, Transcript, Word};
use tocky_store::Store;

/// A transcript of one segment per text, 5 s apart and 4 s long, each with
/// one placeholder word; `sha_byte` makes its audio's SHA-256.
pub fn doc(sha_byte: char, texts: &[&str]) -> TranscriptDocument {
    let mut d = timed_doc(sha_byte, texts);
    for (i, s) in d.transcript.segments.iter_mut().enumerate() {
        s.words = vec![Word {
            text: "x".into(),
            start_ms: i as u64 * 5_000,
            end_ms: i as u64 * 5_000 + 300,
            probability: 0.5,
        }];
    }
    d
}

/// Like [`doc`], but each segment's words are its text's words, 500 ms
/// each from its start, so that the words follow the text.
pub fn timed_doc(sha_byte: char, texts: &[&str]) -> TranscriptDocument {
    let segments = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let start = i as u64 * 5_000;
            Segment {
                start_ms: start,
                end_ms: start + 4_000,
                text: (*t).to_owned(),
                words: t
                    .split_whitespace()
                    .enumerate()
                    .map(|(k, w)| Word {
                        text: w.to_owned(),
                        start_ms: start + k as u64 * 500,
                        end_ms: start + k as u64 * 500 + 400,
                        probability: 0.9,
                    })
                    .collect(),
                ..Segment::default()
            }
        })
        .collect();
    TranscriptDocument::new(
        SourceInfo {
            file: format!("phien-{sha_byte}.flac"),
            sha256: sha_byte.to_string().repeat(64),
            bytes: 1,
            codec: "flac".into(),
            sample_rate: 16_000,
            channels: 1,
            transcribed_channels: None,
        },
        DecoderInfo {
            model: "ggml-base.bin".into(),
            tocky_version: "0.1.0".into(),
            beam_size: 5,
            vad: true,
            prompt: None,
        },
        Transcript {
            language: "vi".into(),
            duration_ms: texts.len() as u64 * 5_000,
            segments,
        },
    )
}

/// The store `tocky.db` in `dir`.
pub fn open(dir: &Path) -> Store {
    Store::open(&dir.join("tocky.db")).unwrap()
}
