//! The real model on sittings joined from fixture clips, where a VAD
//! window packs speech regions with pauses between them: each word is
//! timed in the clip where it is said, with a length; a sentence is not
//! cut at a join; and a resumed run decodes what an uninterrupted one
//! does.
//!
//! Kept short for CI: greedy decoding, about a minute of audio per test.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::{fixture, model_path};
use tocky_asr::{
    Checkpoint, DecodeOptions, Engine, EngineOptions, Guards, ReaderHooks, TranscribeOptions,
};
use tocky_audio::{AudioReader, DecodeOptions as AudioOptions, decode_file};
use tocky_core::Transcript;

const RATE: usize = 16_000;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::load(&model_path(), &EngineOptions::default()).expect("model loads")
    })
}

fn options(guards: Guards) -> TranscribeOptions {
    TranscribeOptions {
        decode: DecodeOptions {
            language: "vi".into(),
            threads: 2,
            beam_size: 1,
            ..DecodeOptions::default()
        },
        guards,
        ..TranscribeOptions::recommended()
    }
}

/// Where a clip lies in a sitting (ms).
#[derive(Debug)]
struct Placed {
    name: &'static str,
    start_ms: u64,
    end_ms: u64,
    words: usize,
}

/// Quiet room tone: a deterministic noise at about -50 dBFS.
fn room_tone(out: &mut Vec<f32>, ms: usize, seed: &mut u32) {
    for _ in 0..ms * RATE / 1000 {
        *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        out.push((f64::from(*seed >> 8) / f64::from(1u32 << 24) - 0.5) as f32 * 0.006);
    }
}

/// The clips in order, a pause of room tone before each (`pauses_ms`,
/// cycled), as one 16 kHz recording.
fn sitting(clips: &[&'static str], pauses_ms: &[usize]) -> (Vec<f32>, Vec<Placed>) {
    let mut samples = Vec::new();
    let mut placed = Vec::new();
    let mut seed = 7;
    for (i, name) in clips.iter().enumerate() {
        room_tone(&mut samples, pauses_ms[i % pauses_ms.len()], &mut seed);
        let audio =
            decode_file(&fixture(&format!("{name}.wav")), &AudioOptions::default()).unwrap();
        let start_ms = (samples.len() * 1000 / RATE) as u64;
        samples.extend_from_slice(&audio.samples);
        let text = std::fs::read_to_string(fixture(&format!("{name}.txt"))).unwrap();
        placed.push(Placed {
            name,
            start_ms,
            end_ms: (samples.len() * 1000 / RATE) as u64,
            words: text.split_whitespace().count(),
        });
    }
    room_tone(&mut samples, 1000, &mut seed);
    (samples, placed)
}

/// Nine clips of one to four seconds' speech, with pauses from under a
/// second to the length of a coffee break: several clips to a window.
const CLIPS: [&str; 9] = [
    "vivos_VIVOSSPK01_R002",
    "vivos_VIVOSSPK01_R003",
    "vivos_VIVOSSPK01_R004",
    "vivos_VIVOSSPK01_R006",
    "vivos_VIVOSSPK01_R007",
    "vivos_VIVOSSPK01_R009",
    "vivos_VIVOSSPK01_R010",
    "vivos_VIVOSSPK01_R011",
    "vivos_VIVOSSPK01_R019",
];
const PAUSES_MS: [usize; 4] = [700, 1500, 12_000, 900];

#[test]
fn words_at_the_joins_of_speech_regions_are_timed_in_their_own_clip() {
    let (samples, placed) = sitting(&CLIPS, &PAUSES_MS);
    let t = engine()
        .transcribe(&samples, &options(Guards::default()))
        .unwrap();
    let words: Vec<_> = t.segments.iter().flat_map(|s| &s.words).collect();
    assert!(words.len() > 50, "{}", t.text());

    let zero: Vec<_> = words.iter().filter(|w| w.end_ms <= w.start_ms).collect();
    assert!(zero.is_empty(), "zero-length words: {zero:?}");

    // Each word lies in the stretch of one clip (its padding included),
    // never in the pause between two.
    for w in &words {
        let inside = placed
            .iter()
            .any(|c| w.start_ms + 250 >= c.start_ms && w.end_ms <= c.end_ms + 250);
        assert!(inside, "{w:?} lies between clips: {placed:?}");
    }

    // No clip is one or two words long, so no segment should be.
    assert!(placed.iter().all(|c| c.words > 2));
    let fragments: Vec<_> = t
        .segments
        .iter()
        .filter(|s| s.words.len() <= 2)
        .map(|s| (s.start_ms, s.text.as_str()))
        .collect();
    assert!(fragments.is_empty(), "fragments: {fragments:?}");

    // A segment never spans two clips: a sentence is split at the pause
    // between them, and only there.
    for s in &t.segments {
        let clips: Vec<_> = placed
            .iter()
            .filter(|c| s.start_ms < c.end_ms + 250 && s.end_ms + 250 > c.start_ms)
            .map(|c| c.name)
            .collect();
        assert_eq!(clips.len(), 1, "{s:?} spans {clips:?}");
    }
}

/// Writes 16 kHz mono 16-bit PCM as a WAV file.
fn write_wav(path: &Path, samples: &[f32]) {
    let data: Vec<u8> = samples
        .iter()
        .flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
        .collect();
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&(RATE as u32).to_le_bytes());
    out.extend_from_slice(&(RATE as u32 * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    std::fs::write(path, out).unwrap();
}

fn transcribe_file(
    path: &Path,
    opts: &TranscribeOptions,
    resume: Option<Checkpoint>,
) -> (Transcript, Vec<Checkpoint>) {
    let mut reader = AudioReader::open(path, &AudioOptions::default()).unwrap();
    let mut checkpoints = Vec::new();
    let hooks = ReaderHooks {
        progress: &mut |_| {},
        checkpoint: &mut |c| checkpoints.push(c.clone()),
        resume,
    };
    let (t, _) = engine()
        .transcribe_reader_with(&mut reader, opts, hooks)
        .unwrap();
    (t, checkpoints)
}

#[test]
fn a_resumed_run_says_what_an_uninterrupted_run_does() {
    // Every window sampled at a temperature above 0, as fallbacks are:
    // whisper.cpp draws those samples from a generator that its decoder
    // state carries from one window to the next. One candidate, so that
    // what that generator draws is what the window says.
    let opts = options(Guards {
        temperatures: vec![0.6],
        best_of: 1,
        ..Guards::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("sitting.wav");
    // A pause over VadOptions::max_pause_ms closes a window: four windows.
    let (samples, _) = sitting(&CLIPS, &[800, 800, 31_000]);
    write_wav(&wav, &samples);

    let (whole, checkpoints) = transcribe_file(&wav, &opts, None);
    assert!(checkpoints.len() >= 3, "{checkpoints:?}");
    // Resumed after the first window, every later window is decoded by a
    // run that never saw the first: the most windows that could differ,
    // for the least decoding (CI runs on 2 cores).
    let at = &checkpoints[0];
    let (resumed, _) = transcribe_file(&wav, &opts, Some(at.clone()));
    assert_eq!(
        resumed.text(),
        whole.text(),
        "resumed after window 1 at {} ms",
        at.decoded_until_ms
    );
    assert_eq!(resumed, whole);
}
