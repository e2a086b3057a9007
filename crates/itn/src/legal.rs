//! Legal references and ordinals: `điều 12 khoản 3`, `mục 2`,
//! `Nghị quyết số 27/2022/QH15`, `kỳ họp thứ 10`, and the Roman numerals of
//! `khóa XV` and `chương II`. These numbers are written in digits however
//! small, and without a thousands separator (they are labels, not amounts).

use crate::numbers::{Number, V, year};
use crate::roman::roman;
use crate::{Found, Kind, Phrase};

/// The words that introduce an article, clause or section.
const ARTICLE: &[&str] = &["điều", "khoản", "mục"];
/// The words that take Roman numerals.
const ROMAN: &[&str] = &["khóa", "chương"];
/// Words that, after `điều một`, make it an idiom (`điều một số`...).
const NOT_AFTER_ONE: &[&str] = &["số", "trong", "cách", "chút", "lúc", "phần"];
/// Names of texts whose `số` is a document number.
const DOCUMENTS: &[&str] = &[
    "quyết", "định", "luật", "tư", "thị", "lệnh", "trình", "cáo", "văn", "bản", "kết", "án",
];
/// The spoken slash of a document number.
const SLASH: &[&str] = &["trên", "xuyệt", "xuỵt", "xẹt", "sẹc", "xuyệc"];
/// What names a numbered sitting before `thứ`.
const SITTINGS: &[&str] = &["họp", "phiên", "kỳ"];
/// Other ordinals of events, in digits from 10 up (`lần thứ hai`, but
/// `Hội nghị lần thứ 13`).
const EVENTS: &[&str] = &["lần", "đợt"];

/// A label number: whole, from 1 to 9999, with no scale word.
fn label(n: &Number) -> Option<u128> {
    n.whole_up_to(9999)
        .filter(|&v| v >= 1 && !n.has_big_scale && n.unit.is_none())
}

/// The legal rule that applies at word `i`, if any.
pub(crate) fn at(ph: &Phrase<'_>, i: usize) -> Option<Found> {
    let o = ph.options;
    if o.legal && ph.is_any(i, ARTICLE) {
        let n = ph.number(i + 1)?;
        let v = label(&n)?;
        if v == 1 && n.single && ph.is_any(i + 1 + n.len, NOT_AFTER_ONE) {
            return None;
        }
        return Some(Found::one(i + 1, i + 1 + n.len, v.to_string(), Kind::Legal));
    }
    if o.roman && ph.is_any(i, ROMAN) {
        let n = ph.number(i + 1)?;
        let r = roman(label(&n)?)?;
        return Some(Found::one(i + 1, i + 1 + n.len, r, Kind::Roman));
    }
    if o.legal && ph.is(i, "số") {
        return document_number(ph, i);
    }
    let sitting = i > 0 && ph.is_any(i - 1, SITTINGS);
    let event = i > 0 && ph.is_any(i - 1, EVENTS);
    if o.legal && ph.is(i, "thứ") && (sitting || event) {
        if sitting && ph.roles.get(i + 1).copied().flatten() == Some(V::After(4)) {
            return Some(Found::one(i + 1, i + 2, "4".into(), Kind::Ordinal));
        }
        let n = ph.number(i + 1)?;
        let v = label(&n).filter(|&v| sitting || v >= 10)?;
        return Some(Found::one(
            i + 1,
            i + 1 + n.len,
            v.to_string(),
            Kind::Ordinal,
        ));
    }
    None
}

/// Whether the code word at `i` is an agency's letters (`QH`, `NĐ-CP`).
fn code(ph: &Phrase<'_>, i: usize) -> bool {
    let t = ph.text(i);
    t.chars().any(char::is_uppercase)
        && t.chars()
            .all(|c| c.is_uppercase() || c.is_ascii_digit() || c == '-')
}

/// `số` and a number, with its spoken slashes: `số hai mươi bảy trên hai
/// không hai hai trên QH mười lăm` → `số 27/2022/QH15`. Without a slash the
/// number is a document's only after a document's name (`Luật số 5`);
/// elsewhere `số` is left to the other rules.
fn document_number(ph: &Phrase<'_>, i: usize) -> Option<Found> {
    let n = ph.number(i + 1)?;
    let first = label(&n)?;
    let mut text = first.to_string();
    let mut pos = i + 1 + n.len;
    let mut parts = 0;
    while ph.is_any(pos, SLASH) {
        let part = pos + 1;
        if code(ph, part) {
            let mut piece = ph.text(part).to_owned();
            let mut end = part + 1;
            if let Some(m) = ph
                .number(end)
                .as_ref()
                .and_then(|m| label(m).map(|v| (v, m.len)))
            {
                piece.push_str(&m.0.to_string());
                end += m.1;
            }
            text.push('/');
            text.push_str(&piece);
            pos = end;
        } else if let Some((y, len)) = year(ph.words, &ph.roles, part) {
            text.push('/');
            text.push_str(&y.to_string());
            pos = part + len;
        } else {
            break;
        }
        parts += 1;
    }
    if parts == 0 {
        let after_document = i > 0 && ph.is_any(i - 1, DOCUMENTS);
        if !after_document {
            return None;
        }
        pos = i + 1 + n.len;
    }
    Some(Found::one(i + 1, pos, text, Kind::Legal))
}
