//! Local workers on the real record and the real model: jobs queued in a
//! store become sessions with `tocky transcribe`'s text, exactly once with
//! two workers on one engine; audio that does not decode fails the job
//! for good; a job cancelled while it runs is dropped; a job taken again
//! after its worker stopped resumes from the checkpoint it left.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tocky_asr::{DecodeOptions, Engine, EngineOptions, Guards, TranscribeOptions};
use tocky_audio::vad::VadOptions;
use tocky_batch::{BatchOptions, CancelToken, Channels, FileJob, JobResult, ModelId};
use tocky_core::document::TranscriptDocument;
use tocky_store::{Claim, JobAdded, JobAudio, JobSettings, JobState, NewJob, SessionMeta, Store};
use tocky_worker::{Completed, JobOutcome, Queue, StoreQueue, WorkerOptions, run_worker};

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

const CLIPS: [&str; 4] = [
    "vivos_VIVOSDEV01_R002.wav",
    "vivos_VIVOSDEV01_R003.wav",
    "vivos_VIVOSDEV01_R012.wav",
    "vivos_VIVOSDEV01_R027.wav",
];

/// A record in a temporary folder, its media folder beside it.
struct Record {
    dir: tempfile::TempDir,
}

impl Record {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("media/jobs")).unwrap();
        Self { dir }
    }

    fn store(&self) -> Store {
        Store::open(&self.dir.path().join("tocky.db")).unwrap()
    }

    fn media(&self) -> PathBuf {
        self.dir.path().join("media")
    }

    /// Queues `source` (copied under the media folder) as a job.
    fn add(&self, source: &Path, language: Option<&str>) -> i64 {
        let name = source.file_name().unwrap().to_string_lossy().into_owned();
        let sha256 = tocky_models::sha256_file(source).unwrap();
        let path = format!("jobs/{sha256}.wav");
        std::fs::copy(source, self.media().join(&path)).unwrap();
        let job = NewJob {
            audio: JobAudio {
                sha256,
                name: name.clone(),
                bytes: std::fs::metadata(source).unwrap().len(),
                path,
            },
            settings: JobSettings {
                model: "ggml-base.bin".into(),
                language: language.map(str::to_owned),
                prompt: None,
                channels: "downmix".into(),
            },
            meta: SessionMeta {
                title: Some(format!("Phiên {name}")),
                sitting_date: Some("2026-12-07".into()),
                agenda_item: None,
            },
            priority: 0,
            max_attempts: 3,
            submitted_by: Some("thu-ky".into()),
        };
        match self.store().add_job(&job).unwrap() {
            JobAdded::Added(job) => job.id,
            other => panic!("not added: {other:?}"),
        }
    }

    fn options(&self, name: &str, model: &Path) -> WorkerOptions {
        let mut opts = WorkerOptions::new(
            name,
            self.dir.path().join(format!("work-{name}")),
            ModelId::of(model),
            1,
        );
        opts.idle_wait = Duration::from_millis(50);
        opts.heartbeat_every = Duration::from_millis(200);
        opts
    }
}

fn engine(model: &Path) -> Engine {
    Engine::load(model, &EngineOptions::default()).unwrap()
}

/// What `tocky transcribe` writes for `source` (its defaults, language vi).
fn transcribed(engine: &Engine, model: &Path, source: &Path) -> TranscriptDocument {
    let opts = BatchOptions {
        formats: Vec::new(),
        output_dir: None,
        channels: Channels::Downmix,
        force: true,
        transcribe: TranscribeOptions {
            decode: DecodeOptions {
                language: "vi".into(),
                threads: 1,
                word_timestamps: true,
                ..DecodeOptions::default()
            },
            vad: Some(VadOptions::default()),
            guards: Guards::default(),
        },
        model: ModelId::of(model),
        workers: 1,
        checkpoint_every: tocky_batch::CHECKPOINT_EVERY,
    };
    let job = FileJob {
        source: source.to_path_buf(),
        stem: "x".into(),
        declared_ms: None,
    };
    match tocky_batch::transcribe_file(engine, &job, &opts, &CancelToken::new(), &mut |_| {})
        .unwrap()
    {
        JobResult::Done { doc, .. } => *doc,
        JobResult::Skipped { .. } => unreachable!(),
    }
}

fn text(store: &Store, session: i64) -> String {
    store
        .segments(session)
        .unwrap()
        .iter()
        .map(|s| s.text.trim().to_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn two_workers_on_one_engine_do_each_job_once_with_the_text_of_tocky_transcribe() {
    let model = model_path();
    let engine = engine(&model);
    let record = Record::new();
    let ids: Vec<i64> = CLIPS
        .iter()
        .map(|c| record.add(&fixture(c), Some("vi")))
        .collect();
    let queues = [
        StoreQueue::new(record.store(), &record.media()),
        StoreQueue::new(record.store(), &record.media()),
    ];
    let outcomes: Vec<JobOutcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = queues
            .iter()
            .enumerate()
            .map(|(i, queue)| {
                let mut opts = record.options(&format!("local-{i}"), &model);
                // Each stops once the queue is empty.
                let stop = opts.stop.clone();
                let store = std::sync::Mutex::new(record.store());
                opts.paused = Some(Arc::new(move || {
                    let waiting = store
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
                let engine = &engine;
                scope.spawn(move || run_worker(engine, queue, &opts))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(outcomes.len(), CLIPS.len(), "{outcomes:?}");
    let store = record.store();
    let mut sessions = Vec::new();
    for (id, clip) in ids.iter().zip(CLIPS) {
        let job = store.job(*id).unwrap();
        assert_eq!(job.state, JobState::Done, "{job:?}");
        assert_eq!(job.attempts, 1);
        let session = job.session_id.unwrap();
        sessions.push(session);
        let expected = transcribed(&engine, &model, &fixture(clip));
        let expected: Vec<String> = expected
            .transcript
            .segments
            .iter()
            .map(|s| s.text.trim().to_owned())
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(text(&store, session), expected.join(" "), "{clip}");
        let made = store.session(session).unwrap();
        assert_eq!(made.title, format!("Phiên {clip}"));
        // The session names its audio as the media folder stores it, so
        // that it plays and re-times.
        assert_eq!(made.audio_file, Some(job.audio.path.clone()));
    }
    sessions.sort_unstable();
    sessions.dedup();
    assert_eq!(sessions.len(), CLIPS.len());
    assert_eq!(store.sessions().unwrap().len(), CLIPS.len());
    // Working folders are cleaned up.
    for i in 0..2 {
        let work = record.dir.path().join(format!("work-local-{i}"));
        assert_eq!(std::fs::read_dir(work).map_or(0, |d| d.count()), 0);
    }
}

#[test]
fn audio_that_does_not_decode_fails_the_job_without_retries() {
    let model = model_path();
    let engine = engine(&model);
    let record = Record::new();
    let junk = record.dir.path().join("notes.wav");
    std::fs::write(&junk, b"this is not a recording at all, only words").unwrap();
    let id = record.add(&junk, Some("vi"));
    let queue = StoreQueue::new(record.store(), &record.media());
    let mut opts = record.options("local", &model);
    opts.max_jobs = Some(1);
    let outcomes = run_worker(&engine, &queue, &opts);
    assert!(
        matches!(
            &outcomes[..],
            [JobOutcome::Failed {
                retryable: false,
                ..
            }]
        ),
        "{outcomes:?}"
    );
    let job = record.store().job(id).unwrap();
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.attempts, 1);
    assert!(!job.failure.unwrap().is_empty());
    assert!(record.store().sessions().unwrap().is_empty());
}

/// The store's queue, cancelling the job (as a person would from the job
/// list) once its audio is fetched.
struct CancelWhileRunning<'a> {
    inner: StoreQueue,
    record: &'a Record,
}

impl Queue for CancelWhileRunning<'_> {
    fn claim(&self, worker: &str, lease: Duration) -> tocky_worker::Result<Option<Claim>> {
        self.inner.claim(worker, lease)
    }
    fn audio(&self, claim: &Claim, cache: &Path) -> tocky_worker::Result<PathBuf> {
        self.record
            .store()
            .cancel_job(claim.job.id, "thu-ky")
            .unwrap();
        self.inner.audio(claim, cache)
    }
    fn heartbeat(
        &self,
        claim: &Claim,
        progress: f64,
        checkpoint: Option<&str>,
        lease: Duration,
    ) -> tocky_worker::Result<()> {
        self.inner.heartbeat(claim, progress, checkpoint, lease)
    }
    fn complete(&self, claim: &Claim, doc: &TranscriptDocument) -> tocky_worker::Result<Completed> {
        self.inner.complete(claim, doc)
    }
    fn fail(&self, claim: &Claim, reason: &str, retryable: bool) -> tocky_worker::Result<()> {
        self.inner.fail(claim, reason, retryable)
    }
}

#[test]
fn a_job_cancelled_while_it_runs_is_dropped_and_never_ingested() {
    let model = model_path();
    let engine = engine(&model);
    let record = Record::new();
    let id = record.add(&fixture(CLIPS[0]), Some("vi"));
    let queue = CancelWhileRunning {
        inner: StoreQueue::new(record.store(), &record.media()),
        record: &record,
    };
    let mut opts = record.options("local", &model);
    opts.max_jobs = Some(1);
    let outcomes = run_worker(&engine, &queue, &opts);
    assert_eq!(outcomes, vec![JobOutcome::LeaseLost { job: id }]);
    let job = record.store().job(id).unwrap();
    assert_eq!(job.state, JobState::Cancelled);
    assert!(record.store().sessions().unwrap().is_empty());
}

#[test]
fn a_job_taken_again_resumes_from_the_checkpoint_its_first_worker_left() {
    let model = model_path();
    let engine = engine(&model);
    let record = Record::new();
    let clip = fixture(CLIPS[1]);
    let id = record.add(&clip, Some("vi"));
    let expected = transcribed(&engine, &model, &clip);
    assert!(expected.transcript.duration_ms > 1000);

    // A first worker claimed it and beat once with a checkpoint made
    // part-way (the first half of the segments), then died: its lease
    // (1 s from the epoch) has expired.
    let mut store = record.store();
    let claim = store
        .claim_job("dead", Duration::from_secs(1), 0)
        .unwrap()
        .unwrap();
    let half = expected.transcript.segments.len() / 2;
    let until = expected.transcript.segments[half].start_ms;
    let batch = serde_json::json!({
        "version": 2,
        "source_sha256": claim.job.audio.sha256,
        "settings": tocky_batch::checkpoint::settings_key(&ModelId::of(&model).key, &TranscribeOptions {
            decode: DecodeOptions {
                language: "vi".into(),
                threads: 1,
                word_timestamps: true,
                ..DecodeOptions::default()
            },
            vad: Some(VadOptions::default()),
            guards: Guards::default(),
        }),
        "decoded_until_ms": until,
        "finished_duration_ms": null,
        "language": "vi",
        "segments": expected.transcript.segments[..half],
    });
    let saved = serde_json::json!({
        "version": 1,
        "files": {"audio.checkpoint-mix.json": batch.to_string()},
    });
    store
        .heartbeat(
            id,
            &claim.lease_token,
            &tocky_store::Heartbeat {
                progress: 0.5,
                checkpoint: Some(&saved.to_string()),
                lease: Duration::from_secs(1),
                now_ms: 0,
            },
        )
        .unwrap();

    let queue = StoreQueue::new(record.store(), &record.media());
    let mut opts = record.options("local", &model);
    opts.max_jobs = Some(1);
    let outcomes = run_worker(&engine, &queue, &opts);
    let [
        JobOutcome::Done {
            resumed_at_ms,
            completed,
            ..
        },
    ] = &outcomes[..]
    else {
        panic!("{outcomes:?}");
    };
    assert_eq!(*resumed_at_ms, Some(until));
    let job = record.store().job(id).unwrap();
    assert_eq!(job.state, JobState::Done);
    assert_eq!(job.attempts, 2);
    assert_eq!(job.session_id, Some(completed.session_id));
    // The first half is the checkpoint's, word for word.
    let segments = record.store().segments(completed.session_id).unwrap();
    for (stored, saved) in segments.iter().zip(&expected.transcript.segments[..half]) {
        assert_eq!(stored.text.trim(), saved.text.trim());
    }
    assert_eq!(record.store().sessions().unwrap().len(), 1);
}
