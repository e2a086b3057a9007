//! Throughput of workers on this machine against `tocky transcribe
//! --jobs N` on the same clips (a measurement, not a check: ignored by
//! default). Run it in release:
//!
//! ```sh
//! cargo test --release -p tocky-worker --test throughput -- --ignored --nocapture
//! ```
//!
//! `TOCKY_BENCH_CLIPS` sets how many fixture clips (default 20). Both
//! sides share one loaded model and split the cores the same way (cores
//! / N decoder threads each); the workers' side includes what a job
//! costs beyond the transcription: the claim, heartbeats, the checkpoint
//! files, and the ingest into a real record.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tocky_asr::{DecodeOptions, Engine, EngineOptions, Guards, TranscribeOptions};
use tocky_audio::vad::VadOptions;
use tocky_batch::{BatchOptions, CancelToken, Channels, Event, FileJob, ModelId};
use tocky_store::{JobAdded, JobAudio, JobSettings, JobState, NewJob, SessionMeta, Store};
use tocky_worker::{StoreQueue, WorkerOptions, run_worker};

fn model_path() -> PathBuf {
    if let Some(p) = std::env::var_os("TOCKY_MODEL") {
        return p.into();
    }
    let cache = tocky_models::default_cache_dir();
    tocky_models::resolve_model(tocky_models::DEFAULT_MODEL, &cache).unwrap()
}

fn clips() -> Vec<PathBuf> {
    let n: usize = std::env::var("TOCKY_BENCH_CLIPS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vi");
    let mut clips: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    clips.sort();
    clips.truncate(n);
    clips
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// `tocky transcribe --jobs n` (its defaults, language vi, outputs written).
fn transcribe(engine: &Engine, model: &Path, clips: &[PathBuf], n: usize) -> Duration {
    let out = tempfile::tempdir().unwrap();
    let opts = BatchOptions {
        formats: vec![tocky_batch::Format::Json],
        output_dir: Some(out.path().to_path_buf()),
        channels: Channels::Downmix,
        force: true,
        transcribe: TranscribeOptions {
            decode: DecodeOptions {
                language: "vi".into(),
                threads: (cores() / n).max(1),
                word_timestamps: true,
                ..DecodeOptions::default()
            },
            vad: Some(VadOptions::default()),
            guards: Guards::default(),
        },
        model: ModelId::of(model),
        workers: n,
        checkpoint_every: tocky_batch::CHECKPOINT_EVERY,
    };
    let jobs: Vec<FileJob> = clips
        .iter()
        .map(|c| FileJob {
            source: c.clone(),
            stem: c.file_stem().unwrap().into(),
            declared_ms: None,
        })
        .collect();
    let started = Instant::now();
    let outcomes = tocky_batch::run(
        engine,
        &jobs,
        &opts,
        &|_: usize, _: Event<'_>| {},
        &CancelToken::new(),
    );
    let wall = started.elapsed();
    assert_eq!(outcomes.len(), clips.len());
    wall
}

/// `n` local workers over the clips queued as jobs in a fresh record.
fn workers(engine: &Engine, model: &Path, clips: &[PathBuf], n: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let media = dir.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    let mut store = Store::open(&db).unwrap();
    for clip in clips {
        let sha256 = tocky_models::sha256_file(clip).unwrap();
        let file = format!("{sha256}.wav");
        std::fs::copy(clip, media.join(&file)).unwrap();
        let job = NewJob {
            audio: JobAudio {
                sha256,
                name: clip.file_name().unwrap().to_string_lossy().into_owned(),
                bytes: std::fs::metadata(clip).unwrap().len(),
                path: file,
            },
            settings: JobSettings {
                model: "base".into(),
                language: Some("vi".into()),
                prompt: None,
                channels: "downmix".into(),
            },
            meta: SessionMeta::default(),
            priority: 0,
            max_attempts: 3,
            submitted_by: None,
        };
        assert!(matches!(store.add_job(&job).unwrap(), JobAdded::Added(_)));
    }
    let started = Instant::now();
    std::thread::scope(|scope| {
        for i in 0..n {
            let queue = StoreQueue::new(Store::open(&db).unwrap(), &media);
            let mut opts = WorkerOptions::new(
                &format!("local-{i}"),
                dir.path().join("work"),
                ModelId::of(model),
                (cores() / n).max(1),
            );
            opts.idle_wait = Duration::from_millis(20);
            let stop = opts.stop.clone();
            let db = db.clone();
            // Stops when nothing waits (the jobs are all claimed).
            let watch = std::sync::Mutex::new(Store::open(&db).unwrap());
            opts.paused = Some(std::sync::Arc::new(move || {
                let waiting = watch
                    .lock()
                    .unwrap()
                    .jobs(&Default::default())
                    .unwrap()
                    .iter()
                    .any(|j| j.state == JobState::Queued);
                if !waiting {
                    stop.cancel();
                }
                false
            }));
            scope.spawn(move || run_worker(engine, &queue, &opts));
        }
    });
    let wall = started.elapsed();
    let jobs = store.jobs(&Default::default()).unwrap();
    assert!(jobs.iter().all(|j| j.state == JobState::Done), "{jobs:?}");
    wall
}

#[test]
#[ignore = "a measurement: run in release with --ignored --nocapture"]
fn workers_against_tocky_transcribe() {
    let model = model_path();
    let engine = Engine::load(&model, &EngineOptions::default()).unwrap();
    let clips = clips();
    let audio_s: f64 = clips
        .iter()
        .filter_map(|c| tocky_batch::inputs::declared_ms(c))
        .sum::<u64>() as f64
        / 1000.0;
    eprintln!(
        "{} clips, {audio_s:.1} s of audio, {} cores, model {}",
        clips.len(),
        cores(),
        model.display()
    );
    // Warm up (page cache, first allocations).
    transcribe(&engine, &model, &clips[..1], 1);
    for n in [1, 2] {
        let batch = transcribe(&engine, &model, &clips, n);
        let work = workers(&engine, &model, &clips, n);
        eprintln!(
            "N={n}: tocky transcribe --jobs {n} {:.1} s ({:.1}x real time), {n} local worker(s) {:.1} s ({:.1}x); workers/transcribe = {:.2}",
            batch.as_secs_f64(),
            audio_s / batch.as_secs_f64(),
            work.as_secs_f64(),
            audio_s / work.as_secs_f64(),
            work.as_secs_f64() / batch.as_secs_f64()
        );
    }
}
