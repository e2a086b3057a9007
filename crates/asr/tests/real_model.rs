//! Tests against the real Whisper base model, converted by tocky's own
//! converter. They prove the conversion right end to end: a wrong tensor,
//! mel filter or vocabulary byte makes whisper.cpp refuse the file or emit
//! nonsense.
//!
//! The model is found through `TOCKY_MODEL` (a path) or the default cache;
//! `scripts/test` fetches it first. A missing model fails these tests
//! rather than skipping them.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fixture, model_path};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use tocky_asr::{DecodeOptions, Engine, EngineOptions, TranscribeOptions};
use tocky_audio::{DecodeOptions as AudioOptions, decode_file};
use tocky_core::text::scoring_words;
use tocky_core::wer::score;

/// One engine for all tests in this binary: loading takes a moment.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::load(&model_path(), &EngineOptions::default()).expect("model loads")
    })
}

fn options(language: &str) -> TranscribeOptions {
    TranscribeOptions {
        decode: DecodeOptions {
            language: language.into(),
            threads: 2,
            ..DecodeOptions::default()
        },
        ..TranscribeOptions::recommended()
    }
}

#[test]
fn converted_base_model_loads_with_its_hyperparameters() {
    let d = engine().describe();
    assert_eq!(d.size, "base");
    assert_eq!(d.n_vocab, 51865);
    assert_eq!(d.n_mels, 80);
    assert_eq!(d.n_audio_layer, 6);
    assert!(d.multilingual);
}

#[test]
fn english_speech_from_espeak_transcribes_within_ten_percent_wer() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("en.wav");
    let sentence = "The national assembly met this morning to discuss a new law on public health. \
                    Members asked the minister many questions about the budget for hospitals and schools.";
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "150", "-w"])
        .arg(&wav)
        .arg(sentence)
        .status()
        .expect("espeak-ng is installed (scripts/setup installs it)");
    assert!(status.success());

    // espeak-ng writes 22.05 kHz: this also exercises the resampler.
    let audio = decode_file(&wav, &AudioOptions::default()).unwrap();
    assert_eq!(audio.info.sample_rate, 22_050);
    let transcript = engine().transcribe(&audio.samples, &options("en")).unwrap();
    let counts = score(sentence, &transcript.text());
    assert!(
        counts.wer() <= 0.10,
        "WER {:.3} > 0.10: {:?}",
        counts.wer(),
        transcript.text()
    );
    assert_eq!(transcript.language, "en");
}

#[test]
fn vietnamese_fixture_contains_its_key_words_with_sane_times() {
    let path = fixture("vivos_VIVOSDEV01_R003.wav"); // "cũng lên tiếng ủng hộ các kiến nghị này"
    let audio = decode_file(&path, &AudioOptions::default()).unwrap();
    let transcript = engine().transcribe(&audio.samples, &options("vi")).unwrap();
    let words = scoring_words(&transcript.text());
    for key in ["lên tiếng", "ủng hộ"] {
        let key = scoring_words(key);
        assert!(
            words.windows(key.len()).any(|w| w == key.as_slice()),
            "{key:?} not in {:?}",
            transcript.text()
        );
    }
    assert_eq!(transcript.language, "vi");
    assert!(!transcript.segments.is_empty());
    let duration = audio.duration_ms();
    let mut last_start = 0;
    for s in &transcript.segments {
        assert!(
            s.start_ms <= s.end_ms && s.end_ms <= duration + 500,
            "{s:?} in {duration} ms"
        );
        assert!(!s.words.is_empty());
        for w in &s.words {
            assert!(w.start_ms >= last_start, "words out of order: {w:?}");
            assert!((0.0..=1.0).contains(&w.probability));
            last_start = w.start_ms;
        }
    }
}

#[test]
fn bad_inputs_and_options_are_errors_not_panics() {
    assert!(engine().transcribe(&[], &options("vi")).is_err());
    let silence = vec![0.0f32; 16_000];
    assert!(engine().transcribe(&silence, &options("xx")).is_err());
    let mut bad_beam = options("vi");
    bad_beam.decode.beam_size = 0;
    assert!(engine().transcribe(&silence, &bad_beam).is_err());

    let dir = tempfile::tempdir().unwrap();
    let not_a_model = dir.path().join("garbage.bin");
    std::fs::write(&not_a_model, b"definitely not a ggml file").unwrap();
    assert!(Engine::load(&not_a_model, &EngineOptions::default()).is_err());
    assert!(Engine::load(&dir.path().join("missing.bin"), &EngineOptions::default()).is_err());
}

/// Speaks `text` with espeak-ng and trims its silence with sox, so that the
/// speech starts and ends exactly at the file's edges.
fn spoken(dir: &Path, name: &str, text: &str, voice: &str) -> Vec<f32> {
    let raw = dir.join(format!("{name}.raw.wav"));
    let trimmed = dir.join(format!("{name}.wav"));
    let ok = Command::new("espeak-ng")
        .args(["-v", voice, "-w"])
        .arg(&raw)
        .arg(text)
        .status()
        .unwrap();
    assert!(ok.success());
    let ok = Command::new("sox")
        .arg(&raw)
        .args(["-r", "16000"])
        .arg(&trimmed)
        .args([
            "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse",
        ])
        .status()
        .expect("sox is installed (scripts/setup installs it)");
    assert!(ok.success());
    decode_file(&trimmed, &AudioOptions::default())
        .unwrap()
        .samples
}

fn quiet(seconds: f32) -> Vec<f32> {
    vec![0.0; (seconds * 16_000.0) as usize]
}

#[test]
fn word_times_match_known_positions() {
    let dir = tempfile::tempdir().unwrap();
    let mut audio = quiet(1.5);
    let mut expected = Vec::new();
    for word in ["parliament", "budget", "education", "hospital"] {
        let speech = spoken(dir.path(), word, word, "en-us");
        let start = audio.len() as u64 * 1000 / 16_000;
        audio.extend_from_slice(&speech);
        let end = audio.len() as u64 * 1000 / 16_000;
        expected.push((word, start, end));
        audio.extend(quiet(1.2));
    }
    let t = engine().transcribe(&audio, &options("en")).unwrap();
    let words: Vec<_> = t.segments.iter().flat_map(|s| &s.words).collect();
    for (word, start, end) in expected {
        let found = words
            .iter()
            .find(|w| {
                scoring_words(&w.text)
                    .first()
                    .is_some_and(|x| x.starts_with(&word[..5]))
            })
            .unwrap_or_else(|| panic!("{word} not found in {words:?}"));
        assert!(
            found.start_ms.abs_diff(start) <= 200,
            "{word}: starts at {} ms, spoken at {start} ms",
            found.start_ms
        );
        assert!(
            found.end_ms.abs_diff(end) <= 500,
            "{word}: ends at {} ms, spoken until {end} ms",
            found.end_ms
        );
    }
}

#[test]
fn silence_tones_and_noise_give_no_words() {
    // Brown noise made by integrating a fixed pseudo-random sequence: the
    // kind of rumble that the VAD passes and Whisper likes to caption.
    let mut x = 2_463_534_242u32;
    let mut level = 0.0f32;
    let brown: Vec<f32> = (0..16_000 * 8)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            level = (level + (x as f32 / u32::MAX as f32 - 0.5) * 0.04).clamp(-0.5, 0.5);
            level
        })
        .collect();
    let tone: Vec<f32> = (0..16_000 * 8)
        .map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / 16_000.0).sin() * 0.3)
        .collect();
    for (name, audio) in [
        ("silence", quiet(10.0)),
        ("brown noise", brown),
        ("a 440 Hz tone", tone),
    ] {
        for vad in [true, false] {
            let mut opts = options("vi");
            if !vad {
                opts.vad = None;
            }
            let t = engine().transcribe(&audio, &opts).unwrap();
            assert!(
                t.segments.is_empty(),
                "{name} (vad {vad}) gave {:?}",
                t.text()
            );
        }
    }
}

#[test]
fn pauses_between_speeches_stay_empty_and_times_stay_absolute() {
    let a = decode_file(
        &fixture("vivos_VIVOSSPK01_R003.wav"),
        &AudioOptions::default(),
    )
    .unwrap()
    .samples;
    let b = decode_file(
        &fixture("vivos_VIVOSSPK01_R048.wav"),
        &AudioOptions::default(),
    )
    .unwrap()
    .samples;
    let b_start_ms = (2.0 + a.len() as f32 / 16_000.0 + 20.0) * 1000.0;
    let audio = [quiet(2.0), a, quiet(20.0), b, quiet(3.0)].concat();
    let t = engine().transcribe(&audio, &options("vi")).unwrap();
    let silence = (b_start_ms as u64 - 19_500)..(b_start_ms as u64 - 500);
    for w in t.segments.iter().flat_map(|s| &s.words) {
        assert!(
            !silence.contains(&w.start_ms) && !silence.contains(&w.end_ms),
            "{w:?} lies in the pause"
        );
    }
    let text = t.text().to_lowercase();
    assert!(text.contains("công nghiệp phát triển"), "{text}");
    assert!(text.contains("khả năng"), "{text}");
    let second = t
        .segments
        .iter()
        .find(|s| s.text.to_lowercase().contains("khả năng"))
        .unwrap();
    assert!(
        second.start_ms >= b_start_ms as u64 - 500,
        "{second:?} should start after {b_start_ms} ms"
    );
}

#[test]
fn a_prompt_does_not_make_loops_and_keeps_accuracy() {
    let clips = [
        "vivos_VIVOSSPK01_R003.wav",
        "vivos_VIVOSDEV01_R003.wav",
        "vivos_VIVOSSPK01_R048.wav",
    ];
    let prompt =
        "Quốc hội, đại biểu Quốc hội, Luật Đất đai, công nghiệp, kiến nghị, Quốc hội Quốc hội";
    let (mut plain, mut primed) = (
        tocky_core::wer::ErrorCounts::default(),
        tocky_core::wer::ErrorCounts::default(),
    );
    for name in clips {
        let audio = decode_file(&fixture(name), &AudioOptions::default())
            .unwrap()
            .samples;
        let reference = std::fs::read_to_string(fixture(&name.replace(".wav", ".txt"))).unwrap();
        plain += score(
            &reference,
            &engine().transcribe(&audio, &options("vi")).unwrap().text(),
        );
        let mut opts = options("vi");
        opts.decode.prompt = Some(prompt.into());
        let text = engine().transcribe(&audio, &opts).unwrap().text();
        assert!(
            !tocky_asr::guard::has_loop(&text),
            "the prompt made {name} loop: {text}"
        );
        assert!(
            !text.contains("Luật Đất đai"),
            "the prompt leaked into {name}: {text}"
        );
        primed += score(&reference, &text);
    }
    assert!(
        primed.wer() <= plain.wer() + 0.10,
        "prompted WER {:.3} vs {:.3}",
        primed.wer(),
        plain.wer()
    );
}
