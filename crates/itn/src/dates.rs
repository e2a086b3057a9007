//! Dates and times: `ngày 21 tháng 10 năm 2026`, `mùng 5 tháng 8`,
//! `tháng 4`, `năm 1999`, `9 giờ 30 phút`, `10 giờ kém 15`, `3 phút`.
//!
//! Only the numbers change; `ngày`, `tháng`, `năm`, `giờ`, `phút` stay
//! words, as official texts write them. A year is never grouped. `tháng một`,
//! `tháng hai` and `tháng năm` are also "one month", "two months", "months
//! and years", so they become digits only inside a date (a day before, or
//! a year after).

use crate::numbers::{Number, V, year};
use crate::{Edit, Found, Kind, Phrase};

/// Months whose word is also a count or a noun.
const AMBIGUOUS_MONTHS: [u128; 3] = [1, 2, 5];

/// A date or time rule that applies at word `i`, if any. `last` is the
/// phrase's previous edit, which tells whether a date or a time goes on.
pub(crate) fn at(ph: &Phrase<'_>, i: usize, last: Option<&Edit>) -> Option<Found> {
    let after = |kind: Kind| last.is_some_and(|e| e.kind == kind && e.end == i);
    if ph.is_any(i, &["mùng", "mồng"]) {
        let n = ph.number(i + 1)?;
        let d = day(&n)?;
        return Some(Found::one(i + 1, i + 1 + n.len, d.to_string(), Kind::Date));
    }
    if ph.is(i, "ngày") {
        let n = ph.number(i + 1)?;
        let d = day(&n)?;
        let end = i + 1 + n.len;
        return (d >= 10 || ph.is(end, "tháng"))
            .then(|| Found::one(i + 1, end, d.to_string(), Kind::Date));
    }
    if ph.is(i, "tháng") {
        return month(ph, i, after(Kind::Date));
    }
    // `giai đoạn 2021 đến 2025`: years after `giai đoạn`, and a year after
    // `đến` that follows one.
    let year_follows_year = ph.is_any(i, &["đến", "tới"])
        && last.is_some_and(|e| e.kind == Kind::Date && e.end == i && e.text.len() == 4);
    // `2021 – 2026`: a year after a dash that follows one (the phrase
    // before ended with it; see `Itn::line`).
    if i == 0 && last.is_some_and(|e| e.kind == Kind::Date && e.end == 0 && e.text.len() == 4) {
        let (y, len) = year(ph.words, &ph.roles, 0)?;
        return (1000..=9999)
            .contains(&y)
            .then(|| Found::one(0, len, y.to_string(), Kind::Date));
    }
    let period = (ph.is(i, "đoạn") && i > 0 && ph.is(i - 1, "giai"))
        || (ph.is(i, "kỳ") && i > 0 && ph.is(i - 1, "nhiệm"));
    if period || year_follows_year {
        let (y, len) = year(ph.words, &ph.roles, i + 1)?;
        return (1000..=9999)
            .contains(&y)
            .then(|| Found::one(i + 1, i + 1 + len, y.to_string(), Kind::Date));
    }
    if ph.is(i, "năm") {
        let (y, len) = year(ph.words, &ph.roles, i + 1)?;
        let in_date = after(Kind::Date);
        // Out of a date, only years a speech names (`năm sáu nghìn người`
        // is "five or six thousand").
        return (in_date || (1000..=2199).contains(&y))
            .then(|| Found::one(i + 1, i + 1 + len, y.to_string(), Kind::Date));
    }
    // `mười giờ kém mười lăm`: the minutes before the hour.
    let before_hour = ph.is(i, "kém")
        && i > 0
        && ph.is(i - 1, "giờ")
        && last.is_some_and(|e| e.kind == Kind::Time && e.end + 1 == i);
    if (ph.is(i, "giờ") && after(Kind::Time)) || before_hour {
        // Minutes after the hour: `chín giờ ba mươi (phút)`, `sáu giờ
        // không tám phút`, `năm giờ linh năm`, `tám giờ hai ba phút`.
        let digit = |k: usize| match ph.roles.get(k).copied().flatten() {
            Some(V::Digit(d)) => Some(u128::from(d)),
            Some(V::After(u)) => Some(u128::from(u)),
            _ => None,
        };
        let leading_zero = ph.is_any(i + 1, &["không", "linh", "lẻ"]);
        if let (true, Some(m)) = (leading_zero, digit(i + 2))
            && m >= 1
        {
            return Some(Found::one(i + 1, i + 3, m.to_string(), Kind::Time));
        }
        if let (Some(t), Some(u)) = (digit(i + 1), digit(i + 2))
            && (1..=5).contains(&t)
            && u >= 1
            && ph.is(i + 3, "phút")
            && !matches!(ph.roles.get(i + 2).copied().flatten(), Some(V::After(_)))
        {
            return Some(Found::one(
                i + 1,
                i + 3,
                (t * 10 + u).to_string(),
                Kind::Time,
            ));
        }
        let n = ph.number(i + 1)?;
        let m = n.whole_up_to(59)?;
        let end = i + 1 + n.len;
        let unit = ph.is(end, "phút");
        return (unit || !n.single || before_hour)
            .then(|| Found::one(i + 1, end, m.to_string(), Kind::Time));
    }
    if ph.is(i, "phút") && after(Kind::Time) {
        let n = ph.number(i + 1)?;
        let s = n.whole_up_to(59)?;
        let end = i + 1 + n.len;
        return ph
            .is(end, "giây")
            .then(|| Found::one(i + 1, end, s.to_string(), Kind::Time));
    }
    None
}

fn day(n: &Number) -> Option<u128> {
    n.whole_up_to(31).filter(|&d| d >= 1)
}

/// `tháng` and a month, at word `i`.
fn month(ph: &Phrase<'_>, i: usize, after_day: bool) -> Option<Found> {
    let (m, len, single) = if ph.roles.get(i + 1).copied().flatten() == Some(V::After(4)) {
        (4, 1, false)
    } else {
        let n = ph.number(i + 1)?;
        (n.whole_up_to(12).filter(|&m| m >= 1)?, n.len, n.single)
    };
    let end = i + 1 + len;
    if ph.is(end, "lần") {
        return None;
    }
    let year_follows = ph.is(end, "năm") && year(ph.words, &ph.roles, end + 1).is_some();
    if single && AMBIGUOUS_MONTHS.contains(&m) && !after_day && !year_follows {
        return None;
    }
    Some(Found::one(i + 1, end, m.to_string(), Kind::Date))
}

/// Hours, minutes and seconds said before `giờ`, `phút`, `giây`: digits.
pub(crate) fn time_after_number(ph: &Phrase<'_>, i: usize, n: &Number) -> Option<Found> {
    let end = i + n.len;
    let limit = if ph.is(end, "giờ") {
        24
    } else if ph.is_any(end, &["phút", "giây"]) {
        u128::MAX
    } else {
        return None;
    };
    if n.negative || n.unit.is_some() || n.int > limit {
        return None;
    }
    // `không phút nào`: "not a minute", not zero minutes.
    if n.single && n.int == 0 && ph.is(end + 1, "nào") {
        return None;
    }
    Some(Found::one(i, end, crate::numbers::written(n), Kind::Time))
}
