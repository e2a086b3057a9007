//! The VAD segmenter on real Vietnamese speech from the fixtures.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use tocky_audio::vad::{Segmenter, VadOptions, Window, segment};
use tocky_audio::{DecodeOptions, decode_file};

const RATE: usize = 16_000;

fn clip(name: &str) -> Vec<f32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/vi")
        .join(name);
    decode_file(&path, &DecodeOptions::default())
        .unwrap()
        .samples
}

fn silence(seconds: f32) -> Vec<f32> {
    vec![0.0; (seconds * RATE as f32) as usize]
}

/// Speech spans (seconds) as the windows' pieces say.
fn spans(windows: &[Window]) -> Vec<(f64, f64)> {
    windows
        .iter()
        .flat_map(|w| &w.pieces)
        .map(|p| {
            (
                p.source_start as f64 / RATE as f64,
                (p.source_start + p.len as u64) as f64 / RATE as f64,
            )
        })
        .collect()
}

#[test]
fn speech_is_found_and_long_silence_left_out() {
    let a = clip("vivos_VIVOSSPK01_R003.wav");
    let b = clip("vivos_VIVOSDEV01_R003.wav");
    let (a_start, a_end) = (1.0, 1.0 + a.len() as f64 / RATE as f64);
    let b_start = a_end + 6.0;
    let b_end = b_start + b.len() as f64 / RATE as f64;
    let audio = [silence(1.0), a, silence(6.0), b, silence(2.0)].concat();

    let windows = segment(&audio, &VadOptions::default());
    let spans = spans(&windows);
    assert!(!spans.is_empty());
    // VIVOS clips carry ~0.5 s of silence at each end, hence 60 % coverage.
    // Every span lies within a clip (give or take the padding); the middle of the
    // long pause is never sent to the decoder.
    for &(s, e) in &spans {
        let in_a = s >= a_start - 0.5 && e <= a_end + 0.5;
        let in_b = s >= b_start - 0.5 && e <= b_end + 0.5;
        assert!(
            in_a || in_b,
            "span {s:.2}-{e:.2} outside speech ({a_start}-{a_end:.2}, {b_start:.2}-{b_end:.2})"
        );
    }
    let covered = |from: f64, to: f64| {
        spans
            .iter()
            .map(|&(s, e)| (e.min(to) - s.max(from)).max(0.0))
            .sum::<f64>()
    };
    assert!(
        covered(a_start, a_end) > 0.6 * (a_end - a_start),
        "{spans:?}"
    );
    assert!(
        covered(b_start, b_end) > 0.6 * (b_end - b_start),
        "{spans:?}"
    );
    // Both short speeches fit one window; the gap between them is shrunk.
    assert_eq!(windows.len(), 1);
    assert!(windows[0].samples.len() < audio.len() - 4 * RATE);
}

#[test]
fn continuous_speech_is_cut_into_windows_that_fit_whisper() {
    let names = [
        "vivos_VIVOSSPK01_R002.wav",
        "vivos_VIVOSSPK01_R003.wav",
        "vivos_VIVOSSPK01_R004.wav",
        "vivos_VIVOSSPK01_R006.wav",
        "vivos_VIVOSSPK01_R007.wav",
        "vivos_VIVOSSPK01_R009.wav",
        "vivos_VIVOSSPK01_R010.wav",
        "vivos_VIVOSSPK01_R011.wav",
        "vivos_VIVOSSPK01_R019.wav",
        "vivos_VIVOSSPK01_R021.wav",
        "vivos_VIVOSSPK01_R024.wav",
        "vivos_VIVOSSPK01_R025.wav",
    ];
    let audio: Vec<f32> = names.iter().flat_map(|n| clip(n)).collect();
    assert!(audio.len() > 45 * RATE);
    let opts = VadOptions::default();
    let windows = segment(&audio, &opts);
    assert!(windows.len() >= 2);
    for w in &windows {
        assert!(
            w.samples.len() <= (opts.max_window_ms as usize) * RATE / 1000,
            "window of {} samples",
            w.samples.len()
        );
    }
    // Windows are in order and do not overlap.
    let spans = spans(&windows);
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0 + 1e-9, "{pair:?}");
    }
    let speech: f64 = spans.iter().map(|(s, e)| e - s).sum();
    assert!(
        speech > 0.7 * audio.len() as f64 / RATE as f64,
        "only {speech:.1} s kept"
    );
}

#[test]
fn streaming_in_odd_chunks_gives_the_same_windows() {
    let audio = [
        silence(0.5),
        clip("vivos_VIVOSDEV01_R012.wav"),
        silence(3.0),
        clip("vivos_VIVOSDEV01_R027.wav"),
    ]
    .concat();
    let whole = segment(&audio, &VadOptions::default());
    let mut s = Segmenter::new(VadOptions::default());
    let mut streamed = Vec::new();
    for chunk in audio.chunks(1_000) {
        streamed.extend(s.push(chunk));
    }
    streamed.extend(s.finish());
    assert_eq!(spans(&whole), spans(&streamed));
    assert_eq!(
        whole.iter().map(|w| w.samples.clone()).collect::<Vec<_>>(),
        streamed
            .iter()
            .map(|w| w.samples.clone())
            .collect::<Vec<_>>()
    );
}

#[test]
fn memory_stays_bounded_over_hours_of_audio() {
    // Two hours: silence with a speech every ten minutes, fed as a decoder
    // would, in 64k-sample chunks. The segmenter must never hold more than
    // about one window, however long the stream.
    let speech = clip("vivos_VIVOSSPK01_R003.wav");
    let opts = VadOptions::default();
    let limit = (opts.max_window_ms as usize + 2_000) * RATE / 1000;
    let mut s = Segmenter::new(opts);
    let silence_chunk = vec![0.0f32; 1 << 16];
    let (mut fed, mut windows, mut peak) = (0usize, 0usize, 0usize);
    let mut next_speech = 0;
    while fed < 2 * 3600 * RATE {
        let chunk = if fed >= next_speech {
            next_speech += 600 * RATE;
            &speech
        } else {
            &silence_chunk
        };
        windows += s.push(chunk).len();
        fed += chunk.len();
        peak = peak.max(s.buffered_samples());
    }
    windows += s.finish().len();
    assert!(peak <= limit, "held {peak} samples (limit {limit})");
    // Speeches ten minutes apart are not packed together.
    assert_eq!(windows, 12, "12 speeches ten minutes apart");
}
