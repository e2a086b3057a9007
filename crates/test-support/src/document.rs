//! Transcript documents as `tocky transcribe` would write them, built
//! from a list of texts: one segment per text at a fixed step.

use tocky_core::document::{DecoderInfo, SourceInfo, TranscriptDocument};
use tocky_core::{Segment, Transcript, Word};

/// The words each segment carries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Words {
    /// None at all.
    None,
    /// One placeholder word "x", 300 ms from the segment's start: words
    /// that do not follow the text.
    Placeholder {
        /// The word's probability.
        probability: f32,
    },
    /// The text's own words, one every `every_ms` from the segment's
    /// start, each `length_ms` long.
    Spoken {
        /// From one word's start to the next's.
        every_ms: u64,
        /// Each word's length.
        length_ms: u64,
        /// Each word's probability.
        probability: f32,
    },
}

/// How [`document`] lays out its segments and describes its source.
#[derive(Debug, Clone)]
pub struct DocOptions {
    /// The source file's name (the audio a session plays).
    pub file: String,
    /// Repeated 64 times, the source's SHA-256 (which keeps sessions apart).
    pub sha: char,
    /// The source's codec.
    pub codec: String,
    /// The first segment's start.
    pub first_ms: u64,
    /// From one segment's start to the next's.
    pub every_ms: u64,
    /// Each segment's length.
    pub length_ms: u64,
    /// The words of each segment.
    pub words: Words,
}

impl Default for DocOptions {
    /// Segments 4 s long every 5 s from 0, a word every 400 ms: what the
    /// server's tests have always used.
    fn default() -> Self {
        Self {
            file: "phien.wav".into(),
            sha: 'a',
            codec: "pcm_s16le".into(),
            first_ms: 0,
            every_ms: 5_000,
            length_ms: 4_000,
            words: Words::Spoken {
                every_ms: 400,
                length_ms: 300,
                probability: 0.3,
            },
        }
    }
}

/// A transcript of one segment per text, laid out by `options`; its
/// duration is one step per text.
pub fn document(texts: &[&str], options: &DocOptions) -> TranscriptDocument {
    let segments = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let start = options.first_ms + i as u64 * options.every_ms;
            let words = match options.words {
                Words::None => Vec::new(),
                Words::Placeholder { probability } => vec![Word {
                    text: "x".into(),
                    start_ms: start,
                    end_ms: start + 300,
                    probability,
                }],
                Words::Spoken {
                    every_ms,
                    length_ms,
                    probability,
                } => text
                    .split_whitespace()
                    .enumerate()
                    .map(|(k, w)| Word {
                        text: w.to_owned(),
                        start_ms: start + k as u64 * every_ms,
                        end_ms: start + k as u64 * every_ms + length_ms,
                        probability,
                    })
                    .collect(),
            };
            Segment {
                start_ms: start,
                end_ms: start + options.length_ms,
                text: (*text).to_owned(),
                words,
                ..Segment::default()
            }
        })
        .collect();
    TranscriptDocument::new(
        SourceInfo {
            file: options.file.clone(),
            sha256: options.sha.to_string().repeat(64),
            bytes: 1,
            codec: options.codec.clone(),
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
            duration_ms: texts.len() as u64 * options.every_ms,
            segments,
        },
    )
}

/// The default layout ([`DocOptions::default`]) for audio `file`.
pub fn doc(file: &str, sha: char, texts: &[&str]) -> TranscriptDocument {
    let options = DocOptions {
        file: file.into(),
        sha,
        ..DocOptions::default()
    };
    document(texts, &options)
}

/// The store's layout: `phien-{sha}.flac`, each segment's words its
/// text's, 500 ms each (400 ms long) from its start, so that the words
/// follow the text.
pub fn timed_doc(sha: char, texts: &[&str]) -> TranscriptDocument {
    let options = DocOptions {
        file: format!("phien-{sha}.flac"),
        sha,
        codec: "flac".into(),
        words: Words::Spoken {
            every_ms: 500,
            length_ms: 400,
            probability: 0.9,
        },
        ..DocOptions::default()
    };
    document(texts, &options)
}

/// Like [`timed_doc`], but each segment has one placeholder word.
pub fn placeholder_doc(sha: char, texts: &[&str]) -> TranscriptDocument {
    let options = DocOptions {
        file: format!("phien-{sha}.flac"),
        sha,
        codec: "flac".into(),
        words: Words::Placeholder { probability: 0.5 },
        ..DocOptions::default()
    };
    document(texts, &options)
}
