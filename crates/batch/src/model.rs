//! The model's identity, as transcripts name it and checkpoints match it.

use std::path::Path;

/// The model a batch runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelId {
    /// Its file name, recorded in the transcript.
    pub name: String,
    /// Its name, size and modification time: two models that share a file
    /// name (`ggml-model.bin` in two folders) must not resume each other's
    /// checkpoints and mix their text in one transcript.
    pub key: String,
}

impl ModelId {
    /// The identity of the model file at `path` (an unreadable file gets a
    /// key of its name alone).
    pub fn of(path: &Path) -> Self {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (bytes, modified) = std::fs::metadata(path).map_or((0, None), |m| {
            let modified = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos());
            (m.len(), modified)
        });
        let key = format!("{name} ({bytes} bytes, modified {modified:?})");
        Self { name, key }
    }
}
