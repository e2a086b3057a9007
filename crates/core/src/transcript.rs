//! Timestamped transcripts.

use serde::{Deserialize, Deserializer, Serialize};

/// Reads a probability as serde_json wrote it. JSON has no NaN or infinity,
/// so serde_json writes those as `null`; `null` reads back as NaN, so that
/// every transcript written can be read again.
fn f32_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    Ok(Option::<f32>::deserialize(d)?.unwrap_or(f32::NAN))
}

/// One word (for Vietnamese, one syllable) with its time span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    /// The word as written, NFC, without surrounding spaces.
    pub text: String,
    /// Start, in milliseconds from the start of the audio.
    pub start_ms: u64,
    /// End, in milliseconds from the start of the audio.
    pub end_ms: u64,
    /// The model's confidence, 0 to 1 (the mean of its tokens' probabilities).
    /// NaN, written `null`, if it was not a number.
    #[serde(deserialize_with = "f32_or_null")]
    pub probability: f32,
}

/// A stretch of speech: one decoded sentence or clause.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Segment {
    /// Start, in milliseconds from the start of the audio.
    pub start_ms: u64,
    /// End, in milliseconds from the start of the audio.
    pub end_ms: u64,
    /// The text, NFC, trimmed.
    pub text: String,
    /// The words with their own times; may be empty when timing is off.
    pub words: Vec<Word>,
    /// The audio channel it was heard on, when channels are transcribed
    /// separately (one microphone group, one speaker, per channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<u32>,
    /// The model's confidence, 0 to 1: the mean of its tokens' probabilities.
    /// NaN, written `null`, if it was not a number.
    #[serde(default, deserialize_with = "f32_or_null")]
    pub probability: f32,
    /// The mean log-probability of its tokens (closer to 0 is surer).
    /// NaN, written `null`, if it was not a finite number.
    #[serde(default, deserialize_with = "f32_or_null")]
    pub avg_logprob: f32,
    /// The model's probability that the window held no speech.
    /// NaN, written `null`, if it was not a number.
    #[serde(default, deserialize_with = "f32_or_null")]
    pub no_speech_prob: f32,
}

/// A whole transcript of one audio input.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Transcript {
    /// The language decoded, as an ISO 639-1 code such as `vi`.
    pub language: String,
    /// The audio's duration in milliseconds.
    pub duration_ms: u64,
    /// The segments in time order.
    pub segments: Vec<Segment>,
}

impl Transcript {
    /// The segments' texts joined by spaces.
    pub fn text(&self) -> String {
        let parts: Vec<&str> = self.segments.iter().map(|s| s.text.as_str()).collect();
        parts.join(" ")
    }
}

/// Formats milliseconds as `H:MM:SS`, for people (progress, printed records).
pub fn format_clock(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Checks that `date` is a `YYYY-MM-DD` date, as sittings are dated.
pub fn check_date(date: &str) -> Result<(), String> {
    let ok = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let number = |range: std::ops::Range<usize>| date.get(range)?.parse::<u32>().ok();
    let real = ok
        && match (number(0..4), number(5..7), number(8..10)) {
            (Some(year), Some(month @ 1..=12), Some(day)) => {
                let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
                let days = match month {
                    2 if leap => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                (1..=days).contains(&day)
            }
            _ => false,
        };
    if real {
        Ok(())
    } else {
        Err(format!("{date:?} is not a date like 2026-10-21"))
    }
}

/// Today's date in UTC, `YYYY-MM-DD`: the default date of a live sitting.
pub fn today_utc() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date(seconds / 86_400)
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_date(days: u64) -> String {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Formats milliseconds as `HH:MM:SS.mmm`.
pub fn format_timestamp(ms: u64) -> String {
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    format!("{h:02}:{m:02}:{:02}.{:03}", rest / 1000, rest % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_count_from_the_epoch() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(59), "1970-03-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(20_424), "2025-12-02");
        assert!(check_date(&today_utc()).is_ok());
    }

    #[test]
    fn clocks_and_dates() {
        assert_eq!(format_clock(3_723_999), "1:02:03");
        assert!(check_date("2026-10-21").is_ok());
        assert!(check_date("2024-02-29").is_ok());
        for bad in [
            "21-10-2026",
            "2026/10/21",
            "2026-10-2",
            "",
            "2026-1x-21",
            "2026-13-45",
            "2026-00-10",
            "2026-04-31",
            "2026-02-29",
            "1900-02-29",
        ] {
            assert!(check_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_format_hours_minutes_seconds_millis() {
        assert_eq!(format_timestamp(0), "00:00:00.000");
        assert_eq!(format_timestamp(3_723_004), "01:02:03.004");
    }

    #[test]
    fn transcript_round_trips_through_json() {
        let t = Transcript {
            language: "vi".into(),
            duration_ms: 1500,
            segments: vec![Segment {
                start_ms: 0,
                end_ms: 1500,
                text: "Quốc hội".into(),
                words: vec![Word {
                    text: "Quốc".into(),
                    start_ms: 0,
                    end_ms: 700,
                    probability: 0.9,
                }],
                channel: Some(2),
                ..Segment::default()
            }],
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Transcript>(&json).unwrap(), t);
        assert_eq!(t.text(), "Quốc hội");
    }
}
