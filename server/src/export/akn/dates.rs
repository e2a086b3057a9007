//! Calendar dates without a date crate: the record's dates are days
//! since 1970-01-01 (proleptic Gregorian, Howard Hinnant's algorithms),
//! written as `xsd:date` and `xsd:dateTime`.

use std::time::{SystemTime, UNIX_EPOCH};

/// `YYYY-MM-DD…` as days since 1970-01-01.
pub(super) fn parse_date(text: &str) -> Option<i64> {
    let date = text.get(..10)?;
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 || !date.is_ascii() {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let days = days_from_civil(y, m, d);
    // Refuses 2026-02-31 and the like: the day must come back the same.
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// `YYYY-MM-DD` of a day since 1970-01-01.
pub(super) fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today (UTC) as days since 1970-01-01.
pub(super) fn today() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs / 86_400).unwrap_or(0)
}

/// An `xsd:dateTime` `ms` after the start of `day`: the recording's
/// offsets laid on the sitting's date (the store knows no clock time).
pub(super) fn date_time(day: i64, ms: i64) -> String {
    let ms = ms.max(0);
    let (secs, milli) = (ms / 1000, ms % 1000);
    let date = format_date(day + secs / 86_400);
    let s = secs % 86_400;
    let time = format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    if milli == 0 {
        format!("{date}T{time}")
    } else {
        format!("{date}T{time}.{milli:03}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_refuse_impossible_days() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        let day = parse_date("2026-10-21").unwrap_or_default();
        assert_eq!(format_date(day), "2026-10-21");
        assert_eq!(parse_date("2026-02-31"), None);
        assert_eq!(
            parse_date("2024-02-29T10:00:00Z")
                .map(format_date)
                .as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(parse_date("hôm nay"), None);
        assert_eq!(date_time(day, 3_723_456), "2026-10-21T01:02:03.456");
        assert_eq!(date_time(day, 86_400_000 + 5_000), "2026-10-22T00:00:05");
    }
}
