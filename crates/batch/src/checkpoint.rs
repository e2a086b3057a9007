//! The checkpoint file of a transcription in progress: what it holds,
//! and which file and settings it is valid for.
//!
//! A checkpoint is JSON (`{"version": 2, "source_sha256": …, "settings":
//! …, "decoded_until_ms": …, "finished_duration_ms": …, "language": …,
//! "segments": […]}`), written atomically (`NAME.partial`, then a rename),
//! so a crash leaves the previous checkpoint or the new one, never half.

use std::io::ErrorKind;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tocky_asr::{Checkpoint, TranscribeOptions};
use tocky_core::transcript::Segment;

use crate::{Error, Result};

/// Everything that changes which windows are cut or what they say: a
/// checkpoint made under other settings is not resumed.
pub fn settings_key(model_key: &str, opts: &TranscribeOptions) -> String {
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

/// Only the version: read first, so that another version's layout is
/// not taken for damage.
#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

/// Version 2: windows are decoded each from a fresh decoder state, and
/// words placed in the region where they are said; a version 1
/// checkpoint's segments would mix the old times with the new.
pub const CHECKPOINT_VERSION: u32 = 2;

/// A checkpoint that belongs to this file and these settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    /// Where the run stood.
    pub checkpoint: Checkpoint,
    /// Set when the channel was finished.
    pub finished_duration_ms: Option<u64>,
}

/// One input channel's checkpoint file, and what makes it valid.
#[derive(Debug, Clone)]
pub struct CheckpointFile {
    /// Where it lives.
    pub path: PathBuf,
    /// The input's content hash.
    pub source_sha256: String,
    /// [`settings_key`] of the run.
    pub settings: String,
}

impl CheckpointFile {
    /// The saved checkpoint, when there is one for this very file and these
    /// settings. None when there is no file, or one of another format
    /// version, another input or other settings (each means starting from
    /// the beginning); an error when the file cannot be read, or is of
    /// this version and does not parse.
    pub fn load(&self) -> Result<Option<Saved>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::CheckpointUnreadable {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let corrupt = |source| Error::CorruptCheckpoint {
            path: self.path.clone(),
            source,
        };
        let version: VersionOnly = serde_json::from_str(&text).map_err(corrupt)?;
        if version.version != CHECKPOINT_VERSION {
            return Ok(None);
        }
        let saved: SavedCheckpoint = serde_json::from_str(&text).map_err(corrupt)?;
        let valid = saved.source_sha256 == self.source_sha256 && saved.settings == self.settings;
        Ok(valid.then_some(Saved {
            checkpoint: Checkpoint {
                decoded_until_ms: saved.decoded_until_ms,
                language: saved.language,
                segments: saved.segments,
            },
            finished_duration_ms: saved.finished_duration_ms,
        }))
    }

    /// Writes `checkpoint` atomically; `finished_duration_ms` marks the
    /// channel finished.
    pub fn save(&self, checkpoint: &Checkpoint, finished_duration_ms: Option<u64>) -> Result<()> {
        let saved = SavedCheckpoint {
            version: CHECKPOINT_VERSION,
            source_sha256: self.source_sha256.clone(),
            settings: self.settings.clone(),
            decoded_until_ms: checkpoint.decoded_until_ms,
            finished_duration_ms,
            language: checkpoint.language.clone(),
            segments: checkpoint.segments.clone(),
        };
        let write = |source| Error::Write {
            path: self.path.clone(),
            source,
        };
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent).map_err(write)?;
        }
        let bytes = serde_json::to_vec(&saved).map_err(|e| write(e.into()))?;
        tocky_core::atomic::write(&self.path, &bytes).map_err(write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelId;
    use tocky_core::transcript::Segment;

    fn file(dir: &std::path::Path) -> CheckpointFile {
        CheckpointFile {
            path: dir.join("day1/sitting.checkpoint-mix.json"),
            source_sha256: "ab".repeat(32),
            settings: "model=base language=vi".into(),
        }
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            decoded_until_ms: 12_340,
            language: Some("vi".into()),
            segments: vec![Segment {
                start_ms: 1_000,
                end_ms: 4_500,
                text: "Kính thưa Quốc hội".into(),
                ..Segment::default()
            }],
        }
    }

    #[test]
    fn a_saved_checkpoint_reads_back_the_same_and_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = file(dir.path());
        assert_eq!(f.load().unwrap(), None, "nothing saved yet");
        f.save(&checkpoint(), None).unwrap();
        let back = f.load().unwrap().unwrap();
        assert_eq!(back.checkpoint, checkpoint());
        assert_eq!(back.finished_duration_ms, None);
        // Saved again, finished: the new one replaces the old whole.
        f.save(&checkpoint(), Some(60_000)).unwrap();
        assert_eq!(
            f.load().unwrap().unwrap().finished_duration_ms,
            Some(60_000)
        );
        let names: Vec<_> = std::fs::read_dir(dir.path().join("day1"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["sitting.checkpoint-mix.json"]);
    }

    #[test]
    fn a_checkpoint_of_another_file_settings_or_version_is_not_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let f = file(dir.path());
        f.save(&checkpoint(), None).unwrap();
        let other_file = CheckpointFile {
            source_sha256: "cd".repeat(32),
            ..f.clone()
        };
        assert_eq!(other_file.load().unwrap(), None);
        let other_settings = CheckpointFile {
            settings: "model=base language=en".into(),
            ..f.clone()
        };
        assert_eq!(other_settings.load().unwrap(), None);
        // Version 1 had another layout: not damage, just not ours.
        std::fs::write(&f.path, r#"{"version":1,"segments":"old"}"#).unwrap();
        assert_eq!(f.load().unwrap(), None);
    }

    #[test]
    fn a_corrupt_checkpoint_is_a_clear_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = file(dir.path());
        f.save(&checkpoint(), None).unwrap();
        // Cut short, as a disk that filled up or a hand edit leaves it.
        let text = std::fs::read_to_string(&f.path).unwrap();
        std::fs::write(&f.path, &text[..text.len() / 2]).unwrap();
        let err = f.load().unwrap_err();
        assert!(matches!(err, Error::CorruptCheckpoint { .. }), "{err:?}");
        let line = crate::error_chain(&err);
        assert!(
            line.contains("sitting.checkpoint-mix.json: corrupt checkpoint: "),
            "{line}"
        );
        // This version, but a field of the wrong type.
        std::fs::write(&f.path, r#"{"version":2,"decoded_until_ms":"soon"}"#).unwrap();
        assert!(matches!(f.load(), Err(Error::CorruptCheckpoint { .. })));
        // Not JSON at all.
        std::fs::write(&f.path, b"\x00\x01garbage").unwrap();
        assert!(matches!(f.load(), Err(Error::CorruptCheckpoint { .. })));
    }

    #[test]
    fn a_checkpoint_that_cannot_be_written_says_where() {
        let dir = tempfile::tempdir().unwrap();
        // The folder it would go in is a file.
        std::fs::write(dir.path().join("day1"), b"").unwrap();
        let err = file(dir.path()).save(&checkpoint(), None).unwrap_err();
        assert!(matches!(err, Error::Write { .. }), "{err:?}");
        assert!(err.to_string().starts_with("writing "), "{err}");
    }

    #[test]
    fn models_that_share_a_file_name_do_not_share_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        // The same size: two fine-tunes of one architecture are.
        std::fs::write(a.join("ggml-model.bin"), b"base-model").unwrap();
        std::fs::write(b.join("ggml-model.bin"), b"phowhisper").unwrap();
        let at = |secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        for (dir, secs) in [(&a, 1_700_000_000), (&b, 1_700_000_001)] {
            std::fs::File::options()
                .write(true)
                .open(dir.join("ggml-model.bin"))
                .unwrap()
                .set_modified(at(secs))
                .unwrap();
        }
        let (one, two) = (
            ModelId::of(&a.join("ggml-model.bin")),
            ModelId::of(&b.join("ggml-model.bin")),
        );
        // The transcript names the file either way...
        assert_eq!(
            (one.name.as_str(), two.name.as_str()),
            ("ggml-model.bin", "ggml-model.bin")
        );
        // ...but a checkpoint made with one is not resumed with the other.
        let opts = TranscribeOptions::default();
        assert_ne!(settings_key(&one.key, &opts), settings_key(&two.key, &opts));
        // The same file twice is the same model.
        let again = ModelId::of(&a.join("ggml-model.bin"));
        assert_eq!(
            settings_key(&one.key, &opts),
            settings_key(&again.key, &opts)
        );
    }
}
