//! What a job may hold: every field bounded, text NFC and visible, paths
//! that stay inside the media directory.

use std::path::{Component, Path};
use std::time::Duration;

use tocky_core::text::nfc;

use super::{JobSettings, NewJob};
use crate::clean::check_label;
use crate::{Error, Result};

/// The longest audio file name or path kept, in bytes.
const MAX_NAME_BYTES: usize = 1024;
/// The longest title or agenda item kept, in bytes.
const MAX_TITLE_BYTES: usize = 1024;
/// The longest model name or worker name, in bytes.
const MAX_LABEL_BYTES: usize = 256;
/// The longest prompt, in bytes (whisper reads at most 224 tokens of it).
const MAX_PROMPT_BYTES: usize = 4096;
/// The largest checkpoint kept, in bytes: a long sitting's partial
/// transcript with its words fits many times over.
pub const MAX_CHECKPOINT_BYTES: usize = 32 << 20;
/// The longest failure reason kept, in bytes; a longer one is cut.
const MAX_REASON_BYTES: usize = 4096;
/// The longest lease granted.
const MAX_LEASE: Duration = Duration::from_secs(24 * 3600);

/// A new job's fields as stored.
pub(super) struct Checked {
    pub sha256: String,
    pub name: String,
    pub bytes: i64,
    pub path: String,
    /// The settings as JSON: one serializer, so equal settings are equal text.
    pub settings: String,
    pub title: Option<String>,
    pub sitting_date: Option<String>,
    pub agenda_item: Option<String>,
    pub submitted_by: Option<String>,
}

/// Checks a new job and gives its fields as stored.
pub(super) fn new_job(job: &NewJob) -> Result<Checked> {
    let sha = &job.audio.sha256;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Invalid(format!(
            "the audio's SHA-256 {:?} is not 64 hex digits",
            crate::clean::audit_actor(sha)
        )));
    }
    let name = check_label("the audio's file name", &job.audio.name, MAX_NAME_BYTES)?;
    if name.is_empty() {
        return Err(Error::Invalid("the audio's file name is empty".into()));
    }
    let bytes = i64::try_from(job.audio.bytes)
        .map_err(|_| Error::Invalid(format!("{} bytes is out of range", job.audio.bytes)))?;
    if !(1..=1000).contains(&job.max_attempts) {
        return Err(Error::Invalid(format!(
            "a job is tried 1 to 1000 times, not {}",
            job.max_attempts
        )));
    }
    if !(-1000..=1000).contains(&job.priority) {
        return Err(Error::Invalid(format!(
            "a job's priority is -1000 to 1000, not {}",
            job.priority
        )));
    }
    let settings = settings(&job.settings)?;
    let settings = serde_json::to_string(&settings).map_err(|e| Error::Invalid(e.to_string()))?;
    let optional = |what: &str, text: &Option<String>| -> Result<Option<String>> {
        text.as_deref()
            .map(|t| check_label(what, t, MAX_TITLE_BYTES))
            .transpose()
            .map(|t| t.filter(|t| !t.is_empty()))
    };
    let sitting_date = job.meta.sitting_date.as_deref().map(str::trim);
    if let Some(date) = sitting_date.filter(|d| !is_date(d)) {
        return Err(Error::Invalid(format!(
            "the sitting's date {:?} is not YYYY-MM-DD",
            crate::clean::audit_actor(date)
        )));
    }
    Ok(Checked {
        sha256: sha.to_ascii_lowercase(),
        name,
        bytes,
        path: media_path(&job.audio.path)?,
        settings,
        title: optional("a title", &job.meta.title)?,
        sitting_date: sitting_date.map(str::to_owned),
        agenda_item: optional("an agenda item", &job.meta.agenda_item)?,
        submitted_by: optional("a submitter's name", &job.submitted_by)?,
    })
}

/// Settings as stored: NFC, bounded, the channels one of the three forms.
fn settings(s: &JobSettings) -> Result<JobSettings> {
    let model = check_label("a model's name", &s.model, MAX_LABEL_BYTES)?;
    if model.is_empty() {
        return Err(Error::Invalid("a job needs a model".into()));
    }
    let language = match s.language.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(l) if l.len() <= 16 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
            Some(l.to_ascii_lowercase())
        }
        Some(l) => {
            return Err(Error::Invalid(format!(
                "language {:?} is not a language code",
                crate::clean::audit_actor(l)
            )));
        }
    };
    let prompt = match s.prompt.as_deref() {
        Some(p) if p.len() > MAX_PROMPT_BYTES => {
            return Err(Error::Invalid(format!(
                "a prompt has at most {MAX_PROMPT_BYTES} bytes"
            )));
        }
        Some(p) => Some(nfc(p)).filter(|p| !p.trim().is_empty()),
        None => None,
    };
    let channels = s.channels.trim().to_ascii_lowercase();
    let ok = channels == "downmix"
        || channels == "each"
        || (!channels.is_empty()
            && channels.len() <= 3
            && channels.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return Err(Error::Invalid(format!(
            "channels {:?}: use downmix, each, or a channel's number",
            crate::clean::audit_actor(&s.channels)
        )));
    }
    Ok(JobSettings {
        model,
        language,
        prompt,
        channels,
    })
}

/// A path relative to the media directory that stays inside it.
fn media_path(path: &str) -> Result<String> {
    let bad = |why: &str| {
        Err(Error::Invalid(format!(
            "audio path {:?}: {why}",
            crate::clean::audit_actor(path)
        )))
    };
    if path.is_empty() || path.len() > MAX_NAME_BYTES {
        return bad(&format!("use 1 to {MAX_NAME_BYTES} bytes"));
    }
    if path.contains('\\') || path.chars().any(char::is_control) {
        return bad("no backslash or control character");
    }
    if !Path::new(path)
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return bad("must be relative to the media directory, without `..`");
    }
    Ok(path.to_owned())
}

/// `YYYY-MM-DD` with a plausible month and day.
fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    if !(digits(0..4) && digits(5..7) && digits(8..10)) {
        return false;
    }
    let month = (b[5] - b'0') * 10 + (b[6] - b'0');
    let day = (b[8] - b'0') * 10 + (b[9] - b'0');
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// A worker's name as stored.
pub(super) fn worker(name: &str) -> Result<String> {
    let name = check_label("a worker's name", name, MAX_LABEL_BYTES)?;
    if name.is_empty() {
        return Err(Error::Invalid("a worker needs a name".into()));
    }
    Ok(name)
}

/// A lease's length in milliseconds: 1 s to a day.
pub(super) fn lease_ms(lease: Duration) -> Result<i64> {
    if lease < Duration::from_secs(1) || lease > MAX_LEASE {
        return Err(Error::Invalid(format!(
            "a lease lasts 1 s to 24 h, not {lease:?}"
        )));
    }
    Ok(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

/// Progress as stored: 0 to 1.
pub(super) fn progress(progress: f64) -> Result<f64> {
    if progress.is_finite() && (0.0..=1.0).contains(&progress) {
        Ok(progress)
    } else {
        Err(Error::Invalid(format!(
            "progress is 0 to 1, not {progress}"
        )))
    }
}

/// A checkpoint as stored: JSON, at most [`MAX_CHECKPOINT_BYTES`].
pub(super) fn checkpoint(checkpoint: &str) -> Result<()> {
    if checkpoint.len() > MAX_CHECKPOINT_BYTES {
        return Err(Error::Invalid(format!(
            "a checkpoint has at most {MAX_CHECKPOINT_BYTES} bytes"
        )));
    }
    serde_json::from_str::<serde::de::IgnoredAny>(checkpoint)
        .map_err(|e| Error::Invalid(format!("a checkpoint is JSON: {e}")))?;
    Ok(())
}

/// A failure reason as stored: cut to [`MAX_REASON_BYTES`] at a character
/// boundary; never empty.
pub(super) fn reason(reason: &str) -> String {
    let reason = nfc(reason.trim());
    if reason.is_empty() {
        return "no reason given".into();
    }
    let mut end = reason.len().min(MAX_REASON_BYTES);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn paths_stay_inside_the_media_directory() {
        for good in ["ab/cd/abcd.flac", "x.wav"] {
            assert_eq!(media_path(good).unwrap(), good);
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a\\b",
            "a\nb",
            "./x",
        ] {
            assert!(media_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dates_and_reasons() {
        assert!(is_date("2026-12-07"));
        for bad in ["2026-13-01", "2026-1-01", "07/12/2026", "2026-12-00"] {
            assert!(!is_date(bad), "{bad}");
        }
        assert_eq!(reason("  "), "no reason given");
        let long = "ệ".repeat(MAX_REASON_BYTES);
        let cut = reason(&long);
        assert!(cut.len() <= MAX_REASON_BYTES && cut.chars().all(|c| c == 'ệ'));
    }
}
