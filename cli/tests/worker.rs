//! `tocky worker` processes against a `tocky serve` (its own local
//! workers off), with the real model: jobs queued in the record are each
//! done once, by one of two workers; a worker killed with SIGKILL in the
//! middle of a job loses it only until its lease (3 s here) expires, when
//! another worker takes it and completes it once; no session is
//! duplicated, and the new sessions are found by search.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Running, fixture, serve, text, tocky};
use tocky_store::{JobAdded, JobAudio, JobSettings, JobState, NewJob, SessionMeta, Store};

const CLIPS: [&str; 4] = [
    "vivos_VIVOSDEV01_R002.wav",
    "vivos_VIVOSDEV01_R003.wav",
    "vivos_VIVOSDEV01_R012.wav",
    "vivos_VIVOSDEV01_R027.wav",
];

fn model_path() -> PathBuf {
    if let Some(p) = std::env::var_os("TOCKY_MODEL") {
        return p.into();
    }
    let cache = tocky_models::default_cache_dir();
    tocky_models::resolve_model(tocky_models::DEFAULT_MODEL, &cache)
        .unwrap_or_else(|e| panic!("this test needs the Whisper base model: {e}"))
}

fn worker(base: &str, key: &str, name: &str, work: &Path) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .args(["worker", "--server", base, "--token", key, "--name", name])
        .arg("--model")
        .arg(model_path())
        .args(["--lease-secs", "3", "--heartbeat-secs", "1", "--work-dir"])
        .arg(work)
        .env("RUST_LOG", "info")
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Running(child)
}

/// Queues `clip` (copied into the media folder under its hash, as an
/// upload is kept) as a job.
fn add_job(store: &mut Store, media: &Path, clip: &str) -> i64 {
    let source = fixture(clip);
    let sha256 = tocky_models::sha256_file(&source).unwrap();
    let file = format!("{sha256}.wav");
    std::fs::copy(&source, media.join(&file)).unwrap();
    let job = NewJob {
        audio: JobAudio {
            sha256,
            name: clip.to_owned(),
            bytes: std::fs::metadata(&source).unwrap().len(),
            path: file,
        },
        settings: JobSettings {
            model: "base".into(),
            language: Some("vi".into()),
            prompt: None,
            channels: "downmix".into(),
        },
        meta: SessionMeta {
            title: Some(format!("Phiên {clip}")),
            sitting_date: Some("2026-12-07".into()),
            agenda_item: None,
        },
        priority: 0,
        max_attempts: 3,
        submitted_by: Some("thu-ky".into()),
    };
    match store.add_job(&job).unwrap() {
        JobAdded::Added(job) => job.id,
        other => panic!("{other:?}"),
    }
}

/// Waits (polling the record) until `done` says so, or fails after `limit`.
fn wait_for(store: &Store, limit: Duration, what: &str, done: impl Fn(&Store) -> bool) {
    let start = Instant::now();
    while !done(store) {
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn two_remote_workers_do_every_job_once_even_when_one_is_killed_mid_job() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("record.db");
    let media = dir.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "media_dirs = [{:?}]\n[workers]\nlocal = 0\n",
            media.to_str().unwrap()
        ),
    )
    .unwrap();
    let key = tocky(&db, &["token", "add", "gpu-box", "--role", "stenographer"]);
    assert!(key.status.success(), "{}", text(&key.stderr));
    let key = text(&key.stdout).trim().to_owned();
    let reader = tocky(&db, &["token", "add", "press", "--role", "reader"]);
    let reader = text(&reader.stdout).trim().to_owned();

    let mut store = Store::open(&db).unwrap();
    let ids: Vec<i64> = CLIPS
        .iter()
        .map(|c| add_job(&mut store, &media, c))
        .collect();
    let (_server, base) = serve(
        &db,
        &[
            "--no-retime".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
        ],
    );

    // A reader's key may not run jobs; a wrong key is refused.
    let refused = worker(&base, &reader, "reader-box", &dir.path().join("w0"));
    std::thread::sleep(Duration::from_secs(3));
    drop(refused);
    assert!(
        store
            .jobs(&Default::default())
            .unwrap()
            .iter()
            .all(|j| j.state == JobState::Queued)
    );

    // The first worker takes a job and is killed in the middle of it.
    let first = worker(&base, &key, "first", &dir.path().join("w1"));
    wait_for(&store, Duration::from_secs(120), "a running job", |s| {
        s.jobs(&Default::default())
            .unwrap()
            .iter()
            .any(|j| j.state == JobState::Running)
    });
    let killed = store
        .jobs(&Default::default())
        .unwrap()
        .into_iter()
        .find(|j| j.state == JobState::Running)
        .unwrap();
    assert_eq!(killed.worker.as_deref(), Some("gpu-box/first"));
    let killed_at = Instant::now();
    drop(first);

    let _a = worker(&base, &key, "a", &dir.path().join("w2"));
    let _b = worker(&base, &key, "b", &dir.path().join("w3"));
    wait_for(&store, Duration::from_secs(600), "every job done", |s| {
        ids.iter()
            .all(|id| s.job(*id).unwrap().state == JobState::Done)
    });
    let taken_again = store.job(killed.id).unwrap();
    eprintln!(
        "the killed worker's job was done {:?} after the kill",
        killed_at.elapsed()
    );
    assert_eq!(taken_again.attempts, 2, "{taken_again:?}");
    assert_ne!(taken_again.worker.as_deref(), Some("gpu-box/first"));

    let mut sessions: Vec<i64> = ids
        .iter()
        .map(|id| store.job(*id).unwrap().session_id.unwrap())
        .collect();
    sessions.sort_unstable();
    sessions.dedup();
    assert_eq!(sessions.len(), CLIPS.len());
    assert_eq!(
        store.sessions().unwrap().len(),
        CLIPS.len(),
        "no duplicate session"
    );
    let workers: std::collections::HashSet<String> = ids
        .iter()
        .filter_map(|id| store.job(*id).unwrap().worker)
        .collect();
    assert!(workers.len() >= 2, "both workers worked: {workers:?}");
    for session in &sessions {
        assert!(!store.segments(*session).unwrap().is_empty());
    }
    // The completions were indexed: a word of the first session is found.
    let word = store.segments(sessions[0]).unwrap()[0]
        .text
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    drop(_server);
    let found = tocky(&db, &["search", &word]);
    assert!(found.status.success(), "{}", text(&found.stderr));
    assert!(
        !text(&found.stdout).trim().is_empty(),
        "search {word:?} found nothing"
    );
}

#[test]
fn tocky_serve_runs_a_local_worker_whose_sessions_are_searchable_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("record.db");
    let media = dir.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    let config = dir.path().join("server.toml");
    // No [workers] section: one local worker by default.
    std::fs::write(
        &config,
        format!("media_dirs = [{:?}]\n", media.to_str().unwrap()),
    )
    .unwrap();
    let mut store = Store::open(&db).unwrap();
    let id = add_job(&mut store, &media, CLIPS[2]);
    let child = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("--db")
        .arg(&db)
        .args(["serve", "--bind", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--model")
        .arg(model_path())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let server = Running(child);
    wait_for(&store, Duration::from_secs(300), "the job done", |s| {
        s.job(id).unwrap().state == JobState::Done
    });
    eprintln!("a local worker did the job in {:?}", started.elapsed());
    let job = store.job(id).unwrap();
    assert_eq!(job.worker.as_deref(), Some("local-0"));
    let session = job.session_id.unwrap();
    let word = store.segments(session).unwrap()[0]
        .text
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    drop(server);
    let found = tocky(&db, &["search", &word]);
    assert!(
        !text(&found.stdout).trim().is_empty(),
        "search {word:?} found nothing"
    );
}
