//! Placing words at the joins of speech regions, on made-up windows.

use super::*;
use tocky_audio::vad::Piece;

const RATE: usize = 16;

fn word(text: &str, start_ms: u64, end_ms: u64) -> Word {
    Word {
        text: text.into(),
        start_ms,
        end_ms,
        probability: 0.9,
    }
}

/// Two regions of `a_ms` and `b_ms` (padding included), joined by a
/// 300 ms gap, the second a minute later in the recording; someone
/// speaks in each region but its 200 ms of padding at either end.
fn window(a_ms: usize, b_ms: usize) -> Window {
    let gap = 300;
    let b_start = a_ms + gap;
    window_speaking(
        a_ms,
        b_ms,
        &[(200, a_ms - 200), (b_start + 200, b_start + b_ms - 200)],
    )
}

/// [`window`], with speech (a loud tone over quiet noise) only in
/// `voiced` (window ms).
fn window_speaking(a_ms: usize, b_ms: usize, voiced: &[(usize, usize)]) -> Window {
    let gap = 300;
    let samples = (0..(a_ms + gap + b_ms) * RATE)
        .map(|i| {
            let ms = i / RATE;
            let speaking = voiced.iter().any(|&(from, to)| from <= ms && ms < to);
            let noise = if i % 2 == 0 { 0.001 } else { -0.001 };
            if speaking {
                noise + 0.3 * (i as f32 * 0.1).sin()
            } else {
                noise
            }
        })
        .collect();
    Window {
        samples,
        pieces: vec![
            Piece {
                window_start: 0,
                source_start: 0,
                len: a_ms * RATE,
            },
            Piece {
                window_start: (a_ms + gap) * RATE,
                source_start: 60_000 * RATE as u64,
                len: b_ms * RATE,
            },
        ],
    }
}

fn texts(run: &[Word]) -> Vec<&str> {
    run.iter().map(|w| w.text.as_str()).collect()
}

#[test]
fn opening_words_timed_in_the_previous_regions_padding_join_their_sentence() {
    // Region A: 0-3000 ms (speech 200-2800); gap 3000-3300; region B:
    // 3300-6300 (speech 3500-6100). whisper.cpp starts the segment at
    // the previous one's end, 2900 ms: "Hấp" is timed in A's padding.
    let w = window(3000, 3000);
    let words = vec![
        word("Hấp", 2900, 2980),
        word("dẫn", 3700, 3900),
        word("nhất", 3900, 4200),
        word("là", 4200, 4400),
    ];
    let runs = place_words(words, &w, 200);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let (piece, run) = &runs[0];
    assert_eq!(*piece, 1);
    assert_eq!(texts(run), ["Hấp", "dẫn", "nhất", "là"]);
    // Said from where B's speech starts, up to the next word.
    assert_eq!((run[0].start_ms, run[0].end_ms), (3500, 3700));
    assert!(run.iter().all(|w| w.end_ms > w.start_ms), "{run:?}");
}

#[test]
fn two_opening_words_in_the_gap_move_together() {
    let w = window(3000, 3000);
    let words = vec![
        word("Chào", 2950, 3000),
        word("bữa", 3000, 3000),
        word("sáng,", 3600, 3900),
        word("tôi", 3900, 4100),
    ];
    let runs = place_words(words, &w, 200);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0].1;
    assert_eq!(runs[0].0, 1);
    assert_eq!(run[0].start_ms, 3500);
    assert!(run[0].end_ms > run[0].start_ms && run[1].end_ms > run[1].start_ms);
    assert!(run[1].end_ms <= 3600, "{run:?}");
}

#[test]
fn opening_words_timed_in_the_quiet_after_the_previous_speaker_join_their_sentence() {
    // A's speaker stops at 2200 ms; VAD's region runs on to 2800 (its
    // hangover) plus the padding. whisper.cpp times "Tôi xin" from the
    // end of the previous segment, at 2300 ms.
    let w = window_speaking(3000, 3000, &[(200, 2200), (3500, 6100)]);
    let words = [
        word("kia", 1800, 2200),
        word("Tôi", 2300, 2450),
        word("xin", 2450, 2600),
        word("phép", 3600, 3900),
        word("ra", 3900, 4100),
    ];
    // "kia" closes an earlier segment; "Tôi xin phép ra" is one.
    assert_eq!(place_words(words[..1].to_vec(), &w, 200).len(), 1);
    let runs = place_words(words[1..].to_vec(), &w, 200);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].0, 1);
    assert_eq!(texts(&runs[0].1), ["Tôi", "xin", "phép", "ra"]);
    assert_eq!(runs[0].1[0].start_ms, 3500);
}

#[test]
fn opening_words_timed_over_the_end_of_the_previous_speech_join_their_sentence() {
    // whisper.cpp timed the previous sentence's last syllable early and
    // gave its sound to "Cũng lên", the first words of the next segment.
    let w = window(3000, 3000);
    let words = vec![
        word("Cũng", 2400, 2600),
        word("lên", 2600, 2750),
        word("tiếng", 3600, 3900),
        word("ủng", 3900, 4100),
        word("hộ", 4100, 4300),
    ];
    let runs = place_words(words.clone(), &w, 200);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].0, 1);
    assert_eq!(runs[0].1[0].start_ms, 3500);
    assert!(runs[0].1[1].end_ms <= 3600, "{runs:?}");

    // Three words before the pause and two after: a sentence said across
    // it, split there.
    let mut three = vec![word("có", 2200, 2400)];
    three.extend_from_slice(&words[..4]);
    let runs = place_words(three, &w, 200);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(texts(&runs[0].1), ["có", "Cũng", "lên"]);
}

#[test]
fn a_sentence_said_across_a_pause_is_split_at_the_pause() {
    let w = window(3000, 3000);
    let words = vec![
        word("một", 1800, 2200),
        word("hai", 2200, 2700),
        // Its end runs into the gap: still said in A.
        word("ba", 2700, 3100),
        word("bốn", 3600, 3900),
        word("năm", 3900, 4300),
    ];
    let runs = place_words(words, &w, 200);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(texts(&runs[0].1), ["một", "hai", "ba"]);
    assert_eq!(texts(&runs[1].1), ["bốn", "năm"]);
    assert_eq!(runs[0].1[2].end_ms, 3000);
}

#[test]
fn closing_words_timed_into_the_next_region_stay_with_theirs() {
    let w = window(3000, 3000);
    let words = vec![
        word("xin", 2000, 2500),
        word("cảm", 2500, 2700),
        word("ơn.", 3350, 3450),
    ];
    let runs = place_words(words, &w, 200);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].0, 0);
    let run = &runs[0].1;
    assert!(run[2].start_ms >= 2700 && run[2].end_ms <= 3000, "{run:?}");
    assert!(run[2].end_ms > run[2].start_ms);
}

#[test]
fn words_whisper_gave_no_length_get_one() {
    let w = window(3000, 3000);
    let words = vec![
        word("đại", 1000, 1300),
        word("biểu", 1300, 1300),
        word("quốc", 1300, 1300),
        word("hội", 1300, 1800),
    ];
    let runs = place_words(words, &w, 200);
    let run = &runs[0].1;
    assert_eq!(texts(run), ["đại", "biểu", "quốc", "hội"]);
    for pair in run.windows(2) {
        assert!(pair[0].end_ms <= pair[1].start_ms, "{run:?}");
    }
    assert!(
        run.iter().all(|w| w.end_ms >= w.start_ms + MIN_WORD_MS),
        "{run:?}"
    );
    assert!(run[0].start_ms >= 1000 && run[3].end_ms <= 1800, "{run:?}");
}

#[test]
fn a_word_at_the_very_end_of_a_window_gets_a_length() {
    let w = window(3000, 3000);
    let words = vec![word("xong", 6300, 6300)];
    let runs = place_words(words, &w, 200);
    assert_eq!(runs[0].0, 1);
    let x = &runs[0].1[0];
    assert!(x.end_ms > x.start_ms && x.end_ms <= 6300, "{x:?}");
}
