//! The decisions a rerun makes: whether an input is already done, and
//! where each of its channels starts.

use std::path::{Path, PathBuf};

use tocky_asr::Checkpoint;
use tocky_core::document::TranscriptDocument;

use crate::Format;
use crate::checkpoint::{CheckpointFile, Saved};

/// The finished transcript, when the outputs are up to date: the JSON
/// output was made from a file with this hash (it is written last, so its
/// presence marks the input done) and every other output exists. Without
/// outputs (nothing is written) nothing is ever up to date.
pub fn up_to_date(outputs: &[(Format, PathBuf)], sha256: &str) -> Option<TranscriptDocument> {
    let (_, json) = outputs.iter().find(|(f, _)| *f == Format::Json)?;
    let doc = document_of(json, sha256)?;
    outputs.iter().all(|(_, p)| p.exists()).then_some(doc)
}

/// The JSON document at `json`, if it was made from a file with this hash.
fn document_of(json: &Path, sha256: &str) -> Option<TranscriptDocument> {
    let text = std::fs::read_to_string(json).ok()?;
    let doc = TranscriptDocument::from_json(&text).ok()?;
    (doc.source.sha256 == sha256).then_some(doc)
}

/// Where one channel's transcription starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// From the beginning: no checkpoint, or none valid for this run.
    Beginning,
    /// After the windows an interrupted run decoded.
    From(Checkpoint),
    /// Nowhere: the channel was finished before the interruption (with
    /// several channels, each is saved when done).
    Finished {
        /// Its segments.
        checkpoint: Checkpoint,
        /// Its length.
        duration_ms: u64,
    },
}

/// Where a channel whose checkpoint is `file` starts (`None`: no
/// checkpoints for this run). `force` starts from the beginning whatever
/// was saved. A checkpoint that cannot be read is reported (a warning) and
/// the channel starts from the beginning: its loss costs time, not text.
pub fn start_of(file: Option<&CheckpointFile>, force: bool) -> Start {
    let Some(file) = file.filter(|_| !force) else {
        return Start::Beginning;
    };
    match file.load() {
        Ok(None) => Start::Beginning,
        Ok(Some(Saved {
            checkpoint,
            finished_duration_ms: Some(duration_ms),
        })) => Start::Finished {
            checkpoint,
            duration_ms,
        },
        Ok(Some(Saved { checkpoint, .. })) => Start::From(checkpoint),
        Err(e) => {
            tracing::warn!("{}; starting from the beginning", crate::error_chain(&e));
            Start::Beginning
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocky_core::document::{DecoderInfo, SourceInfo};
    use tocky_core::transcript::Transcript;

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn document(sha256: &str) -> TranscriptDocument {
        TranscriptDocument::new(
            SourceInfo {
                file: "sitting.wav".into(),
                sha256: sha256.into(),
                bytes: 10,
                codec: "pcm_s16le".into(),
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
                duration_ms: 61_000,
                segments: Vec::new(),
            },
        )
    }

    #[test]
    fn an_input_is_done_when_its_json_has_its_hash_and_every_output_exists() {
        let dir = tempfile::tempdir().unwrap();
        let (json, srt) = (dir.path().join("a.json"), dir.path().join("a.srt"));
        let outputs = vec![(Format::Srt, srt.clone()), (Format::Json, json.clone())];
        assert!(up_to_date(&outputs, SHA).is_none(), "nothing written yet");
        std::fs::write(&json, document(SHA).to_json()).unwrap();
        assert!(up_to_date(&outputs, SHA).is_none(), "the SRT is missing");
        std::fs::write(&srt, "").unwrap();
        let doc = up_to_date(&outputs, SHA).unwrap();
        assert_eq!(doc.transcript.duration_ms, 61_000);
        // The audio changed since.
        assert!(up_to_date(&outputs, &SHA.replace('0', "f")).is_none());
        // A damaged JSON is not done.
        std::fs::write(&json, "{").unwrap();
        assert!(up_to_date(&outputs, SHA).is_none());
        // Nothing written to (standard output): never done.
        assert!(up_to_date(&[], SHA).is_none());
    }

    #[test]
    fn a_channel_starts_where_its_valid_checkpoint_says() {
        let dir = tempfile::tempdir().unwrap();
        let file = CheckpointFile {
            path: dir.path().join("a.checkpoint-ch1.json"),
            source_sha256: SHA.into(),
            settings: "s".into(),
        };
        let at = Checkpoint {
            decoded_until_ms: 30_000,
            language: Some("vi".into()),
            segments: Vec::new(),
        };
        assert_eq!(start_of(None, false), Start::Beginning);
        assert_eq!(start_of(Some(&file), false), Start::Beginning);
        file.save(&at, None).unwrap();
        assert_eq!(start_of(Some(&file), false), Start::From(at.clone()));
        // --force: what was saved is not used.
        assert_eq!(start_of(Some(&file), true), Start::Beginning);
        file.save(&at, Some(45_000)).unwrap();
        assert_eq!(
            start_of(Some(&file), false),
            Start::Finished {
                checkpoint: at.clone(),
                duration_ms: 45_000
            }
        );
        // Another file's checkpoint under the same name.
        let other = CheckpointFile {
            source_sha256: SHA.replace('0', "f"),
            ..file.clone()
        };
        assert_eq!(start_of(Some(&other), false), Start::Beginning);
        // Damaged: reported, and the channel starts over.
        std::fs::write(&file.path, "{\"version\": 2, \"segm").unwrap();
        assert_eq!(start_of(Some(&file), false), Start::Beginning);
    }
}
