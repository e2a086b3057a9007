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

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use tocky_asr::{DecodeOptions, Engine, EngineOptions, TranscribeOptions};
use tocky_audio::{DecodeOptions as AudioOptions, decode_file};
use tocky_core::text::scoring_words;
use tocky_core::wer::score;

fn model_path() -> PathBuf {
    if let Some(p) = std::env::var_os("TOCKY_MODEL") {
        return p.into();
    }
    let cache = tocky_models::default_cache_dir();
    tocky_models::resolve_model(tocky_models::DEFAULT_MODEL, &cache).unwrap_or_else(|e| {
        panic!("the real-model tests need the Whisper base model: {e}\nrun scripts/test, or `tocky model fetch`")
    })
}

/// One engine for all tests in this binary: loading takes a moment.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::load(&model_path(), &EngineOptions::default()).expect("model loads")
    })
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/vi")
        .join(name)
}

fn options(language: &str) -> DecodeOptions {
    DecodeOptions {
        language: language.into(),
        threads: 2,
        ..DecodeOptions::default()
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
    let bad_beam = DecodeOptions {
        beam_size: 0,
        ..options("vi")
    };
    assert!(engine().transcribe(&silence, &bad_beam).is_err());

    let dir = tempfile::tempdir().unwrap();
    let not_a_model = dir.path().join("garbage.bin");
    std::fs::write(&not_a_model, b"definitely not a ggml file").unwrap();
    assert!(Engine::load(&not_a_model, &EngineOptions::default()).is_err());
    assert!(Engine::load(&dir.path().join("missing.bin"), &EngineOptions::default()).is_err());
}
