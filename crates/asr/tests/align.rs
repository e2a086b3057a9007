//! Words re-timed after a correction, against the real Whisper base model,
//! on Vietnamese words synthesised one by one with espeak-ng and joined at
//! known offsets: each word's true start and end are known to the sample.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::sync::OnceLock;

use common::{fixture, model_path};
use tocky_asr::{AlignOptions, AlignRequest, Engine, EngineOptions, realign};
use tocky_audio::{DecodeOptions as AudioOptions, decode_file};
use tocky_core::Word;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::load(&model_path(), &EngineOptions::default()).expect("model loads")
    })
}

fn options() -> AlignOptions {
    AlignOptions {
        threads: 2,
        ..AlignOptions::default()
    }
}

const SENTENCE: &str = "Quốc hội thảo luận dự án luật bảo vệ môi trường và phát triển \
                        kinh tế xã hội của đất nước trong năm tới các đại biểu đề nghị \
                        chính phủ báo cáo";

/// Where the segment starts in the recording (ms): times are absolute.
const ORIGIN_MS: u64 = 61_000;

/// The pause after each word (ms), in turn.
const PAUSES_MS: [u64; 5] = [80, 150, 40, 200, 100];

/// The sentence said word by word: the segment's audio, and each word with
/// its true time (absolute ms).
struct Spoken {
    samples: Vec<f32>,
    words: Vec<Word>,
    end_ms: u64,
}

fn spoken() -> &'static Spoken {
    static SPOKEN: OnceLock<Spoken> = OnceLock::new();
    SPOKEN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut samples = vec![0.0f32; 16 * 300];
        let mut words = Vec::new();
        for (k, text) in SENTENCE.split_whitespace().enumerate() {
            let wav = dir.path().join(format!("{k}.wav"));
            let status = Command::new("espeak-ng")
                .args(["-v", "vi", "-s", "160", "-w"])
                .arg(&wav)
                .arg(text)
                .status()
                .expect("espeak-ng is installed (scripts/setup installs it)");
            assert!(status.success());
            let clip = decode_file(&wav, &AudioOptions::default()).unwrap().samples;
            // The word is where the clip is audible.
            let first = clip.iter().position(|s| s.abs() > 0.02).unwrap();
            let last = clip.iter().rposition(|s| s.abs() > 0.02).unwrap();
            let start_ms = ORIGIN_MS + samples.len() as u64 / 16;
            samples.extend_from_slice(&clip[first..=last]);
            words.push(Word {
                text: text.into(),
                start_ms,
                end_ms: ORIGIN_MS + samples.len() as u64 / 16,
                probability: 0.9,
            });
            samples.extend(std::iter::repeat_n(0.0, 16 * PAUSES_MS[k % 5] as usize));
        }
        samples.extend(std::iter::repeat_n(0.0, 16 * 300));
        let end_ms = ORIGIN_MS + samples.len() as u64 / 16;
        Spoken {
            samples,
            words,
            end_ms,
        }
    })
}

/// One Word per word of `text`, in order, inside the segment, each with a
/// length.
fn assert_well_formed(words: &[Word], text: &str, start_ms: u64, end_ms: u64) {
    let texts: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(
        words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>(),
        texts
    );
    let mut floor = start_ms;
    for w in words {
        assert!(
            w.start_ms >= floor && w.end_ms > w.start_ms && w.end_ms <= end_ms,
            "{w:?} after {floor} in {start_ms}..{end_ms}: {words:?}"
        );
        floor = w.end_ms;
    }
}

fn percentile(errors: &mut [u64], p: usize) -> u64 {
    errors.sort_unstable();
    errors[(errors.len() - 1) * p / 100]
}

/// The sentence corrected at `changed` words of every five (each word in
/// turn): what the recogniser had heard had those words wrong and
/// mistimed. Checks that unchanged words keep their times and that each
/// corrected word lies in the gap between its unchanged neighbours;
/// returns the corrected words' start and end errors (ms).
fn corrected_errors(changed: &[usize]) -> Vec<u64> {
    let s = spoken();
    let mut errors = Vec::new();
    for rotation in 0..5 {
        let wrong = |k: usize| changed.iter().any(|c| (c + rotation) % 5 == k % 5);
        let old: Vec<Word> = s
            .words
            .iter()
            .enumerate()
            .map(|(k, w)| {
                if wrong(k) {
                    Word {
                        text: format!("{}x", w.text),
                        start_ms: w.start_ms.saturating_sub(90),
                        end_ms: w.end_ms + 60,
                        probability: 0.2,
                    }
                } else {
                    w.clone()
                }
            })
            .collect();
        let req = AlignRequest {
            audio: &s.samples,
            start_ms: ORIGIN_MS,
            end_ms: s.end_ms,
            old_words: &old,
            text: SENTENCE,
        };
        let words = realign(engine(), &options(), &req).unwrap();
        assert_well_formed(&words, SENTENCE, ORIGIN_MS, s.end_ms);
        for (k, (got, truth)) in words.iter().zip(&s.words).enumerate() {
            if wrong(k) {
                let lo = (0..k)
                    .rev()
                    .find(|&j| !wrong(j))
                    .map_or(ORIGIN_MS, |j| s.words[j].end_ms);
                let hi = (k..s.words.len())
                    .find(|&j| !wrong(j))
                    .map_or(s.end_ms, |j| s.words[j].start_ms);
                assert!(
                    lo <= got.start_ms && got.end_ms <= hi,
                    "word {k} {got:?} outside its gap {lo}..{hi}"
                );
                errors.push(got.start_ms.abs_diff(truth.start_ms));
                errors.push(got.end_ms.abs_diff(truth.end_ms));
            } else {
                assert_eq!(
                    (got.start_ms, got.end_ms),
                    (truth.start_ms, truth.end_ms),
                    "an unchanged word keeps its time"
                );
            }
        }
    }
    errors
}

#[test]
fn one_word_in_five_corrected_is_timed_within_the_targets() {
    let mut errors = corrected_errors(&[0]);
    let (median, p95) = (percentile(&mut errors, 50), percentile(&mut errors, 95));
    eprintln!("corrected words: median {median} ms, p95 {p95} ms");
    assert!(median <= 100, "median |error| {median} ms");
    assert!(p95 <= 250, "p95 |error| {p95} ms");
}

#[test]
fn two_adjacent_words_corrected_in_a_long_segment_are_timed_in_their_window() {
    // A run of two new words: re-recognised in a window around it (the
    // segment is many times longer), matched with the kept words inside it;
    // `corrected_errors` checks each lies in its gap. The p95 target is
    // not met yet for such runs (README, Measured): only the median is
    // held here.
    let mut errors = corrected_errors(&[0, 1]);
    let (median, p95) = (percentile(&mut errors, 50), percentile(&mut errors, 95));
    eprintln!("two adjacent corrected words: median {median} ms, p95 {p95} ms");
    assert!(median <= 100, "median |error| {median} ms");
}

#[test]
fn typed_in_text_silence_and_empty_text_give_well_formed_words() {
    let s = spoken();
    // A segment typed in by hand: no old words.
    let req = AlignRequest {
        audio: &s.samples,
        start_ms: ORIGIN_MS,
        end_ms: s.end_ms,
        old_words: &[],
        text: SENTENCE,
    };
    let words = realign(engine(), &options(), &req).unwrap();
    assert_well_formed(&words, SENTENCE, ORIGIN_MS, s.end_ms);
    // Deterministic (a word no model timed has a NaN probability, which
    // is not equal to itself).
    let same = |w: &Word| {
        (
            w.text.clone(),
            w.start_ms,
            w.end_ms,
            w.probability.to_bits(),
        )
    };
    let again = realign(engine(), &options(), &req).unwrap();
    assert_eq!(
        words.iter().map(same).collect::<Vec<_>>(),
        again.iter().map(same).collect::<Vec<_>>()
    );

    // 30 s of silence: words laid out in order, in bounds, hoà spelt as typed.
    let silence = vec![0.0f32; 16 * 30_000];
    let text = "Hoà bình, độc lập và thống nhất.";
    let req = AlignRequest {
        audio: &silence,
        start_ms: 5_000,
        end_ms: 35_000,
        old_words: &[],
        text,
    };
    let words = realign(engine(), &options(), &req).unwrap();
    assert_well_formed(&words, text, 5_000, 35_000);

    let req = AlignRequest { text: "  ", ..req };
    assert!(realign(engine(), &options(), &req).unwrap().is_empty());
}

#[test]
fn a_real_clip_typed_in_is_timed_inside_its_speech() {
    // "cũng lên tiếng ủng hộ các kiến nghị này", said from about 0.3 s.
    let samples = decode_file(
        &fixture("vivos_VIVOSDEV01_R003.wav"),
        &AudioOptions::default(),
    )
    .unwrap()
    .samples;
    let end_ms = samples.len() as u64 / 16;
    let text = std::fs::read_to_string(fixture("vivos_VIVOSDEV01_R003.txt")).unwrap();
    let text = text.trim();
    let req = AlignRequest {
        audio: &samples,
        start_ms: 0,
        end_ms,
        old_words: &[],
        text,
    };
    let words = realign(engine(), &options(), &req).unwrap();
    assert_well_formed(&words, text, 0, end_ms);
    // Words matched to what the model heard carry its probability.
    assert!(words.iter().any(|w| (0.0..=1.0).contains(&w.probability)));
}
