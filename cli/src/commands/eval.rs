//! `tocky eval`: word and character error rates against reference texts.
//!
//! The normalisation is the shared evaluation set's (`wer.py`): NFC, lower
//! case, canonical tone-mark placement (hoà = hòa), punctuation removed, a
//! word is a syllable. Digits are left alone.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use tocky_asr::TranscribeOptions;

use super::DecoderArgs;
use tocky_audio::{AudioReader, DecodeOptions as AudioOptions};
use tocky_core::document::TranscriptDocument;
use tocky_core::wer::{ErrorCounts, score};

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// A directory of references: NAME.txt, beside NAME.wav (or another audio format).
    #[arg(long, value_name = "DIR")]
    refs: PathBuf,
    /// Score existing hypotheses (NAME.txt or NAME.json) instead of transcribing.
    #[arg(long, value_name = "DIR")]
    hyps: Option<PathBuf>,
    #[command(flatten)]
    decoder: DecoderArgs,
    /// Print the scores as JSON.
    #[arg(long)]
    json: bool,
}

const AUDIO_EXTENSIONS: &[&str] = &["wav", "flac", "mp3", "ogg", "m4a", "mp4", "mkv", "webm"];

pub(crate) fn run(args: EvalArgs, cache_dir: &Path) -> Result<ExitCode> {
    let mut refs: Vec<PathBuf> = std::fs::read_dir(&args.refs)
        .with_context(|| format!("reading {}", args.refs.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    refs.sort();
    if refs.is_empty() {
        bail!("{} holds no reference .txt files", args.refs.display());
    }

    let engine = match &args.hyps {
        Some(_) => None,
        None => Some(args.decoder.load(cache_dir)?.0),
    };
    let opts = TranscribeOptions {
        decode: args.decoder.decode_options(1),
        ..TranscribeOptions::recommended()
    };

    let mut total = ErrorCounts::default();
    let mut rows = Vec::new();
    for reference_path in &refs {
        let name = reference_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let reference = std::fs::read_to_string(reference_path)
            .with_context(|| format!("reading {}", reference_path.display()))?;
        let hypothesis = match (&args.hyps, &engine) {
            (Some(dir), _) => read_hypothesis(dir, &name)?,
            (None, Some(engine)) => {
                let Some(audio) = audio_beside(reference_path) else {
                    eprintln!("warning: no audio for {name}; skipped");
                    continue;
                };
                let mut reader = AudioReader::open(&audio, &AudioOptions::default())?;
                engine
                    .transcribe_reader(&mut reader, &opts, &mut |_| {})?
                    .0
                    .text()
            }
            (None, None) => unreachable_engine()?,
        };
        let counts = score(&reference, &hypothesis);
        total += counts;
        rows.push((name, counts, hypothesis));
    }

    if args.json {
        let clips: Vec<serde_json::Value> = rows
            .iter()
            .map(|(name, c, hyp)| {
                serde_json::json!({"clip": name, "wer": c.wer(), "cer": c.cer(), "errors": c.word_edits, "words": c.ref_words, "hypothesis": hyp})
            })
            .collect();
        let doc = serde_json::json!({"clips": clips, "wer": total.wer(), "cer": total.cer(), "word_errors": total.word_edits, "words": total.ref_words});
        outln!("{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        for (name, c, _) in &rows {
            outln!("{name}\t{:.3}\t({}/{})", c.wer(), c.word_edits, c.ref_words)?;
        }
        outln!(
            "overall WER={:.4} ({}/{}) CER={:.4}",
            total.wer(),
            total.word_edits,
            total.ref_words,
            total.cer()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn unreachable_engine() -> Result<String> {
    bail!("internal error: no model loaded")
}

fn audio_beside(reference: &Path) -> Option<PathBuf> {
    AUDIO_EXTENSIONS
        .iter()
        .map(|ext| reference.with_extension(ext))
        .find(|p| p.is_file())
}

/// A hypothesis as plain text, or the text of a tocky JSON transcript; a
/// missing one counts as empty, as in `wer.py`.
fn read_hypothesis(dir: &Path, name: &str) -> Result<String> {
    let json = dir.join(format!("{name}.json"));
    if json.is_file() {
        let text = std::fs::read_to_string(&json)
            .with_context(|| format!("reading {}", json.display()))?;
        let doc = TranscriptDocument::from_json(&text)
            .with_context(|| format!("reading {}", json.display()))?;
        return Ok(doc.transcript.text());
    }
    let txt = dir.join(format!("{name}.txt"));
    match std::fs::read_to_string(&txt) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        // One that is there but unreadable is not an empty transcript: it
        // would be scored as every word deleted.
        Err(e) => Err(e).with_context(|| format!("reading {}", txt.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_hypothesis_is_an_error_that_names_it_and_a_missing_one_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), b"xin ch\xe0o").unwrap();
        std::fs::write(dir.path().join("b.json"), b"{\"schema\": \"\xff\"}").unwrap();
        let e = read_hypothesis(dir.path(), "a").unwrap_err();
        assert!(format!("{e:#}").contains("a.txt"), "{e:#}");
        let e = read_hypothesis(dir.path(), "b").unwrap_err();
        assert!(format!("{e:#}").contains("b.json"), "{e:#}");
        assert_eq!(read_hypothesis(dir.path(), "c").unwrap(), "");
    }
}
