//! Live recognition against the real Whisper base model: Vietnamese clips
//! with pauses between them, fed in 100 ms blocks as a microphone would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fixture, model_path};

use tocky_asr::{
    DecodeOptions, Engine, EngineOptions, FinalContext, StreamEvent, StreamingOptions,
    StreamingRecognizer,
};
use tocky_audio::{DecodeOptions as AudioOptions, decode_file};
use tocky_core::wer::score;

const RATE: usize = 16_000;
const BLOCK: usize = RATE / 10;

/// Clips with 1.5 s of silence before each; returns the audio and each
/// clip's span (ms) and reference text.
fn sitting(clips: &[&str]) -> (Vec<f32>, Vec<(u64, u64, String)>) {
    let mut audio = Vec::new();
    let mut spans = Vec::new();
    for clip in clips {
        audio.extend(std::iter::repeat_n(0.0f32, RATE * 3 / 2));
        let start = audio.len() as u64 * 1000 / RATE as u64;
        let decoded =
            decode_file(&fixture(&format!("{clip}.wav")), &AudioOptions::default()).unwrap();
        audio.extend(&decoded.samples);
        let end = audio.len() as u64 * 1000 / RATE as u64;
        let reference = std::fs::read_to_string(fixture(&format!("{clip}.txt"))).unwrap();
        spans.push((start, end, reference.trim().to_owned()));
    }
    audio.extend(std::iter::repeat_n(0.0f32, RATE * 2));
    (audio, spans)
}

/// Events, each with the stream time (ms) at which it came out.
fn run(
    recognizer: &mut StreamingRecognizer<'_>,
    audio: &[f32],
    t0_ms: u64,
) -> Vec<(u64, StreamEvent)> {
    let mut out = Vec::new();
    for (i, block) in audio.chunks(BLOCK).enumerate() {
        let at = t0_ms + ((i * BLOCK + block.len()) * 1000 / RATE) as u64;
        for event in recognizer.push(block).unwrap() {
            out.push((at, event));
        }
    }
    out
}

fn options() -> StreamingOptions {
    let mut opts = StreamingOptions::default();
    opts.transcribe.decode = DecodeOptions {
        threads: 2,
        ..DecodeOptions::default()
    };
    opts
}

#[test]
fn partials_come_first_stay_stable_and_finals_match_the_speech() {
    let engine = Engine::load(&model_path(), &EngineOptions::default()).unwrap();
    let clips = [
        "vivos_VIVOSSPK01_R003",
        "vivos_VIVOSDEV01_R003",
        "vivos_VIVOSSPK01_R048",
    ];
    let (audio, spans) = sitting(&clips);
    let mut recognizer = StreamingRecognizer::new(&engine, options()).unwrap();
    let mut events = run(&mut recognizer, &audio, 0);
    let end_ms = (audio.len() * 1000 / RATE) as u64;
    events.extend(
        recognizer
            .finish()
            .unwrap()
            .into_iter()
            .map(|e| (end_ms, e)),
    );

    let finals: Vec<(u64, &tocky_core::Segment)> = events
        .iter()
        .filter_map(|(at, e)| match e {
            StreamEvent::Final(segments) => Some(segments.iter().map(move |s| (*at, s))),
            StreamEvent::Partial(_) => None,
        })
        .flatten()
        .collect();
    assert!(!finals.is_empty());
    for (start, end, reference) in &spans {
        // The finals inside this clip's span, padded by the VAD's margins.
        let inside: Vec<_> = finals
            .iter()
            .filter(|(_, s)| s.start_ms + 500 >= *start && s.end_ms <= end + 500)
            .collect();
        assert!(!inside.is_empty(), "no final for {reference:?}: {finals:?}");
        let text: Vec<&str> = inside.iter().map(|(_, s)| s.text.as_str()).collect();
        let wer = score(reference, &text.join(" ")).wer();
        assert!(wer <= 0.6, "{reference:?} -> {text:?}: WER {wer}");
        // Final text arrives soon after the speech ends (in stream time:
        // the pause the VAD waits for, plus a block).
        let emitted = inside.iter().map(|(at, _)| *at).max().unwrap();
        assert!(
            emitted <= end + 1_000,
            "final at {emitted} ms for speech ending at {end} ms"
        );
        // A partial came before the final, while the clip was spoken.
        let first_partial = events.iter().find_map(|(at, e)| match e {
            StreamEvent::Partial(p) if p.start_ms + 500 >= *start && p.start_ms <= *end => {
                Some(*at)
            }
            _ => None,
        });
        let first_partial = first_partial.unwrap_or_else(|| panic!("no partial for {reference:?}"));
        assert!(
            first_partial < emitted,
            "partial at {first_partial}, final at {emitted}"
        );
        assert!(
            first_partial <= start + 2_000,
            "first partial {first_partial} ms for speech from {start} ms"
        );
    }
    // Within an utterance, committed text only grows: what was shown stays.
    let mut last: Option<(u64, String)> = None;
    for (_, e) in &events {
        match e {
            StreamEvent::Partial(p) => {
                if let Some((start, committed)) = &last
                    && *start == p.start_ms
                {
                    assert!(
                        p.committed.starts_with(committed.as_str()),
                        "{committed:?} -> {:?}",
                        p.committed
                    );
                }
                last = Some((p.start_ms, p.committed.clone()));
            }
            StreamEvent::Final(_) => last = None,
        }
    }
    let stats = recognizer.stats();
    assert!(stats.partial_decodes >= 3, "{stats:?}");
    assert_eq!(stats.samples, audio.len() as u64);
}

#[test]
fn a_gap_closes_the_utterance_and_later_times_skip_it() {
    let engine = Engine::load(&model_path(), &EngineOptions::default()).unwrap();
    let (audio, spans) = sitting(&["vivos_VIVOSSPK01_R003"]);
    let mut recognizer = StreamingRecognizer::new(&engine, options()).unwrap();
    // Half of the clip, then the device is lost for 5 s, then all of it.
    let half = (spans[0].0 as usize * RATE / 1000) + RATE;
    let mut events = run(&mut recognizer, &audio[..half], 0);
    events.extend(
        recognizer
            .gap(5 * RATE as u64)
            .unwrap()
            .into_iter()
            .map(|e| (0, e)),
    );
    let resumed_ms = (half * 1000 / RATE) as u64 + 5_000;
    events.extend(run(&mut recognizer, &audio, resumed_ms));
    events.extend(recognizer.finish().unwrap().into_iter().map(|e| (0, e)));
    let resumed: Vec<tocky_core::Segment> = events
        .iter()
        .filter_map(|(_, e)| match e {
            StreamEvent::Final(s) => Some(s.clone()),
            StreamEvent::Partial(_) => None,
        })
        .flatten()
        .filter(|s| s.start_ms >= resumed_ms)
        .collect();
    let first = resumed
        .first()
        .expect("the full clip after the gap is finalised");
    // The clip after the gap lies at resumed + its span in `audio` (the
    // clip itself opens with silence, so its speech starts later).
    let (from, to) = (resumed_ms + spans[0].0, resumed_ms + spans[0].1);
    assert!(
        first.start_ms + 300 >= from && first.start_ms < to,
        "final at {} ms, clip from {from} to {to} ms",
        first.start_ms
    );
    // Nothing lands inside the gap.
    let gap = (half * 1000 / RATE) as u64..resumed_ms;
    assert!(
        !events.iter().any(|(_, e)| matches!(e, StreamEvent::Final(s) if s.iter().any(|s| gap.contains(&s.start_ms)))),
        "a final inside the gap"
    );
    let text: Vec<&str> = resumed.iter().map(|s| s.text.as_str()).collect();
    let text = text.join(" ");
    assert!(score(&spans[0].2, &text).wer() <= 0.6, "{text:?}");
}

#[test]
fn a_channel_that_falls_behind_decodes_short_finals_and_no_partials_until_it_catches_up() {
    let engine = Engine::load(&model_path(), &EngineOptions::default()).unwrap();
    let (audio, spans) = sitting(&["vivos_VIVOSSPK01_R003", "vivos_VIVOSSPK01_R003"]);
    let mut opts = options();
    opts.final_context = FinalContext::Adaptive { max_lag_ms: 1500 };
    let mut recognizer = StreamingRecognizer::new(&engine, opts).unwrap();
    // The first utterance's audio waits 4 s in the queue; the second is
    // recognised as it arrives.
    let second_starts = (spans[1].0 as usize - 1000) * RATE / 1000;
    recognizer.set_lag_ms(4_000);
    let mut events = run(&mut recognizer, &audio[..second_starts], 0);
    let behind = recognizer.stats();
    recognizer.set_lag_ms(100);
    events.extend(run(
        &mut recognizer,
        &audio[second_starts..],
        (second_starts * 1000 / RATE) as u64,
    ));
    events.extend(recognizer.finish().unwrap().into_iter().map(|e| (0, e)));
    let stats = recognizer.stats();

    // Behind: every final on the utterance alone, and no partials.
    assert!(behind.finals.windows > 0, "{behind:?}");
    assert_eq!(
        behind.short_finals, behind.finals.windows as u64,
        "{behind:?}"
    );
    assert_eq!(behind.partial_decodes, 0, "{behind:?}");
    assert!(behind.partials_skipped_behind > 0, "{behind:?}");
    // Caught up: full-context finals, and partials again.
    assert!(stats.finals.windows > behind.finals.windows, "{stats:?}");
    assert_eq!(stats.short_finals, behind.short_finals, "{stats:?}");
    assert!(stats.partial_decodes > 0, "{stats:?}");
    // Both utterances' finals are the speech, the short ones too.
    let split_ms = (second_starts * 1000 / RATE) as u64;
    for (range, reference) in [
        (0..split_ms, &spans[0].2),
        (split_ms..u64::MAX, &spans[1].2),
    ] {
        let text: Vec<String> = events
            .iter()
            .filter_map(|(_, e)| match e {
                StreamEvent::Final(s) => Some(s.clone()),
                StreamEvent::Partial(_) => None,
            })
            .flatten()
            .filter(|s| range.contains(&s.start_ms))
            .map(|s| s.text)
            .collect();
        let text = text.join(" ");
        assert!(score(reference, &text).wer() <= 0.6, "{text:?}");
    }
}
