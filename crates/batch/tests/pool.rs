//! The pool with the real model on a fixture clip: events, outputs, a
//! rerun that skips, a bad file beside a good one, cancellation.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tocky_asr::{DecodeOptions, Engine, EngineOptions, TranscribeOptions};
use tocky_audio::vad::VadOptions;
use tocky_batch::{
    BatchOptions, CHECKPOINT_EVERY, CancelToken, Channels, Event, FileJob, Format, ModelId, Outcome,
};

/// The Whisper model: `TOCKY_MODEL`, or the default cache. A missing model
/// fails the test rather than skipping it.
fn model_path() -> PathBuf {
    if let Some(p) = std::env::var_os("TOCKY_MODEL") {
        return p.into();
    }
    let cache = tocky_models::default_cache_dir();
    tocky_models::resolve_model(tocky_models::DEFAULT_MODEL, &cache).unwrap_or_else(|e| {
        panic!(
            "this test needs the Whisper base model: {e}\nrun scripts/test, or `tocky model fetch`"
        )
    })
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/vi")
        .join(name)
}

/// What the observer saw, one line an event (progress summarised).
#[derive(Default)]
struct Seen {
    lines: Mutex<Vec<(usize, String)>>,
}

impl Seen {
    fn record(&self, job: usize, event: Event<'_>) {
        let line = match event {
            Event::Started => "started".to_owned(),
            Event::Progress { fraction, .. } => {
                assert!(fraction.is_none_or(|f| (0.0..=1.0).contains(&f)));
                "progress".to_owned()
            }
            Event::Done { doc, summary } => {
                assert_eq!(doc.transcript.segments.len(), summary.segments);
                format!("done {} outputs", summary.outputs.len())
            }
            Event::Skipped { .. } => "skipped".to_owned(),
            Event::Failed { reason } => format!("failed: {reason}"),
            Event::Cancelled => "cancelled".to_owned(),
        };
        let mut lines = self.lines.lock().unwrap();
        // One progress line for a run of them.
        if line != "progress" || lines.last() != Some(&(job, line.clone())) {
            lines.push((job, line));
        }
    }

    fn of(&self, job: usize) -> Vec<String> {
        let lines = self.lines.lock().unwrap();
        lines
            .iter()
            .filter(|(j, _)| *j == job)
            .map(|(_, l)| l.clone())
            .collect()
    }
}

#[test]
fn two_workers_transcribe_a_clip_beside_a_bad_file_and_a_rerun_skips_it() {
    let model = model_path();
    let engine = Engine::load(&model, &EngineOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("in");
    std::fs::create_dir_all(&audio).unwrap();
    std::fs::copy(fixture("vivos_VIVOSDEV01_R034.wav"), audio.join("R034.wav")).unwrap();
    std::fs::write(audio.join("garbage.wav"), vec![0x5au8; 4096]).unwrap();
    let out = dir.path().join("out");
    let (inputs, missing) = tocky_batch::collect_inputs(
        std::slice::from_ref(&audio),
        tocky_batch::DEFAULT_GLOB,
        Some(&out),
    )
    .unwrap();
    assert!(missing.is_empty());
    let jobs: Vec<FileJob> = inputs.into_iter().map(FileJob::new).collect();
    let names: Vec<_> = jobs.iter().map(|j| j.stem.display().to_string()).collect();
    assert_eq!(names, ["R034", "garbage"]);
    assert!(jobs[0].declared_ms.is_some_and(|ms| ms > 1_000), "{jobs:?}");
    let opts = BatchOptions {
        formats: vec![Format::Srt, Format::Json, Format::Txt],
        output_dir: Some(out.clone()),
        channels: Channels::Downmix,
        force: false,
        transcribe: TranscribeOptions {
            decode: DecodeOptions {
                beam_size: 1,
                threads: 1,
                ..DecodeOptions::default()
            },
            vad: Some(VadOptions::default()),
            ..TranscribeOptions::default()
        },
        model: ModelId::of(&model),
        workers: 2,
        checkpoint_every: CHECKPOINT_EVERY,
    };

    let seen = Seen::default();
    let observer = |job: usize, event: Event<'_>| seen.record(job, event);
    let outcomes = tocky_batch::run(&engine, &jobs, &opts, &observer, &CancelToken::new());
    let Outcome::Done(summary) = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    assert!(
        summary.segments >= 1 && summary.audio_ms > 1_000,
        "{summary:?}"
    );
    assert_eq!(summary.resumed_at_ms, None);
    // The JSON is written last: its presence marks the input done.
    let written: Vec<_> = summary
        .outputs
        .iter()
        .map(|p| p.strip_prefix(&out).unwrap().display().to_string())
        .collect();
    assert_eq!(written, ["R034.srt", "R034.txt", "R034.json"]);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("R034.json")).unwrap()).unwrap();
    assert_eq!(doc["source"]["file"], "R034.wav");
    assert!(!out.join("R034.checkpoint-mix.json").exists());
    let Outcome::Failed(reason) = &outcomes[1] else {
        panic!("{outcomes:?}")
    };
    assert!(reason.contains("garbage.wav"), "{reason}");
    assert!(reason.contains("unsupported or corrupt"), "{reason}");
    assert_eq!(seen.of(0), ["started", "progress", "done 3 outputs"]);
    assert_eq!(
        seen.of(1),
        ["started", format!("failed: {reason}").as_str()]
    );

    // A rerun finds the outputs up to date; the bad file fails again.
    let seen = Seen::default();
    let observer = |job: usize, event: Event<'_>| seen.record(job, event);
    let again = tocky_batch::run(&engine, &jobs, &opts, &observer, &CancelToken::new());
    assert_eq!(
        again[0],
        Outcome::Skipped {
            audio_ms: summary.audio_ms
        }
    );
    assert!(matches!(again[1], Outcome::Failed(_)), "{again:?}");
    assert_eq!(seen.of(0), ["started", "progress", "skipped"]);

    // Cancelled before it starts: nothing runs, nothing is reported.
    let cancel = CancelToken::new();
    cancel.cancel();
    let seen = Seen::default();
    let observer = |job: usize, event: Event<'_>| seen.record(job, event);
    let forced = BatchOptions {
        force: true,
        ..opts
    };
    let cancelled = tocky_batch::run(&engine, &jobs, &forced, &observer, &cancel);
    assert_eq!(cancelled, [Outcome::Cancelled, Outcome::Cancelled]);
    assert!(seen.lines.lock().unwrap().is_empty());
}
