//! The checkpoint file of a transcription in progress: where it lives,
//! what it holds, and which settings it is valid for.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tocky_asr::{Checkpoint, TranscribeOptions};
use tocky_core::transcript::Segment;

/// Where the checkpoint of one input's channel selection lives.
pub(super) fn checkpoint_path(dir: &Path, stem: &Path, channel: Option<usize>) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    match channel {
        None => name.push(".checkpoint-mix.json"),
        Some(c) => name.push(format!(".checkpoint-ch{c}.json")),
    }
    dir.join(name)
}

/// Everything that changes which windows are cut or what they say: a
/// checkpoint made under other settings is not resumed.
pub(super) fn settings_key(model_key: &str, opts: &TranscribeOptions) -> String {
    let d = &opts.decode;
    format!(
        "model={model_key} language={} beam={} prompt={:?} vad={:?} guards={:?}",
        d.language, d.beam_size, d.prompt, opts.vad, opts.guards
    )
}

/// The checkpoint file's format (version [`CHECKPOINT_VERSION`]).
#[derive(Debug, Serialize, Deserialize)]
struct SavedCheckpoint {
    version: u32,
    source_sha256: String,
    settings: String,
    decoded_until_ms: u64,
    /// Set when the channel is finished (only with several channels).
    finished_duration_ms: Option<u64>,
    language: Option<String>,
    segments: Vec<Segment>,
}

/// Version 2: windows are decoded each from a fresh decoder state, and
/// words placed in the region where they are said; a version 1
/// checkpoint's segments would mix the old times with the new.
const CHECKPOINT_VERSION: u32 = 2;

/// A checkpoint that belongs to this file and these settings.
pub(super) struct Saved {
    /// Where the run stood.
    pub(super) checkpoint: Checkpoint,
    /// Set when the channel was finished.
    pub(super) finished_duration_ms: Option<u64>,
}

/// One input channel's checkpoint file, and what makes it valid.
pub(super) struct CheckpointFile {
    /// Where it lives.
    pub(super) path: PathBuf,
    /// The input's content hash.
    pub(super) source_sha256: String,
    /// [`settings_key`] of the run.
    pub(super) settings: String,
}

impl CheckpointFile {
    /// The saved checkpoint, when there is one for this very file and these
    /// settings; anything else (none, unreadable, another file or version)
    /// means starting from the beginning.
    pub(super) fn load(&self) -> Option<Saved> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let saved: SavedCheckpoint = serde_json::from_str(&text).ok()?;
        let valid = saved.version == CHECKPOINT_VERSION
            && saved.source_sha256 == self.source_sha256
            && saved.settings == self.settings;
        valid.then_some(Saved {
            checkpoint: Checkpoint {
                decoded_until_ms: saved.decoded_until_ms,
                language: saved.language,
                segments: saved.segments,
            },
            finished_duration_ms: saved.finished_duration_ms,
        })
    }

    /// Writes `checkpoint` atomically; `finished_duration_ms` marks the
    /// channel finished.
    pub(super) fn save(
        &self,
        checkpoint: &Checkpoint,
        finished_duration_ms: Option<u64>,
    ) -> Result<()> {
        let saved = SavedCheckpoint {
            version: CHECKPOINT_VERSION,
            source_sha256: self.source_sha256.clone(),
            settings: self.settings.clone(),
            decoded_until_ms: checkpoint.decoded_until_ms,
            finished_duration_ms,
            language: checkpoint.language.clone(),
            segments: checkpoint.segments.clone(),
        };
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        tocky_core::atomic::write(&self.path, &serde_json::to_vec(&saved)?)
            .with_context(|| format!("writing {}", self.path.display()))
    }
}
