//! Spoken Vietnamese numbers: reading them, and writing them in digits.
//!
//! The grammar covers what Assembly speech uses: `mười` (10), `X mươi`
//! (tens), `mốt`/`tư`/`lăm`/`nhăm` after tens, `linh`/`lẻ` (no tens),
//! `trăm`, `nghìn`/`ngàn`, `triệu`, `tỷ`/`tỉ` (nested: `nghìn tỷ`),
//! `không trăm`, short forms (`hai mốt` 21, `một trăm hai` 120, `một triệu
//! hai` 1,2 triệu, `một tỷ rưỡi` 1,5 tỷ), decimals with `phẩy` (or `chấm`),
//! and `âm` (minus). `năm` right after `mươi` or `mười` is read as the noun
//! "year" ("hai mươi năm" is 20 years): speakers say `lăm` for the digit.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::tokenize::{Word, key};

/// The role of a number word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum V {
    /// `không` … `chín` (with `bẩy`).
    Digit(u8),
    /// `mươi`: the tens after a digit.
    Tens,
    /// `mười`: ten.
    Ten,
    /// `mốt` (1), `tư` (4), `lăm`/`nhăm` (5): a unit after tens.
    After(u8),
    /// `linh`, `lẻ`: no tens.
    Linh,
    /// `trăm`.
    Hundred,
    /// `nghìn`, `ngàn`, `triệu`, `tỷ`, `tỉ`.
    Scale(u128),
    /// `rưỡi`: and a half.
    Half,
    /// `phẩy`, the decimal comma.
    Comma,
    /// `chấm`, said for a decimal point by some speakers.
    Point,
    /// `âm`: minus.
    Minus,
}

static VOCAB: LazyLock<HashMap<String, V>> = LazyLock::new(|| {
    let table: [(&str, V); 29] = [
        ("không", V::Digit(0)),
        ("một", V::Digit(1)),
        ("hai", V::Digit(2)),
        ("ba", V::Digit(3)),
        ("bốn", V::Digit(4)),
        ("năm", V::Digit(5)),
        ("sáu", V::Digit(6)),
        ("bảy", V::Digit(7)),
        ("bẩy", V::Digit(7)),
        ("tám", V::Digit(8)),
        ("chín", V::Digit(9)),
        ("mươi", V::Tens),
        ("mười", V::Ten),
        ("mốt", V::After(1)),
        ("tư", V::After(4)),
        ("lăm", V::After(5)),
        ("nhăm", V::After(5)),
        ("linh", V::Linh),
        ("lẻ", V::Linh),
        ("trăm", V::Hundred),
        ("nghìn", V::Scale(1_000)),
        ("ngàn", V::Scale(1_000)),
        ("triệu", V::Scale(1_000_000)),
        ("tỷ", V::Scale(1_000_000_000)),
        ("tỉ", V::Scale(1_000_000_000)),
        ("rưỡi", V::Half),
        ("phẩy", V::Comma),
        ("chấm", V::Point),
        ("âm", V::Minus),
    ];
    table.into_iter().map(|(w, v)| (key(w), v)).collect()
});

/// The role of the word with this key, if it is a number word.
pub(crate) fn vocab(key: &str) -> Option<V> {
    VOCAB.get(key).copied()
}

/// A spoken number read from a phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Number {
    /// The integer part.
    pub(crate) int: u128,
    /// Digits after the decimal comma, if any.
    pub(crate) frac: Option<String>,
    /// A scale word said after a decimal (`một phẩy năm triệu`), or after a
    /// short form (`một triệu hai`), that stays a word: the integer part
    /// and `frac` count in it.
    pub(crate) unit: Option<String>,
    /// The scale words said, largest first, with their spelling, for
    /// writing round sums as `2.000 tỷ` or `3 tỷ 456 triệu`.
    pub(crate) billion_word: Option<String>,
    /// Whether `triệu` or `tỷ` was said.
    pub(crate) has_big_scale: bool,
    /// Whether it was `âm`.
    pub(crate) negative: bool,
    /// Words read.
    pub(crate) len: usize,
    /// Whether it was one digit word and nothing else (`hai`, `không`):
    /// such numbers stay words in running text.
    pub(crate) single: bool,
}

impl Number {
    /// Whether the number is a whole number and at most `max`.
    pub(crate) fn whole_up_to(&self, max: u128) -> Option<u128> {
        (self.frac.is_none() && self.unit.is_none() && !self.negative && self.int <= max)
            .then_some(self.int)
    }

    /// Whether running text writes it in digits: from 10 up, or with a
    /// decimal, a sign or a scale word.
    pub(crate) fn digits_in_running_text(&self) -> bool {
        self.int >= 10 || self.frac.is_some() || self.unit.is_some() || self.negative
    }
}

/// The roles of the words of a phrase.
/// `mốt`, `tư`, `lăm` with a capital right after a capitalised digit word
/// are part of a name (`Ba Tư`, Persia), not a short form of a number.
pub(crate) fn roles(words: &[Word]) -> Vec<Option<V>> {
    let mut out: Vec<Option<V>> = words.iter().map(|w| vocab(&w.key)).collect();
    for (i, w) in words.iter().enumerate().skip(1) {
        if w.capital
            && words[i - 1].capital
            && matches!(out[i], Some(V::After(_)))
            && matches!(out[i - 1], Some(V::Digit(_)))
        {
            out[i] = None;
        }
    }
    out
}

fn at(roles: &[Option<V>], i: usize) -> Option<V> {
    roles.get(i).copied().flatten()
}

fn digit(roles: &[Option<V>], i: usize) -> Option<u8> {
    match at(roles, i) {
        Some(V::Digit(d)) => Some(d),
        _ => None,
    }
}

/// Whether the word at `i` would start or continue a number (so a unit
/// before it belongs to something else).
fn continues(roles: &[Option<V>], i: usize) -> bool {
    matches!(at(roles, i), Some(V::Tens | V::Hundred))
}

/// A unit after `X mươi`: `một`…`chín` but not `năm`, or `mốt`/`tư`/`lăm`.
fn unit_after_tens(roles: &[Option<V>], i: usize) -> (u128, usize) {
    match at(roles, i) {
        Some(V::Digit(d)) if d >= 1 && d != 5 && !continues(roles, i + 1) => (d.into(), 1),
        Some(V::After(u)) => (u.into(), 1),
        _ => (0, 0),
    }
}

/// A unit after `mười`: `một`…`chín` but not `năm`, or `lăm`.
fn unit_after_ten(roles: &[Option<V>], i: usize) -> (u128, usize) {
    match at(roles, i) {
        Some(V::Digit(d)) if d >= 1 && d != 5 && !continues(roles, i + 1) => (d.into(), 1),
        Some(V::After(5)) => (5, 1),
        _ => (0, 0),
    }
}

/// Tens and units: `mười …`, `X mươi …`, `X mốt`. `(value, words)`.
fn tens(roles: &[Option<V>], i: usize) -> Option<(u128, usize)> {
    match at(roles, i)? {
        V::Ten => {
            let (u, n) = unit_after_ten(roles, i + 1);
            Some((10 + u, 1 + n))
        }
        V::Digit(d) if d >= 1 => match at(roles, i + 1) {
            Some(V::Tens) if d >= 2 => {
                let (u, n) = unit_after_tens(roles, i + 2);
                Some((u128::from(d) * 10 + u, 2 + n))
            }
            Some(V::After(u)) if d >= 2 => Some((u128::from(d) * 10 + u128::from(u), 2)),
            _ => None,
        },
        _ => None,
    }
}

/// What follows `X trăm`: `(value, words)`, `(0, 0)` for nothing.
fn after_hundred(roles: &[Option<V>], i: usize) -> (u128, usize) {
    match at(roles, i) {
        Some(V::Linh) => match at(roles, i + 1) {
            Some(V::Digit(d)) if d >= 1 => (d.into(), 2),
            Some(V::After(u)) => (u.into(), 2),
            _ => (0, 0),
        },
        Some(V::Half) => (50, 1),
        Some(V::After(u)) if !continues(roles, i + 1) => (u128::from(u) * 10, 1),
        _ => {
            if let Some(t) = tens(roles, i) {
                return t;
            }
            match (digit(roles, i), at(roles, i + 1)) {
                // `hai trăm năm sáu`: 256.
                (Some(d1), Some(V::Digit(d2)))
                    if d1 >= 1 && d2 >= 1 && !continues(roles, i + 2) =>
                {
                    (u128::from(d1) * 10 + u128::from(d2), 2)
                }
                // `một trăm hai`: 120. Not `một` (`một trăm một` is ambiguous)
                // nor `năm` (`ba trăm năm` is 300 years).
                (Some(d), next)
                    if d >= 2
                        && d != 5
                        && !matches!(next, Some(V::Digit(_) | V::Tens | V::Hundred)) =>
                {
                    (u128::from(d) * 10, 1)
                }
                _ => (0, 0),
            }
        }
    }
}

/// A number below 1000 at `i`: `(value, words, single digit word)`.
fn chunk(roles: &[Option<V>], i: usize, after_scale: bool) -> Option<(u128, usize, bool)> {
    if let Some(d) = digit(roles, i)
        && at(roles, i + 1) == Some(V::Hundred)
        && (d >= 1 || after_scale)
    {
        let (t, n) = after_hundred(roles, i + 2);
        return Some((u128::from(d) * 100 + t, 2 + n, false));
    }
    if let Some((v, n)) = tens(roles, i) {
        return Some((v, n, false));
    }
    digit(roles, i).map(|d| (u128::from(d), 1, true))
}

/// Reads a number starting at word `i` of a phrase, if one starts there.
pub(crate) fn parse(words: &[Word], roles: &[Option<V>], i: usize) -> Option<Number> {
    let negative = at(roles, i) == Some(V::Minus);
    let start = if negative { i + 1 } else { i };
    let (first, first_len, first_single) = chunk(roles, start, false)?;
    let mut pos = start + first_len;
    let mut total: u128 = 0;
    let mut top: u128 = 1;
    let mut group = first;
    let mut single = first_single;
    let mut unit: Option<String> = None;
    let mut frac: Option<String> = None;
    let mut billion_word = None;
    let mut has_big_scale = false;
    let mut just_scaled = false;
    while let Some(V::Scale(s)) = at(roles, pos) {
        // `một nghìn tỷ`: a scale word multiplies the one before it.
        let nested = group == 0 && just_scaled && s > top;
        if group == 0 && !nested {
            break;
        }
        just_scaled = true;
        single = false;
        let word = words.get(pos).map(|w| w.lower.clone()).unwrap_or_default();
        if s >= 1_000_000 {
            has_big_scale = true;
        }
        if s == 1_000_000_000 {
            billion_word = Some(word.clone());
        }
        let applied = if nested {
            top = s;
            total.checked_mul(s)
        } else if s > top {
            top = s;
            total.checked_add(group).and_then(|v| v.checked_mul(s))
        } else {
            group.checked_mul(s).and_then(|v| total.checked_add(v))
        };
        total = applied?;
        group = 0;
        pos += 1;
        // Short forms after a scale word: a half, or one digit for the
        // next lower place (`một triệu hai`, `năm ngàn rưỡi`).
        let shorthand = match at(roles, pos) {
            Some(V::Half) => Some(5),
            Some(V::After(u)) if !continues(roles, pos + 1) => Some(u),
            Some(V::Digit(d))
                if d >= 1
                    && d != 5
                    && chunk(roles, pos, true).is_some_and(|c| c.2)
                    && !matches!(
                        at(roles, pos + 1),
                        Some(V::Scale(_) | V::Linh | V::Digit(_))
                    ) =>
            {
                Some(d)
            }
            _ => None,
        };
        if let Some(d) = shorthand {
            pos += 1;
            if s >= 1_000_000 && s == top {
                // Written `1,2 triệu`: the part before the scale word, and a decimal.
                unit = Some(word);
                total /= s;
                frac = Some(d.to_string());
            } else {
                total = total.checked_add(u128::from(d) * (s / 10))?;
            }
            break;
        }
        if at(roles, pos) == Some(V::Linh)
            && let Some(d) = match at(roles, pos + 1) {
                Some(V::Digit(d)) if d >= 1 => Some(d),
                Some(V::After(u)) => Some(u),
                _ => None,
            }
        {
            group = d.into();
            pos += 2;
            just_scaled = false;
            continue;
        }
        if let Some((v, n, one)) = chunk(roles, pos, true) {
            // A lone digit after a scale word, not a short form, is not
            // part of the number (`ba nghìn năm`: 3.000 years).
            if one {
                match (digit(roles, pos), at(roles, pos + 1)) {
                    (_, Some(V::Scale(_))) => {}
                    // `một nghìn hai sáu`: two digits are the tens and units.
                    (Some(d1), Some(V::Digit(d2)))
                        if d1 >= 1
                            && d2 >= 1
                            && !continues(roles, pos + 2)
                            && !matches!(at(roles, pos + 2), Some(V::Scale(_))) =>
                    {
                        group = u128::from(d1) * 10 + u128::from(d2);
                        pos += 2;
                        just_scaled = false;
                        continue;
                    }
                    _ => break,
                }
            }
            group = v;
            pos += n;
            just_scaled = false;
        }
    }
    total = total.checked_add(group)?;
    let mut len = pos - i;
    if frac.is_none()
        && matches!(at(roles, pos), Some(V::Comma | V::Point))
        && let Some((digits, n)) = fraction(roles, pos + 1)
    {
        frac = Some(digits);
        single = false;
        len += 1 + n;
        if let Some(V::Scale(_)) = at(roles, pos + 1 + n) {
            unit = words.get(pos + 1 + n).map(|w| w.lower.clone());
            len += 1;
        }
    }
    Some(Number {
        int: total,
        frac,
        unit,
        billion_word,
        has_big_scale,
        negative,
        len,
        single: single && !negative,
    })
}

/// The digits after a decimal comma: a number said whole (`phẩy hai mươi
/// lăm`) or digit by digit (`phẩy không năm`). `(digits, words)`.
fn fraction(roles: &[Option<V>], i: usize) -> Option<(String, usize)> {
    if let Some((v, n, false)) = chunk(roles, i, false) {
        return Some((v.to_string(), n));
    }
    let mut digits = String::new();
    let mut n = 0;
    while let Some(d) = match at(roles, i + n) {
        Some(V::Digit(d)) => Some(d),
        Some(V::After(u)) => Some(u),
        _ => None,
    } {
        digits.push(char::from(b'0' + d));
        n += 1;
    }
    (n > 0).then_some((digits, n))
}

/// `n` with `.` between groups of three digits (`1.234.567`).
pub(crate) fn grouped(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// How a number is written in a record.
pub(crate) fn written(n: &Number) -> String {
    let sign = if n.negative { "-" } else { "" };
    let body = if let Some(frac) = &n.frac {
        let mut s = format!("{},{frac}", grouped(n.int));
        if let Some(u) = &n.unit {
            s.push(' ');
            s.push_str(u);
        }
        s
    } else if n.has_big_scale && n.int >= 1_000_000 && n.int.is_multiple_of(1_000_000) {
        round_sum(n.int, n.billion_word.as_deref().unwrap_or("tỷ"))
    } else {
        grouped(n.int)
    };
    format!("{sign}{body}")
}

/// A whole number of millions with `triệu` and `tỷ` kept as words:
/// `2.000 tỷ`, `3 tỷ 456 triệu`, `30 triệu`.
fn round_sum(v: u128, billion: &str) -> String {
    let b = v / 1_000_000_000;
    let m = (v % 1_000_000_000) / 1_000_000;
    let mut parts = Vec::new();
    if b >= 1_000_000 && b.is_multiple_of(1_000_000) {
        // `một triệu tỷ`: 1 triệu tỷ.
        parts.push(format!("{} {billion}", round_sum(b, billion)));
    } else if b > 0 {
        parts.push(format!("{} {billion}", grouped(b)));
    }
    if m > 0 {
        parts.push(format!("{} triệu", grouped(m)));
    }
    parts.join(" ")
}

/// A year: four digit words (`một chín chín chín`), `hai không` and two
/// digits (`hai không hai mốt`), or a number said whole. `(year, words)`.
pub(crate) fn year(words: &[Word], roles: &[Option<V>], i: usize) -> Option<(u128, usize)> {
    let d = |k: usize| match at(roles, i + k) {
        Some(V::Digit(d)) => Some(d),
        Some(V::After(u)) if k >= 2 => Some(u),
        _ => None,
    };
    if let (Some(a), Some(b)) = (digit(roles, i), digit(roles, i + 1))
        && a >= 1
    {
        if let (Some(c), Some(e)) = (d(2), d(3)) {
            let v = [a, b, c, e]
                .iter()
                .fold(0u128, |acc, &x| acc * 10 + u128::from(x));
            return Some((v, 4));
        }
        let two = if at(roles, i + 2) == Some(V::Linh) {
            digit(roles, i + 3)
                .filter(|&x| x >= 1)
                .map(|x| (u128::from(x), 2))
        } else {
            tens(roles, i + 2)
        };
        if let Some((v, n)) = two {
            return Some((u128::from(a) * 1000 + u128::from(b) * 100 + v, 2 + n));
        }
    }
    let n = parse(words, roles, i)?;
    let v = n.whole_up_to(9999)?;
    (n.unit.is_none() && !n.has_big_scale).then_some((v, n.len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::words;

    fn read(text: &str) -> Option<(String, usize)> {
        let ws = words(text);
        let rs = roles(&ws);
        parse(&ws, &rs, 0).map(|n| (written(&n), n.len))
    }

    #[test]
    fn cardinals() {
        let cases = [
            ("mười", "10"),
            ("mười lăm", "15"),
            ("hai mươi mốt", "21"),
            ("hai mốt", "21"),
            ("chín mươi tư", "94"),
            ("một trăm linh hai", "102"),
            ("một trăm hai", "120"),
            ("năm trăm tư", "540"),
            ("tám trăm rưỡi", "850"),
            ("một nghìn", "1.000"),
            ("năm ngàn rưỡi", "5.500"),
            ("một ngàn mốt", "1.100"),
            ("một nghìn không trăm linh năm", "1.005"),
            (
                "mười một triệu không trăm năm sáu nghìn một trăm bẩy ba",
                "11.056.173",
            ),
            ("ba mươi triệu", "30 triệu"),
            ("hai nghìn tỷ", "2.000 tỷ"),
            ("ba tỷ bốn trăm năm mươi sáu triệu", "3 tỷ 456 triệu"),
            ("một triệu hai", "1,2 triệu"),
            ("một tỷ rưỡi", "1,5 tỷ"),
            ("một phẩy năm triệu", "1,5 triệu"),
            ("chín mươi sáu phẩy hai", "96,2"),
            ("không phẩy không năm", "0,05"),
            ("âm bốn mươi hai", "-42"),
        ];
        for (spoken, want) in cases {
            assert_eq!(read(spoken).map(|r| r.0).as_deref(), Some(want), "{spoken}");
        }
    }

    #[test]
    fn year_after_tens_is_a_noun_and_overflow_is_no_number() {
        assert_eq!(read("hai mươi năm"), Some(("20".into(), 2)));
        assert_eq!(read("trăm"), None);
        let huge = "một nghìn tỷ ".repeat(40);
        assert!(read(&huge).is_some());
    }

    #[test]
    fn years() {
        for (spoken, want) in [
            ("một chín chín chín", 1999),
            ("hai không hai mốt", 2021),
            ("hai không linh chín", 2009),
            ("hai nghìn không trăm hai mươi sáu", 2026),
        ] {
            let ws = words(spoken);
            let rs = roles(&ws);
            assert_eq!(year(&ws, &rs, 0).map(|y| y.0), Some(want), "{spoken}");
        }
    }
}
