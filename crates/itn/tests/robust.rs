//! Odd input never panics, output is deterministic, and spans are sound:
//! in bounds, on character boundaries, in order, and saying what changed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tocky_itn::{Itn, Kind, Options, Written};

/// Checks the spans of one result against its input.
fn check_spans(input: &str, w: &Written) {
    let mut last_end = 0;
    for s in &w.spans {
        assert!(
            s.input.start <= s.input.end && s.input.end <= input.len(),
            "{input:?} {s:?}"
        );
        assert!(input.is_char_boundary(s.input.start) && input.is_char_boundary(s.input.end));
        assert!(s.output.end <= w.text.len(), "{input:?} {s:?}");
        assert!(w.text.is_char_boundary(s.output.start) && w.text.is_char_boundary(s.output.end));
        assert!(
            s.input.start >= last_end,
            "spans overlap in {input:?}: {:?}",
            w.spans
        );
        last_end = s.input.end;
        if s.removed {
            assert!(s.output.is_empty());
        }
    }
}

/// A deterministic stream of pseudo-random numbers (no dependency needed).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

const PIECES: &[&str] = &[
    "không",
    "một",
    "mốt",
    "hai",
    "ba",
    "bốn",
    "tư",
    "năm",
    "lăm",
    "nhăm",
    "sáu",
    "bảy",
    "bẩy",
    "tám",
    "chín",
    "mười",
    "mươi",
    "trăm",
    "linh",
    "lẻ",
    "nghìn",
    "ngàn",
    "triệu",
    "tỷ",
    "tỉ",
    "rưỡi",
    "phẩy",
    "chấm",
    "âm",
    "phần",
    "trăm",
    "đồng",
    "USD",
    "giờ",
    "phút",
    "giây",
    "kém",
    "ngày",
    "mùng",
    "tháng",
    "năm",
    "điều",
    "khoản",
    "số",
    "trên",
    "QH",
    "khóa",
    "khoá",
    "chương",
    "kỳ",
    "họp",
    "thứ",
    "giai",
    "đoạn",
    "đến",
    "ờ",
    "à",
    "Ờ",
    "ừm",
    "tôi",
    "tôi",
    "Quốc",
    "hội",
    "MƯỜI",
    "Hòa",
    "hoà",
    "2.000",
    "96,2%",
    "27/2022/QH15",
    ",",
    ".",
    "?",
    "!",
    "-",
    "/",
    "…",
    "(",
    ")",
    "\"",
    "🙂",
    "\u{301}",
    "a\u{300}",
    "\t",
    "  ",
    "",
    "ǅ",
    "ß",
    "İ",
];

#[test]
fn random_phrases_never_panic_and_give_sound_spans() {
    let itn = Itn::new(Options::default());
    let keep = Itn::new(Options {
        remove_marked: false,
        ..Options::default()
    });
    let mut rng = Lcg(16);
    for _ in 0..4000 {
        let n = rng.next(14);
        let mut line = String::new();
        for _ in 0..n {
            line.push_str(PIECES[rng.next(PIECES.len())]);
            if rng.next(4) > 0 {
                line.push(' ');
            }
        }
        let a = itn.line(&line);
        assert_eq!(a, itn.line(&line), "not deterministic: {line:?}");
        check_spans(&line, &a);
        let k = keep.line(&line);
        check_spans(&line, &k);
        for s in k
            .spans
            .iter()
            .filter(|s| matches!(s.kind, Kind::Filler | Kind::Repeat))
        {
            assert_eq!(
                &line[s.input.clone()],
                &k.text[s.output.clone()],
                "{line:?}"
            );
        }
    }
}

#[test]
fn kinds_serialise_as_their_names() {
    for kind in [
        Kind::Number,
        Kind::Percent,
        Kind::Filler,
        Kind::Capital,
        Kind::Ordinal,
    ] {
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{}\"", kind.name()));
    }
    let w = Itn::new(Options::default()).line("ờ mười");
    let v = serde_json::to_value(&w).unwrap();
    assert_eq!(v["text"], "10");
    assert_eq!(v["spans"][0]["kind"], "filler");
    assert_eq!(v["spans"][1]["input"]["start"], 4);
}

#[test]
fn odd_inputs() {
    let itn = Itn::new(Options::default());
    for (input, want) in [
        ("", ""),
        ("   ", "   "),
        (".,;!?", ".,;!?"),
        ("trăm", "trăm"),
        ("trăm trăm trăm", "trăm trăm trăm"),
        ("tỷ tỷ", "tỷ tỷ"),
        ("phẩy", "phẩy"),
        ("âm", "âm"),
        ("âm âm", "âm âm"),
        ("một phẩy", "một phẩy"),
        ("Hai Mươi Mốt", "21"),
        ("HAI MƯƠI MỐT", "21"),
        ("hai mươi mốt, hai mươi hai", "21, 22"),
        ("điều 12 khoản ba", "điều 12 khoản 3"),
        ("12 hai mươi", "12 20"),
        ("ờ", ""),
        ("  ờ  ", ""),
        ("hai\tmươi", "20"),
    ] {
        assert_eq!(itn.line(input).text, want, "{input:?}");
    }
    // Far past u128: the number is not read, and nothing panics.
    let huge = format!("chín trăm chín mươi chín {}", "tỷ ".repeat(60));
    let w = itn.line(&huge);
    check_spans(&huge, &w);
    // A scale word repeated is read once: the rest stays as said.
    assert_eq!(itn.line("một nghìn tỷ tỷ tỷ").text, "1.000 tỷ tỷ tỷ");
}

#[test]
fn tone_mark_placement_and_nfd_input_match() {
    let itn = Itn::new(Options::default());
    assert_eq!(itn.line("Quốc hội khoá mười lăm").text, "Quốc hội khoá XV");
    assert_eq!(itn.line("Quốc hội khóa mười lăm").text, "Quốc hội khóa XV");
    // Decomposed input (not what the store holds, but it must not break).
    let nfd = "hai mu\u{31b}\u{300}i";
    check_spans(nfd, &itn.line(nfd));
}

#[test]
fn spans_say_what_changed_and_what_was_removed() {
    let itn = Itn::new(Options::default());
    let input =
        "Ờ, có bốn trăm tám mươi hai đại biểu tán thành, chiếm chín mươi sáu phẩy hai phần trăm";
    let w = itn.line(input);
    assert_eq!(w.text, "Có 482 đại biểu tán thành, chiếm 96,2%");
    let seen: Vec<(Kind, &str, &str, bool)> = w
        .spans
        .iter()
        .map(|s| {
            (
                s.kind,
                &input[s.input.clone()],
                &w.text[s.output.clone()],
                s.removed,
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (Kind::Filler, "Ờ", "", true),
            (Kind::Capital, "c", "C", false),
            (Kind::Number, "bốn trăm tám mươi hai", "482", false),
            (
                Kind::Percent,
                "chín mươi sáu phẩy hai phần trăm",
                "96,2%",
                false
            ),
        ]
    );
}

#[test]
fn fillers_can_stay_marked_and_rules_can_be_turned_off() {
    let keep = Itn::new(Options {
        remove_marked: false,
        ..Options::default()
    });
    let input = "tôi tôi xin ờ báo cáo";
    let w = keep.line(input);
    assert_eq!(w.text, input);
    let kinds: Vec<Kind> = w.spans.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, vec![Kind::Repeat, Kind::Filler]);

    let off = Itn::new(Options {
        numbers: false,
        dates_times: false,
        percent_money: false,
        legal: false,
        roman: false,
        fillers: false,
        repeats: false,
        ..Options::default()
    });
    let text = "ờ ngày hai mươi mốt tháng mười, khóa mười lăm, năm phần trăm";
    assert_eq!(off.line(text).text, text);
    assert!(off.line(text).spans.is_empty());

    let own = Itn::new(Options {
        filler_words: vec!["thì".into()],
        ..Options::default()
    });
    assert_eq!(own.line("ờ thì được").text, "ờ được");
}
