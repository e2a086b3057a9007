//! The real Whisper base model quantized by `tocky_models::quantize`: every
//! type loads in whisper.cpp (which checks each tensor's type and size
//! against the header's ftype) and transcribes Vietnamese sensibly, and
//! q8_0 stays within one percentage point of f16's WER.
//!
//! Kept short for CI: two short clips for the WER comparison and one for
//! the other types' sanity check (greedy, WER at most 50 %).

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fixture, model_path};
use tocky_asr::{DecodeOptions, Engine, EngineOptions, TranscribeOptions};
use tocky_audio::{DecodeOptions as AudioOptions, decode_file};
use tocky_core::wer::{ErrorCounts, score};
use tocky_models::QuantType;

/// Two short VIVOS clips (about 4 s each, 21 words in all).
const CLIPS: [&str; 2] = ["vivos_VIVOSDEV01_R003.wav", "vivos_VIVOSSPK01_R048.wav"];

/// The recommended decoding (beam 5), or greedy decoding (beam 1), which is
/// faster and enough for a sanity check.
fn options(beam_size: usize) -> TranscribeOptions {
    TranscribeOptions {
        decode: DecodeOptions {
            language: "vi".into(),
            threads: 2,
            beam_size,
            ..DecodeOptions::default()
        },
        ..TranscribeOptions::recommended()
    }
}

fn errors(engine: &Engine, clips: &[&str], beam_size: usize) -> (ErrorCounts, Vec<String>) {
    let mut total = ErrorCounts::default();
    let mut texts = Vec::new();
    for clip in clips {
        let reference = std::fs::read_to_string(fixture(&clip.replace(".wav", ".txt"))).unwrap();
        let audio = decode_file(&fixture(clip), &AudioOptions::default()).unwrap();
        let text = engine
            .transcribe(&audio.samples, &options(beam_size))
            .unwrap()
            .text();
        total += score(&reference, &text);
        texts.push(text);
    }
    (total, texts)
}

#[test]
fn every_quantized_type_loads_and_q8_0_keeps_f16_accuracy() {
    let source = model_path();
    let (f16_counts, f16_texts) = {
        let engine = Engine::load(&source, &EngineOptions::default()).unwrap();
        errors(&engine, &CLIPS, 5)
    };
    let f16_size = std::fs::metadata(&source).unwrap().len();

    let dir = tempfile::tempdir().unwrap();
    for ty in QuantType::ALL {
        let path = dir.path().join(format!("ggml-base-{ty}.bin"));
        let report = tocky_models::quantize_file(&source, &path, ty).unwrap();
        // 6 encoder layers × 6 matrices, 6 decoder layers × 10, the token embedding.
        assert_eq!(report.quantized, 6 * 6 + 6 * 10 + 1, "{ty}");
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(
            size < f16_size * 6 / 10,
            "{ty}: {size} bytes vs f16 {f16_size}"
        );

        let engine = Engine::load(&path, &EngineOptions::default())
            .unwrap_or_else(|e| panic!("whisper.cpp refuses the {ty} model: {e}"));
        let d = engine.describe();
        assert_eq!((d.size.as_str(), d.n_vocab, d.n_mels), ("base", 51865, 80));

        if ty == QuantType::Q8_0 {
            let (counts, texts) = errors(&engine, &CLIPS, 5);
            assert!(
                counts.wer() <= f16_counts.wer() + 0.01,
                "q8_0 WER {:.3} vs f16 {:.3}:\n q8_0 {texts:?}\n f16  {f16_texts:?}",
                counts.wer(),
                f16_counts.wer()
            );
        } else {
            // Smaller types lose some accuracy (with beam 5, q4_0 hears
            // "cũng lên tiếng ổng hộ các kí nghề này"); a broken file gives
            // nonsense or nothing.
            let (counts, texts) = errors(&engine, &CLIPS[..1], 1);
            assert!(
                counts.wer() <= 0.5,
                "{ty}: WER {:.3}: {texts:?}",
                counts.wer()
            );
        }
    }
}
