use super::*;

fn w(text: &str, start_ms: u64, end_ms: u64) -> Word {
    Word {
        text: text.into(),
        start_ms,
        end_ms,
        probability: 0.5,
    }
}

/// `realign` without the model: letters and audible frames only.
fn by_letters(req: &AlignRequest) -> Vec<Word> {
    let texts: Vec<String> = nfc(req.text)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let mut kept = anchors(req, &texts);
    make_room(&mut kept, req);
    assemble(req, texts, &kept, None)
}

fn assert_well_formed(words: &[Word], req: &AlignRequest) {
    let texts: Vec<String> = nfc(req.text)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        words.iter().map(|w| w.text.clone()).collect::<Vec<_>>(),
        texts
    );
    let mut floor = req.start_ms;
    for w in words {
        assert!(w.start_ms >= floor, "{words:?}");
        assert!(w.end_ms > w.start_ms, "{words:?}");
        assert!(w.end_ms <= req.end_ms, "{words:?}");
        floor = w.end_ms;
    }
}

/// A tone at 16 kHz wherever `loud` says, silence elsewhere.
fn audio(ms: u64, loud: &[(u64, u64)]) -> Vec<f32> {
    (0..ms * 16)
        .map(|i| {
            let t = i / 16;
            if loud.iter().any(|&(a, b)| a <= t && t < b) {
                (i as f32 * 0.05).sin() * 0.3
            } else {
                0.0
            }
        })
        .collect()
}

#[test]
fn unchanged_words_keep_their_times_and_tone_placement_does_not_count() {
    let old = [
        w("Chào", 1000, 1300),
        w("hoà", 1400, 1700),
        w("bình", 1800, 2100),
        w("nhé", 2200, 2500),
    ];
    let samples = audio(2000, &[(0, 300), (400, 700), (800, 1100), (1200, 1500)]);
    let req = AlignRequest {
        audio: &samples,
        start_ms: 1000,
        end_ms: 3000,
        old_words: &old,
        text: "Chào hòa bính nhé.",
    };
    let words = by_letters(&req);
    assert_well_formed(&words, &req);
    assert_eq!((words[1].start_ms, words[1].end_ms), (1400, 1700));
    assert_eq!(words[1].text, "hòa", "the new spelling");
    assert_eq!((words[3].start_ms, words[3].end_ms), (2200, 2500));
    // The changed word lies in its gap, trimmed to where it is audible.
    assert_eq!((words[2].start_ms, words[2].end_ms), (1800, 2100));
}

#[test]
fn an_insertion_without_room_takes_its_neighbours_with_it() {
    let old = [w("một", 0, 300), w("ba", 300, 600)];
    let samples = audio(600, &[(0, 600)]);
    let req = AlignRequest {
        audio: &samples,
        start_ms: 0,
        end_ms: 600,
        old_words: &old,
        text: "một hai ba",
    };
    let words = by_letters(&req);
    assert_well_formed(&words, &req);
    assert_eq!(words.len(), 3);
}

#[test]
fn typed_in_text_over_silence_is_laid_out_by_letters() {
    let samples = vec![0.0; 16 * 3000];
    let req = AlignRequest {
        audio: &samples,
        start_ms: 5000,
        end_ms: 8000,
        old_words: &[],
        text: "a bb ccc dddd",
    };
    let words = by_letters(&req);
    assert_well_formed(&words, &req);
    assert_eq!(words[0].start_ms, 5000);
    assert_eq!(words[3].end_ms, 8000);
    assert!(words[3].end_ms - words[3].start_ms > words[0].end_ms - words[0].start_ms);
}

#[test]
fn boundaries_move_into_pauses() {
    let samples = audio(1000, &[(100, 300), (500, 900)]);
    let req = AlignRequest {
        audio: &samples,
        start_ms: 0,
        end_ms: 1000,
        old_words: &[],
        text: "xin chào",
    };
    let words = by_letters(&req);
    assert_well_formed(&words, &req);
    assert_eq!(words[0].start_ms, 100);
    assert_eq!(words[0].end_ms, 300);
    assert_eq!(words[1].start_ms, 500);
    assert_eq!(words[1].end_ms, 900);
}

#[test]
fn old_words_out_of_bounds_or_without_length_are_not_kept() {
    let old = [w("a", 0, 100), w("b", 150, 150), w("c", 200, 400)];
    let samples = audio(300, &[]);
    let req = AlignRequest {
        audio: &samples,
        start_ms: 100,
        end_ms: 400,
        old_words: &old,
        text: "a b c",
    };
    let words = by_letters(&req);
    assert_well_formed(&words, &req);
    assert_eq!((words[2].start_ms, words[2].end_ms), (200, 400));
}

#[test]
fn a_segment_with_more_words_than_milliseconds_is_refused_and_tiny_ones_fit() {
    let samples = vec![0.0; 16 * 5];
    let req = AlignRequest {
        audio: &samples,
        start_ms: 0,
        end_ms: 5,
        old_words: &[],
        text: "a b c d e",
    };
    let words = by_letters(&req);
    assert_well_formed(&words, &req);
}

/// Words every second, 700 ms long, kept except at `new`.
fn kept_except(count: usize, new: &[usize]) -> Vec<Option<Word>> {
    (0..count)
        .map(|k| {
            let at = k as u64 * 1000;
            (!new.contains(&k)).then(|| w("từ", at + 100, at + 800))
        })
        .collect()
}

#[test]
fn a_run_is_recognised_in_a_window_around_its_anchors() {
    use heard::{MARGIN_MS, Window, windows};
    let samples = Vec::new();
    let req = AlignRequest {
        audio: &samples,
        start_ms: 0,
        end_ms: 40_000,
        old_words: &[],
        text: "",
    };
    // Two runs far apart: a window each, from a margin before the gap
    // (past the anchor's start) to a margin after it, with the kept words
    // wholly inside.
    let kept = kept_except(40, &[5, 6, 30, 31]);
    assert_eq!(
        windows(&req, &kept),
        [
            Window {
                from_ms: 4_800 - MARGIN_MS,
                to_ms: 7_100 + MARGIN_MS,
                words: 4..8,
            },
            Window {
                from_ms: 29_800 - MARGIN_MS,
                to_ms: 32_100 + MARGIN_MS,
                words: 29..33,
            },
        ]
    );
    // Two runs close together share one window.
    let kept = kept_except(40, &[5, 6, 9, 10]);
    assert_eq!(
        windows(&req, &kept),
        [Window {
            from_ms: 3_800,
            to_ms: 12_100,
            words: 4..12,
        }]
    );
    // A run of one word needs no window.
    assert!(windows(&req, &kept_except(40, &[5, 9])).is_empty());
    // Typed in: the whole segment, if the model can take it at once.
    assert!(windows(&req, &kept_except(40, &(0..40).collect::<Vec<_>>())).is_empty());
    let req = AlignRequest {
        end_ms: 20_000,
        ..req
    };
    assert_eq!(
        windows(&req, &kept_except(20, &(0..20).collect::<Vec<_>>())),
        [Window {
            from_ms: 0,
            to_ms: 20_000,
            words: 0..20,
        }]
    );
}
