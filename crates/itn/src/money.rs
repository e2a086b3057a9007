//! Percentages and sums of money: `96,2%`, `500.000 đồng`, `2.000 tỷ đồng`,
//! `1,5 triệu đồng`, `5 USD`. A number before `phần trăm` or a currency is
//! written in digits however small; `phần trăm` becomes `%` with no space,
//! as Vietnamese official texts write it. The currency stays as said.

use crate::numbers::{Number, written};
use crate::{Found, Kind, Phrase};

/// Currencies said after a number.
const CURRENCIES: &[&str] = &[
    "đồng", "usd", "đô", "đôla", "euro", "yên", "won", "rúp", "ringgit",
];
/// Words after `đồng` that make it another word (`một đồng chí`,
/// `không đồng ý`): then a small number before it stays.
const DONG_COMPOUNDS: &[&str] = &[
    "ý", "chí", "thời", "bào", "tình", "bằng", "hồ", "nghiệp", "thuận", "loạt", "bộ", "đều",
    "lòng", "hành", "minh", "dạng", "nhất", "cảm", "phục", "tâm", "hương", "lúa", "ruộng", "sức",
    "đội", "môn", "niên", "khởi", "chủ", "sở", "tác", "trinh", "âm", "hóa", "xu", "diễn",
];

/// A percentage or a sum of money that starts with the number at `i`.
pub(crate) fn after_number(ph: &Phrase<'_>, i: usize, n: &Number) -> Option<Found> {
    let end = i + n.len;
    if ph.is(end, "phần") && ph.is(end + 1, "trăm") {
        return Some(Found::one(
            i,
            end + 2,
            format!("{}%", written(n)),
            Kind::Percent,
        ));
    }
    if ph.is_any(end, CURRENCIES) {
        let small = n.single;
        if small && ph.is(end, "đồng") && (n.int == 0 || ph.is_any(end + 1, DONG_COMPOUNDS)) {
            return None;
        }
        return Some(Found::one(i, end, written(n), Kind::Money));
    }
    None
}
