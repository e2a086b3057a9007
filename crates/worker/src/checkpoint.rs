//! A job's checkpoint as its queue keeps it: the batch checkpoint files
//! (tocky-batch's format, one per channel selection) that the job's
//! transcription wrote in its working folder, by name. Another worker
//! writes them back into its own working folder before it starts, and
//! tocky-batch resumes from them as `tocky transcribe` resumes an
//! interrupted run (when the audio and the settings, model included, are
//! the same; otherwise it starts over).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The stem of a job's files in its working folder: `audio.json` is its
/// transcript, `audio.checkpoint-mix.json` (or `-chN`) its checkpoints.
pub const STEM: &str = "audio";

/// This format's version.
const VERSION: u32 = 1;

/// What the queue stores.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct JobCheckpoint {
    version: u32,
    /// File name → the batch checkpoint's JSON text.
    files: BTreeMap<String, String>,
}

/// Whether `name` is one of a job's checkpoint files.
fn is_checkpoint_name(name: &str) -> bool {
    name.strip_prefix(STEM)
        .and_then(|rest| rest.strip_prefix(".checkpoint-"))
        .and_then(|rest| rest.strip_suffix(".json"))
        .is_some_and(|channel| {
            channel == "mix"
                || channel
                    .strip_prefix("ch")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// The checkpoint files in `dir`, as the queue stores them; None when
/// there are none.
pub fn collect(dir: &Path) -> Result<Option<String>> {
    let mut files = BTreeMap::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("reading {}", dir.display()), e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_checkpoint_name(&name) {
            continue;
        }
        match std::fs::read_to_string(entry.path()) {
            Ok(text) => {
                files.insert(name, text);
            }
            // Replaced between the listing and the read: the next beat has it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(format!("reading {name}"), e)),
        }
    }
    if files.is_empty() {
        return Ok(None);
    }
    let saved = JobCheckpoint {
        version: VERSION,
        files,
    };
    serde_json::to_string(&saved)
        .map(Some)
        .map_err(|e| Error::Checkpoint(e.to_string()))
}

/// Writes the checkpoint files of `checkpoint` (as [`collect`] made it)
/// into `dir`. A checkpoint of another version, or one naming other
/// files, is refused: the job then starts from the beginning.
pub fn restore(dir: &Path, checkpoint: &str) -> Result<usize> {
    let saved: JobCheckpoint =
        serde_json::from_str(checkpoint).map_err(|e| Error::Checkpoint(e.to_string()))?;
    if saved.version != VERSION {
        return Err(Error::Checkpoint(format!(
            "version {} (this worker reads {VERSION})",
            saved.version
        )));
    }
    if let Some(bad) = saved.files.keys().find(|n| !is_checkpoint_name(n)) {
        return Err(Error::Checkpoint(format!("it names the file {bad:?}")));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    for (name, text) in &saved.files {
        let path = dir.join(name);
        tocky_core::atomic::write(&path, text.as_bytes())
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    }
    Ok(saved.files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_checkpoint_name("audio.checkpoint-mix.json"));
        assert!(is_checkpoint_name("audio.checkpoint-ch12.json"));
        assert!(!is_checkpoint_name("audio.checkpoint-ch.json"));
        assert!(!is_checkpoint_name("audio.json"));
        assert!(!is_checkpoint_name("../audio.checkpoint-mix.json"));
        assert!(!is_checkpoint_name("audio.checkpoint-mix.json.partial"));
    }

    #[test]
    fn round_trip_and_refusals() {
        let a = tempfile::tempdir().unwrap();
        assert_eq!(collect(a.path()).unwrap(), None);
        std::fs::write(
            a.path().join("audio.checkpoint-mix.json"),
            "{\"version\":2}",
        )
        .unwrap();
        std::fs::write(a.path().join("audio.json"), "{}").unwrap();
        let saved = collect(a.path()).unwrap().unwrap();
        let b = tempfile::tempdir().unwrap();
        assert_eq!(restore(b.path(), &saved).unwrap(), 1);
        assert_eq!(
            std::fs::read_to_string(b.path().join("audio.checkpoint-mix.json")).unwrap(),
            "{\"version\":2}"
        );
        assert!(!b.path().join("audio.json").exists());
        let evil = r#"{"version":1,"files":{"../x.json":"{}"}}"#;
        assert!(matches!(restore(b.path(), evil), Err(Error::Checkpoint(_))));
        assert!(matches!(
            restore(b.path(), "not json"),
            Err(Error::Checkpoint(_))
        ));
        let other = r#"{"version":9,"files":{}}"#;
        assert!(matches!(
            restore(b.path(), other),
            Err(Error::Checkpoint(_))
        ));
    }
}
