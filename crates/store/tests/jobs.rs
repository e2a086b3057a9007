//! Transcription jobs in the record: submitted once, claimed by one worker
//! at a time, taken again when a worker stops answering (its checkpoint
//! kept), ingested exactly once; all of it surviving a reopened store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use tocky_store::jobs::{PRIORITY_BATCH, PRIORITY_LIVE};
use tocky_store::{
    Error, Heartbeat, IngestOutcome, JobAdded, JobAudio, JobFilter, JobSettings, JobState, NewJob,
    SessionMeta, Store,
};

const LEASE: Duration = Duration::from_secs(10);

/// A job of the audio whose SHA-256 is `sha` (64 hex digits).
fn new_job(sha: &str, priority: i64) -> NewJob {
    NewJob {
        audio: JobAudio {
            sha256: sha.to_owned(),
            name: format!("phien-{}.flac", &sha[..4]),
            bytes: 1234,
            path: format!("audio/{sha}.flac"),
        },
        settings: JobSettings {
            model: "ggml-base.bin".into(),
            language: Some("vi".into()),
            prompt: None,
            channels: "downmix".into(),
        },
        meta: SessionMeta {
            title: Some("Phiên họp sáng".into()),
            sitting_date: Some("2026-12-07".into()),
            agenda_item: None,
        },
        priority,
        max_attempts: 3,
        submitted_by: Some("lan".into()),
    }
}

/// The SHA-256 `common::doc(c, …)` gives its audio.
fn sha_of(c: char) -> String {
    c.to_string().repeat(64)
}

fn added(outcome: JobAdded) -> tocky_store::Job {
    match outcome {
        JobAdded::Added(job) => job,
        other => panic!("expected a new job, got {other:?}"),
    }
}

fn beat(now_ms: i64, checkpoint: Option<&str>) -> Heartbeat<'_> {
    Heartbeat {
        progress: 0.5,
        checkpoint,
        lease: LEASE,
        now_ms,
    }
}

#[test]
fn the_same_work_is_submitted_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    let first = added(store.add_job(&new_job(&sha_of('a'), 0)).unwrap());
    assert_eq!(first.state, JobState::Queued);
    assert_eq!(first.attempts, 0);
    assert_eq!(first.title.as_deref(), Some("Phiên họp sáng"));
    // The same audio (its hash in capitals) with the same settings.
    let mut again = new_job(&sha_of('A'), 0);
    again.audio.name = "other-name.flac".into();
    match store.add_job(&again).unwrap() {
        JobAdded::Duplicate(job) => assert_eq!(job.id, first.id),
        other => panic!("{other:?}"),
    }
    // Other settings are other work …
    let mut turbo = new_job(&sha_of('a'), 0);
    turbo.settings.model = "ggml-large-v3-turbo.bin".into();
    let turbo = added(store.add_job(&turbo).unwrap());
    // … and a cancelled job no longer counts.
    store.cancel_job(turbo.id, "lan").unwrap();
    let mut turbo_again = new_job(&sha_of('a'), 0);
    turbo_again.settings.model = "ggml-large-v3-turbo.bin".into();
    added(store.add_job(&turbo_again).unwrap());
    // Audio already in the record: its session, and no job.
    store
        .ingest(
            &common::doc('b', &["xin chào"]),
            &SessionMeta::default(),
            "t",
        )
        .unwrap();
    assert!(matches!(
        store.add_job(&new_job(&sha_of('b'), 0)).unwrap(),
        JobAdded::InRecord { .. }
    ));
    assert_eq!(store.jobs(&JobFilter::default()).unwrap().len(), 3);
    let submits = store
        .audit_log(20)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "job_submit")
        .count();
    assert_eq!(submits, 3);
}

#[test]
fn claims_take_the_highest_priority_then_the_oldest() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    let a = added(
        store
            .add_job(&new_job(&sha_of('a'), PRIORITY_BATCH))
            .unwrap(),
    );
    let b = added(
        store
            .add_job(&new_job(&sha_of('b'), PRIORITY_BATCH))
            .unwrap(),
    );
    let live = added(
        store
            .add_job(&new_job(&sha_of('c'), PRIORITY_LIVE))
            .unwrap(),
    );
    let low = added(store.add_job(&new_job(&sha_of('d'), -1)).unwrap());
    let mut order = Vec::new();
    while let Some(claim) = store.claim_job("w1", LEASE, 1_000).unwrap() {
        assert_eq!(claim.job.state, JobState::Running);
        assert_eq!(claim.job.attempts, 1);
        assert_eq!(claim.job.worker.as_deref(), Some("w1"));
        assert_eq!(claim.lease_expires_at, 11_000);
        order.push(claim.job.id);
    }
    assert_eq!(order, [live.id, a.id, b.id, low.id]);
}

#[test]
fn two_hundred_jobs_each_claimed_once_by_racing_workers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tocky.db");
    {
        let mut store = Store::open(&path).unwrap();
        for i in 0..200u32 {
            added(store.add_job(&new_job(&format!("{i:064x}"), 0)).unwrap());
        }
    }
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                // Each worker its own handle on the file, as separate processes would.
                let mut store = Store::open(&path).unwrap();
                let mut got = Vec::new();
                while let Some(c) = store.claim_job(&format!("w{w}"), LEASE, 1_000).unwrap() {
                    got.push(c.job.id);
                }
                got
            })
        })
        .collect();
    let mut times: HashMap<i64, usize> = HashMap::new();
    let mut per_worker = Vec::new();
    for w in workers {
        let got = w.join().unwrap();
        per_worker.push(got.len());
        for id in got {
            *times.entry(id).or_default() += 1;
        }
    }
    assert_eq!(times.len(), 200, "every job claimed");
    assert!(times.values().all(|&n| n == 1), "no job claimed twice");
    assert_eq!(per_worker.iter().sum::<usize>(), 200);
}

#[test]
fn an_expired_lease_is_taken_again_with_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    let job = added(store.add_job(&new_job(&sha_of('a'), 0)).unwrap());
    let first = store.claim_job("w1", LEASE, 0).unwrap().unwrap();
    let expiry = store
        .heartbeat(
            job.id,
            &first.lease_token,
            &beat(1_000, Some(r#"{"done_ms":5000}"#)),
        )
        .unwrap();
    assert_eq!(expiry, 11_000);
    // A heartbeat without a checkpoint keeps the stored one.
    store
        .heartbeat(job.id, &first.lease_token, &beat(2_000, None))
        .unwrap();
    assert_eq!(store.job(job.id).unwrap().progress, 0.5);
    // Still leased: nothing for another worker.
    assert!(store.claim_job("w2", LEASE, 11_999).unwrap().is_none());
    // w1 stops answering; at the expiry w2 takes the job, with its checkpoint.
    let second = store.claim_job("w2", LEASE, 12_000).unwrap().unwrap();
    assert_eq!(second.job.id, job.id);
    assert_eq!(second.job.attempts, 2);
    assert_eq!(second.job.worker.as_deref(), Some("w2"));
    assert_eq!(second.checkpoint.as_deref(), Some(r#"{"done_ms":5000}"#));
    assert!(
        second.job.failure.unwrap().contains("stopped answering"),
        "the lost attempt is explained"
    );
    assert_ne!(second.lease_token, first.lease_token);
    // w1 comes back: refused everywhere.
    let doc = common::doc('a', &["xin chào"]);
    assert!(matches!(
        store.heartbeat(job.id, &first.lease_token, &beat(12_500, None)),
        Err(Error::LeaseLost { .. })
    ));
    assert!(matches!(
        store.complete_job(job.id, &first.lease_token, &doc, 12_500),
        Err(Error::LeaseLost { .. })
    ));
    assert!(matches!(
        store.fail_job(job.id, &first.lease_token, "oops", true, 12_500),
        Err(Error::LeaseLost { .. })
    ));
    assert!(store.sessions().unwrap().is_empty(), "nothing ingested");
    // w2 finishes.
    assert!(matches!(
        store
            .complete_job(job.id, &second.lease_token, &doc, 13_000)
            .unwrap(),
        IngestOutcome::Created { .. }
    ));
}

#[test]
fn a_job_is_ingested_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    let job = added(store.add_job(&new_job(&sha_of('a'), 0)).unwrap());
    let claim = store.claim_job("w1", LEASE, 0).unwrap().unwrap();
    // A transcript of other audio is refused.
    assert!(matches!(
        store.complete_job(job.id, &claim.lease_token, &common::doc('b', &["x"]), 1),
        Err(Error::Invalid(_))
    ));
    let doc = common::doc('a', &["xin chào", "cảm ơn"]);
    let session_id = match store
        .complete_job(job.id, &claim.lease_token, &doc, 1_000)
        .unwrap()
    {
        IngestOutcome::Created {
            session_id,
            segments,
        } => {
            assert_eq!(segments, 2);
            session_id
        }
        other => panic!("{other:?}"),
    };
    // The answer was lost; the worker uploads again.
    assert_eq!(
        store
            .complete_job(job.id, &claim.lease_token, &doc, 2_000)
            .unwrap(),
        IngestOutcome::AlreadyPresent { session_id }
    );
    assert_eq!(store.sessions().unwrap().len(), 1);
    let session = store.session(session_id).unwrap();
    assert_eq!(session.title, "Phiên họp sáng");
    assert_eq!(session.sitting_date.as_deref(), Some("2026-12-07"));
    let done = store.job(job.id).unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.session_id, Some(session_id));
    assert_eq!(done.progress, 1.0);
    assert_eq!(done.lease_expires_at, None);
    // A done job takes no heartbeat, and is not claimed again.
    assert!(matches!(
        store.heartbeat(job.id, &claim.lease_token, &beat(3_000, None)),
        Err(Error::LeaseLost { .. })
    ));
    assert!(store.claim_job("w2", LEASE, 99_000).unwrap().is_none());
    // Submitting the same work again points at the done job and its session.
    match store.add_job(&new_job(&sha_of('a'), 0)).unwrap() {
        JobAdded::Duplicate(j) => assert_eq!(j.session_id, Some(session_id)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn attempts_run_out_and_the_job_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    let mut two = new_job(&sha_of('a'), 0);
    two.max_attempts = 2;
    let job = added(store.add_job(&two).unwrap());
    store.claim_job("w1", LEASE, 0).unwrap().unwrap();
    let again = store.claim_job("w2", LEASE, 10_000).unwrap().unwrap();
    assert_eq!(again.job.attempts, 2);
    // The second worker dies too: past its attempts, the job fails.
    assert_eq!(store.release_expired_jobs(19_999).unwrap(), 0);
    assert_eq!(store.release_expired_jobs(20_000).unwrap(), 1);
    let failed = store.job(job.id).unwrap();
    assert_eq!(failed.state, JobState::Failed);
    let reason = failed.failure.unwrap();
    assert!(
        reason.contains("w2") && reason.contains("attempt 2 of 2"),
        "{reason}"
    );
    assert!(store.claim_job("w3", LEASE, 30_000).unwrap().is_none());

    // A worker's own failure: queued again while attempts remain …
    let other = added(store.add_job(&new_job(&sha_of('b'), 0)).unwrap());
    let c = store.claim_job("w1", LEASE, 0).unwrap().unwrap();
    let j = store
        .fail_job(other.id, &c.lease_token, "out of memory", true, 1)
        .unwrap();
    assert_eq!(j.state, JobState::Queued);
    assert_eq!(j.failure.as_deref(), Some("attempt 1: out of memory"));
    // … and failed at once when retrying cannot help.
    let c = store.claim_job("w1", LEASE, 2).unwrap().unwrap();
    assert_eq!(c.job.attempts, 2);
    let j = store
        .fail_job(other.id, &c.lease_token, "not an audio file", false, 3)
        .unwrap();
    assert_eq!(j.state, JobState::Failed);
    assert_eq!(j.failure.as_deref(), Some("not an audio file"));
}

#[test]
fn cancel_and_retry() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    let job = added(store.add_job(&new_job(&sha_of('a'), 0)).unwrap());
    let claim = store.claim_job("w1", LEASE, 0).unwrap().unwrap();
    store
        .heartbeat(job.id, &claim.lease_token, &beat(1, Some("[1]")))
        .unwrap();
    let cancelled = store.cancel_job(job.id, "minh").unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(cancelled.worker, None);
    // Its worker learns at its next heartbeat.
    assert!(matches!(
        store.heartbeat(job.id, &claim.lease_token, &beat(2, None)),
        Err(Error::LeaseLost { state, .. }) if state == "cancelled"
    ));
    assert_eq!(
        store.cancel_job(job.id, "minh").unwrap().state,
        JobState::Cancelled
    );
    let retried = store.retry_job(job.id, "lan").unwrap();
    assert_eq!(retried.state, JobState::Queued);
    assert_eq!(retried.attempts, 0);
    assert_eq!(
        store.job_checkpoint(job.id).unwrap().as_deref(),
        Some("[1]")
    );
    assert!(matches!(
        store.retry_job(job.id, "lan"),
        Err(Error::JobRefused { .. })
    ));
    // Done: no cancelling.
    let claim = store.claim_job("w1", LEASE, 10).unwrap().unwrap();
    assert_eq!(claim.checkpoint.as_deref(), Some("[1]"));
    store
        .complete_job(job.id, &claim.lease_token, &common::doc('a', &["x"]), 20)
        .unwrap();
    assert!(matches!(
        store.cancel_job(job.id, "minh"),
        Err(Error::JobRefused { .. })
    ));
    // A cancelled job whose work was submitted again since is not retried.
    let b = added(store.add_job(&new_job(&sha_of('b'), 0)).unwrap());
    store.cancel_job(b.id, "lan").unwrap();
    added(store.add_job(&new_job(&sha_of('b'), 0)).unwrap());
    assert!(matches!(
        store.retry_job(b.id, "lan"),
        Err(Error::JobRefused { .. })
    ));
    assert!(matches!(
        store.cancel_job(999, "lan"),
        Err(Error::UnknownJob(999))
    ));
    let actions: Vec<_> = store
        .audit_log(50)
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("job_"))
        .map(|e| (e.actor, e.action))
        .collect();
    assert!(actions.contains(&("minh".into(), "job_cancel".into())));
    assert!(actions.contains(&("lan".into(), "job_retry".into())));
}

#[test]
fn jobs_survive_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (id, token) = {
        let mut store = common::open(dir.path());
        let job = added(store.add_job(&new_job(&sha_of('a'), 0)).unwrap());
        added(store.add_job(&new_job(&sha_of('b'), 0)).unwrap());
        let c = store.claim_job("w1", LEASE, 0).unwrap().unwrap();
        store
            .heartbeat(job.id, &c.lease_token, &beat(5_000, Some(r#"{"at":1}"#)))
            .unwrap();
        (job.id, c.lease_token)
    };
    let mut store = common::open(dir.path());
    let job = store.job(id).unwrap();
    assert_eq!(job.state, JobState::Running);
    assert_eq!(job.lease_expires_at, Some(15_000));
    assert_eq!(
        store.job_checkpoint(id).unwrap().as_deref(),
        Some(r#"{"at":1}"#)
    );
    // The worker that held it carries on after the restart …
    store.heartbeat(id, &token, &beat(6_000, None)).unwrap();
    // … or, gone, its job is taken again once the lease runs out.
    let next = store.claim_job("w2", LEASE, 7_000).unwrap().unwrap();
    assert_ne!(next.job.id, id, "the other, queued, job");
    let again = store.claim_job("w2", LEASE, 16_000).unwrap().unwrap();
    assert_eq!(again.job.id, id);
    assert_eq!(again.checkpoint.as_deref(), Some(r#"{"at":1}"#));
}

#[test]
fn lists_filter_by_state_and_submitter() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    let a = added(store.add_job(&new_job(&sha_of('a'), 0)).unwrap());
    let mut by_minh = new_job(&sha_of('b'), 0);
    by_minh.submitted_by = Some("minh".into());
    let b = added(store.add_job(&by_minh).unwrap());
    let c = added(store.add_job(&new_job(&sha_of('c'), 0)).unwrap());
    store.cancel_job(c.id, "lan").unwrap();
    let ids =
        |f: JobFilter| -> Vec<i64> { store.jobs(&f).unwrap().into_iter().map(|j| j.id).collect() };
    assert_eq!(
        ids(JobFilter::default()),
        [c.id, b.id, a.id],
        "newest first"
    );
    let queued = JobFilter {
        state: Some(JobState::Queued),
        ..JobFilter::default()
    };
    assert_eq!(ids(queued), [b.id, a.id]);
    let lans = JobFilter {
        submitted_by: Some("lan".into()),
        limit: Some(1),
        ..JobFilter::default()
    };
    assert_eq!(ids(lans), [c.id]);
}

#[test]
fn bad_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    type Spoil = Box<dyn Fn(&mut NewJob)>;
    let bad_jobs: Vec<(&str, Spoil)> = vec![
        ("short hash", Box::new(|j| j.audio.sha256 = "abc".into())),
        ("not hex", Box::new(|j| j.audio.sha256 = "g".repeat(64))),
        (
            "absolute path",
            Box::new(|j| j.audio.path = "/etc/passwd".into()),
        ),
        (
            "escaping path",
            Box::new(|j| j.audio.path = "a/../../x".into()),
        ),
        ("no name", Box::new(|j| j.audio.name = " ".into())),
        ("no model", Box::new(|j| j.settings.model = String::new())),
        (
            "channels",
            Box::new(|j| j.settings.channels = "left".into()),
        ),
        (
            "language",
            Box::new(|j| j.settings.language = Some("vi; DROP".into())),
        ),
        (
            "prompt",
            Box::new(|j| j.settings.prompt = Some("x".repeat(5000))),
        ),
        (
            "date",
            Box::new(|j| j.meta.sitting_date = Some("7/12/2026".into())),
        ),
        (
            "title",
            Box::new(|j| j.meta.title = Some("a\u{202E}b".into())),
        ),
        ("attempts", Box::new(|j| j.max_attempts = 0)),
        ("priority", Box::new(|j| j.priority = 1_000_000)),
    ];
    for (what, spoil) in bad_jobs {
        let mut job = new_job(&sha_of('a'), 0);
        spoil(&mut job);
        assert!(
            matches!(store.add_job(&job), Err(Error::Invalid(_))),
            "{what}"
        );
    }
    assert!(store.jobs(&JobFilter::default()).unwrap().is_empty());
    let job = added(store.add_job(&new_job(&sha_of('a'), 0)).unwrap());
    assert!(matches!(
        store.claim_job("", LEASE, 0),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        store.claim_job("w", Duration::ZERO, 0),
        Err(Error::Invalid(_))
    ));
    let c = store.claim_job("w", LEASE, 0).unwrap().unwrap();
    for (progress, checkpoint) in [(1.5, None), (f64::NAN, None), (0.1, Some("{not json"))] {
        let b = Heartbeat {
            progress,
            checkpoint,
            lease: LEASE,
            now_ms: 1,
        };
        assert!(matches!(
            store.heartbeat(job.id, &c.lease_token, &b),
            Err(Error::Invalid(_))
        ));
    }
    assert!(matches!(
        store.heartbeat(77, &c.lease_token, &beat(1, None)),
        Err(Error::UnknownJob(77))
    ));
    assert!(matches!(store.job(77), Err(Error::UnknownJob(77))));
}
