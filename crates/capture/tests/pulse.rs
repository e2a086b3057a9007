//! Capture through cpal from a real PulseAudio server.
//!
//! Each test starts its own `pulseaudio` daemon in a private runtime
//! directory, with a null sink `tocky_test` whose monitor is the default
//! source. cpal's ALSA host reaches it through the ALSA `pulse` device
//! (Debian's `libasound2-plugins`). The client side must see the daemon's
//! `PULSE_SERVER` in its environment, which a test may not set on itself
//! (`unsafe_code` is forbidden), so each test re-runs this test binary with
//! the environment set, and the `inner_*` test does the capture there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/pulse.rs"]
mod pulse_server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pulse_server::{Pulse, with_env};

use tocky_capture::{CaptureEvent, CpalOptions, CpalSource, Source};

const FIXTURE: &str = "fixtures/vi/vivos_VIVOSSPK01_R003.wav";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the test `name` of this binary in a child process whose
/// environment points at a daemon in a fresh directory; the child starts
/// (and stops) that daemon.
fn run_inner(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let status = with_env(Command::new(std::env::current_exe().unwrap()), dir.path())
        .args([name, "--exact", "--include-ignored", "--nocapture"])
        .env("TOCKY_PULSE_DIR", dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "{name} failed");
}

/// In the child: starts the daemon, or `None` when run outside `run_inner`.
fn inner_pulse(source: &str) -> Option<Pulse> {
    let dir = std::env::var_os("TOCKY_PULSE_DIR")?;
    Some(Pulse::start(Path::new(&dir), source))
}

fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|v| v * v).sum::<f32>() / samples.len() as f32).sqrt()
}

#[test]
fn captures_a_played_file_from_the_monitor_of_a_null_sink() {
    run_inner("inner_capture");
}

#[test]
#[ignore = "run by captures_a_played_file_from_the_monitor_of_a_null_sink, with the daemon's environment"]
fn inner_capture() {
    let Some(pulse) = inner_pulse("tocky_test.monitor") else {
        return;
    };
    let fixture = repo_root().join(FIXTURE);
    let reference = tocky_audio::decode_file(&fixture, &Default::default()).unwrap();
    let expected_s = reference.samples.len() as f32 / 16_000.0;

    let mut source = CpalSource::open(&CpalOptions {
        device: Some("pulse".into()),
        channels: vec![0, 1],
        ring_seconds: 2.0,
        ..CpalOptions::default()
    })
    .unwrap();
    assert_eq!(source.channels(), 2);
    eprintln!(
        "capturing from {} at {} Hz",
        source.device_name(),
        source.device_rate()
    );
    // Half a second of silence, the file, then silence again.
    let started = Instant::now();
    let mut player = None;
    let mut left = Vec::new();
    let mut next = 0;
    while started.elapsed() < Duration::from_secs_f32(expected_s + 2.5) {
        if player.is_none() && started.elapsed() > Duration::from_millis(500) {
            player = Some(pulse.play(&fixture));
        }
        match source.next_event(Duration::from_millis(100)).unwrap() {
            Some(CaptureEvent::Audio(b)) => {
                assert_eq!(b.start_frame, next, "blocks tile the timeline");
                next = b.end_frame();
                assert_eq!(b.channels.len(), 2);
                left.extend_from_slice(&b.channels[0]);
            }
            Some(other) => panic!("unexpected {other:?}"),
            None => {}
        }
    }
    assert!(player.unwrap().wait().unwrap().success(), "paplay failed");
    let stats = source.stats();
    eprintln!("stats: {stats:?}");
    assert_eq!(stats.overruns, 0);
    assert_eq!(stats.gaps, 0);
    assert!(stats.connected);
    assert_eq!(stats.frames_captured, left.len() as u64);
    // A null sink's monitor runs only while something plays, and the
    // server buffers: the capture is at least the file, at most the wall time.
    let wall = started.elapsed().as_secs_f32();
    let captured_s = left.len() as f32 / 16_000.0;
    eprintln!("captured {captured_s:.2} s in {wall:.2} s");
    assert!(
        captured_s > expected_s && captured_s <= wall + 0.1,
        "captured {captured_s} s in {wall} s"
    );
    // The speech is there, as long as in the file.
    let loud_span = |samples: &[f32]| -> (usize, f32) {
        let loud: Vec<usize> = samples
            .chunks(160)
            .enumerate()
            .filter(|(_, c)| rms(c) > 0.01)
            .map(|(i, _)| i)
            .collect();
        let (first, last) = (loud[0], loud[loud.len() - 1]);
        (first, (last - first + 1) as f32 * 0.01)
    };
    let (first, span_s) = loud_span(&left);
    let (_, reference_span_s) = loud_span(&reference.samples);
    let speech = &left[first * 160..first * 160 + (span_s * 16_000.0) as usize];
    eprintln!(
        "speech from {:.2} s for {span_s:.2} s (in the file: {reference_span_s:.2} s), rms {:.3}",
        first as f32 * 0.01,
        rms(speech),
    );
    assert!(
        (span_s - reference_span_s).abs() < 0.3,
        "speech lasts {span_s} s, in the file {reference_span_s} s"
    );
    assert!(rms(speech) > 0.02, "rms {}", rms(speech));
}

#[test]
fn a_killed_audio_server_is_a_gap_and_capture_resumes() {
    run_inner("inner_server_restart");
}

#[test]
#[ignore = "run by a_killed_audio_server_is_a_gap_and_capture_resumes, with the daemon's environment"]
fn inner_server_restart() {
    let Some(mut pulse) = inner_pulse("tocky_sine") else {
        return;
    };
    let mut source = CpalSource::open(&CpalOptions {
        device: Some("pulse".into()),
        channels: vec![0],
        buffer_frames: Some(1024),
        stall_timeout: Duration::from_secs(3),
        backoff: tocky_capture::Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(1),
        },
        ..CpalOptions::default()
    })
    .unwrap();

    let mut next = 0;
    let mut pump = |source: &mut CpalSource, for_s: f32| -> Vec<CaptureEvent> {
        let until = Instant::now() + Duration::from_secs_f32(for_s);
        let mut events = Vec::new();
        while Instant::now() < until {
            match source.next_event(Duration::from_millis(50)).unwrap() {
                Some(CaptureEvent::Audio(b)) => {
                    assert_eq!(b.start_frame, next, "blocks tile the timeline");
                    next = b.end_frame();
                    events.push(CaptureEvent::Audio(b));
                }
                Some(CaptureEvent::Gap {
                    at_frame,
                    missing_frames,
                    reason,
                }) => {
                    assert_eq!(at_frame, next, "a gap starts where the audio ends");
                    next = at_frame + missing_frames;
                    events.push(CaptureEvent::Gap {
                        at_frame,
                        missing_frames,
                        reason,
                    });
                }
                Some(CaptureEvent::Ended) => panic!("a device does not end"),
                None => {}
            }
        }
        events
    };

    let before = pump(&mut source, 1.5);
    assert!(
        before.iter().all(|e| matches!(e, CaptureEvent::Audio(_))),
        "{:?}",
        before
            .iter()
            .filter(|e| !matches!(e, CaptureEvent::Audio(_)))
            .collect::<Vec<_>>()
    );
    let captured_before = source.stats().frames_captured;
    assert!(
        captured_before > 16_000,
        "{captured_before} frames in 1.5 s"
    );

    let killed_at = Instant::now();
    pulse.kill();
    let during = pump(&mut source, 4.5);
    assert!(
        during.iter().all(|e| matches!(e, CaptureEvent::Audio(_))),
        "no gap can be sized before the device is back: {during:?}"
    );
    assert!(
        !source.stats().connected,
        "the loss is visible in the stats"
    );

    pulse.restart();
    let down_s = killed_at.elapsed().as_secs_f32();
    let after = pump(&mut source, 6.0);
    let gaps: Vec<_> = after
        .iter()
        .filter_map(|e| match e {
            CaptureEvent::Gap {
                missing_frames,
                reason,
                ..
            } => Some((*missing_frames, reason.clone())),
            _ => None,
        })
        .collect();
    eprintln!(
        "down for ~{down_s:.2} s; gaps {gaps:?}; stats {:?}",
        source.stats()
    );
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let (missing, reason) = &gaps[0];
    assert!(reason.contains("device lost"), "{reason}");
    let missing_s = *missing as f32 / 16_000.0;
    // The gap covers the time the server was away (at least the 4.5 s
    // waited), plus the reopening (back-off up to 1 s, the stream's start).
    assert!(
        missing_s > 4.0 && missing_s < down_s + 4.0,
        "gap {missing_s} s for ~{down_s} s down"
    );
    let audio_after: usize = after
        .iter()
        .skip_while(|e| !matches!(e, CaptureEvent::Gap { .. }))
        .filter_map(|e| match e {
            CaptureEvent::Audio(b) => Some(b.frames()),
            _ => None,
        })
        .sum();
    assert!(
        audio_after > 16_000,
        "capture resumed: {audio_after} frames"
    );
    let stats = source.stats();
    assert!(stats.connected);
    assert_eq!(stats.gaps, 1);
    assert_eq!(source.reopens(), 1);
    pulse.kill();
}
