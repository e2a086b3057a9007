//! `tocky live` capturing a real sound device: a private PulseAudio
//! daemon's null sink, played into with `paplay` and captured from its
//! monitor through cpal (ALSA's `pulse` device), with the real model.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/capture/tests/support/pulse.rs"]
mod pulse_server;
mod support;

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use pulse_server::Pulse;
use support::{Live, RATE, archive_seconds, fixture, reference};
use tocky_store::{Store, StoredSegment};

const CLIP_A: &str = "vivos_VIVOSDEV01_R003";
const CLIP_B: &str = "vivos_VIVOSDEV01_R012";

/// The daemon's environment, for `tocky live` (its cookie is in HOME, so
/// the model is named by path rather than found in HOME's cache).
fn pulse_env(dir: &Path) -> Vec<(&'static str, OsString)> {
    vec![
        ("PULSE_RUNTIME_PATH", dir.into()),
        ("XDG_RUNTIME_DIR", dir.into()),
        ("HOME", dir.into()),
        (
            "PULSE_SERVER",
            format!("unix:{}", dir.join("native").display()).into(),
        ),
    ]
}

fn model_path() -> OsString {
    let out = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .args(["model", "path"])
        .output()
        .unwrap();
    assert!(out.status.success(), "run `tocky model fetch` first");
    String::from_utf8(out.stdout).unwrap().trim().into()
}

fn start(dir: &Path, pulse_dir: &Path) -> Live {
    let args: Vec<OsString> = vec![
        "--audio-device".into(),
        "pulse".into(),
        "--model".into(),
        model_path(),
    ];
    Live::start(dir, &args, &pulse_env(pulse_dir))
}

/// Plays a fixture into the null sink and waits until it has played.
fn play(pulse: &Pulse, clip: &str) {
    let status = pulse.play(&fixture(&format!("{clip}.wav"))).wait().unwrap();
    assert!(status.success(), "paplay failed");
}

/// Stops `tocky live` as Ctrl-C would; returns its output.
fn stop(mut live: Live, dir: &Path) -> String {
    let status = Command::new("kill")
        .args(["-TERM", &live.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    live.wait(dir)
}

fn segments(dir: &Path, session: i64) -> Vec<StoredSegment> {
    Store::open(&dir.join("record.db"))
        .unwrap()
        .segments(session)
        .unwrap()
}

/// Waits until the session has more than `count` segments.
fn wait_for_segments(dir: &Path, live: &Live, count: usize) -> Vec<StoredSegment> {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let found = segments(dir, live.session);
        if found.len() > count {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no new final after {count}: {}",
            live.stderr(dir)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn text(segments: &[StoredSegment]) -> String {
    segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn wav_samples(path: &Path) -> Vec<f32> {
    let mut reader = hound::WavReader::open(path).unwrap();
    assert_eq!(reader.spec().sample_rate, RATE);
    let channels = usize::from(reader.spec().channels);
    reader
        .samples::<i16>()
        .step_by(channels)
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect()
}

/// From the first to the last loud 20 ms frame, in seconds: the span of
/// the speech, wherever it sits in the recording.
fn loud_span(samples: &[f32]) -> f64 {
    let frame = (RATE / 50) as usize;
    let energy: Vec<f32> = samples
        .chunks(frame)
        .map(|c| (c.iter().map(|v| v * v).sum::<f32>() / c.len() as f32).sqrt())
        .collect();
    let peak = energy.iter().copied().fold(0.0, f32::max);
    let loud: Vec<usize> = (0..energy.len())
        .filter(|&i| energy[i] > peak * 0.1)
        .collect();
    match (loud.first(), loud.last()) {
        (Some(a), Some(b)) => (b - a + 1) as f64 * 0.02,
        _ => 0.0,
    }
}

fn archive_path(dir: &Path) -> std::path::PathBuf {
    std::fs::read_dir(dir.join("audio"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

#[test]
fn speech_played_into_the_hall_device_is_transcribed_and_archived_whole() {
    let _alone = support::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let pulse_dir = dir.path().join("pulse");
    std::fs::create_dir(&pulse_dir).unwrap();
    let pulse = Pulse::start(&pulse_dir, "tocky_test.monitor");
    let live = start(dir.path(), &pulse_dir);
    std::thread::sleep(Duration::from_secs(1));
    play(&pulse, CLIP_A);
    let found = wait_for_segments(dir.path(), &live, 0);
    std::thread::sleep(Duration::from_secs(1));
    let session = live.session;
    let captured = live.capturing.elapsed().as_secs_f64();
    let stdout = stop(live, dir.path());

    // The key words are heard (the reference is "cũng lên tiếng ủng hộ
    // các kiến nghị này").
    let heard = text(&segments(dir.path(), session));
    let words = tocky_core::text::scoring_words(&heard);
    // Keys go through the same canonical form as the heard words (tone
    // marks become a trailing digit there).
    for key in ["lên", "tiếng", "ủng"] {
        let canonical = tocky_core::text::scoring_words(key);
        assert!(
            words.iter().any(|w| canonical.contains(w)),
            "{key:?} not in {heard:?}\n{stdout}"
        );
    }
    let wer = tocky_core::wer::score(&reference(CLIP_A), &heard).wer();
    assert!(wer < 0.7, "WER {wer:.2}: {heard:?} ({found:?})\n{stdout}");
    assert!(stdout.contains("0 overrun(s), 0 gap(s)"), "{stdout}");

    // The archive runs on the capture's clock: never longer than the time
    // captured, and short of it by no more than the audio server's start.
    // (A null sink's monitor delivers nothing for its first ~2 s: parecord
    // shows the same, so that time never reaches any client.)
    let archived = archive_seconds(dir.path());
    assert!(
        archived <= captured + 0.3 && archived >= captured - 2.5,
        "archive {archived:.2} s, captured for {captured:.2} s"
    );
    let played = loud_span(&wav_samples(&fixture(&format!("{CLIP_A}.wav"))));
    let recorded = loud_span(&wav_samples(&archive_path(dir.path())));
    assert!(
        (played - recorded).abs() < 0.15,
        "speech of {played:.2} s archived as {recorded:.2} s"
    );
}

#[test]
fn a_restart_of_the_audio_server_is_reported_and_recording_resumes() {
    let _alone = support::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let pulse_dir = dir.path().join("pulse");
    std::fs::create_dir(&pulse_dir).unwrap();
    let mut pulse = Pulse::start(&pulse_dir, "tocky_test.monitor");
    let live = start(dir.path(), &pulse_dir);
    std::thread::sleep(Duration::from_secs(1));
    play(&pulse, CLIP_A);
    let before = wait_for_segments(dir.path(), &live, 0);

    // The audio server goes away, and comes back.
    pulse.kill();
    std::thread::sleep(Duration::from_secs(3));
    pulse.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !live.stderr(dir.path()).contains("capture device back") {
        assert!(
            Instant::now() < deadline,
            "not reconnected: {}",
            live.stderr(dir.path())
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    play(&pulse, CLIP_B);
    let after = wait_for_segments(dir.path(), &live, before.len());
    std::thread::sleep(Duration::from_secs(1));
    let session = live.session;
    let captured = live.capturing.elapsed().as_secs_f64();
    let stderr = live.stderr(dir.path());
    let stdout = stop(live, dir.path());

    assert!(stderr.contains("capture device lost"), "{stderr}");
    assert!(stderr.contains("audio gap"), "{stderr}");
    assert!(!stdout.contains(" 0 gap(s)"), "{stdout}");

    // The store is consistent: what was stored before the loss is intact,
    // the speech after it is there, later in time, and the file passes
    // its integrity check (a backup runs it).
    let all = segments(dir.path(), session);
    assert_eq!(&all[..before.len()], &before[..]);
    assert!(all.len() >= after.len());
    let later = &all[before.len()..];
    assert!(later[0].start_ms >= before.last().unwrap().end_ms);
    let heard = text(later);
    let wer = tocky_core::wer::score(&reference(CLIP_B), &heard).wer();
    assert!(wer < 0.6, "WER {wer:.2} after the restart: {heard:?}");
    let backup = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("--db")
        .arg(dir.path().join("record.db"))
        .arg("backup")
        .arg(dir.path().join("check.db"))
        .output()
        .unwrap();
    assert!(backup.status.success());
    // The gap is silence in the archive: its clock is still the hall's.
    let archived = archive_seconds(dir.path());
    assert!(
        (archived - captured).abs() < 2.0,
        "archive {archived:.2} s, captured for {captured:.2} s\n{stdout}"
    );
}
