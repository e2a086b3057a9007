//! What a live sitting reports at its end.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use tocky_capture::SAMPLE_RATE;

/// A whole sitting.
#[derive(Debug, Clone)]
pub struct LiveSummary {
    /// The session in the record.
    pub session_id: i64,
    /// How long the sitting ran.
    pub wall: Duration,
    /// The audio archive.
    pub archive: PathBuf,
    /// The archive's length in ms (gaps included, as silence).
    pub archive_ms: u64,
    /// The capture's health.
    pub capture: CaptureSummary,
    /// Each channel, in the source's order.
    pub channels: Vec<ChannelSummary>,
}

/// The capture's health over the sitting.
#[derive(Debug, Clone, Default)]
pub struct CaptureSummary {
    /// 16 kHz frames captured.
    pub frames: u64,
    /// Callbacks whose samples did not fit in the ring.
    pub overruns: u64,
    /// Gaps (overruns, device losses).
    pub gaps: u64,
    /// 16 kHz frames lost in gaps.
    pub missing_frames: u64,
    /// The fullest the ring got (0 to 1).
    pub max_ring_fill: f32,
    /// The error that ended the capture, if one did.
    pub error: Option<String>,
}

/// One channel over the sitting.
#[derive(Debug, Clone, Default)]
pub struct ChannelSummary {
    /// The hall's channel number.
    pub channel: u32,
    /// The speaker from the hall map.
    pub speaker: Option<String>,
    /// 16 kHz frames recognised.
    pub audio_frames: u64,
    /// Wall time spent recognising them.
    pub busy: Duration,
    /// Segments stored.
    pub segments: u64,
    /// Partial decodes run.
    pub partial_decodes: u64,
    /// Finals encoded on the utterance alone (the channel was behind, or
    /// `FinalContext::Utterance` asked for it).
    pub short_finals: u64,
    /// Partials skipped because the channel was behind.
    pub partials_skipped_behind: u64,
    /// Seconds from the end of each utterance to its final text.
    pub final_latency: Vec<f64>,
    /// Seconds from the start of each utterance to its first partial.
    pub first_partial: Vec<f64>,
    /// Recognition or store errors (logged as they happened).
    pub errors: u64,
}

impl ChannelSummary {
    /// Audio seconds recognised per wall second spent recognising: above 1
    /// keeps up with real time.
    pub fn realtime_factor(&self) -> f64 {
        let busy = self.busy.as_secs_f64();
        if busy > 0.0 {
            self.audio_frames as f64 / f64::from(SAMPLE_RATE) / busy
        } else {
            0.0
        }
    }
}

/// Percentiles of a set of latencies, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latencies {
    /// How many.
    pub count: usize,
    /// The median.
    pub p50: f64,
    /// The 95th percentile.
    pub p95: f64,
    /// The largest.
    pub max: f64,
}

impl Latencies {
    /// Percentiles (nearest rank) of `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let i = (p * sorted.len() as f64).ceil() as usize;
            sorted[i.clamp(1, sorted.len()) - 1]
        };
        Some(Self {
            count: sorted.len(),
            p50: rank(0.50),
            p95: rank(0.95),
            max: sorted[sorted.len() - 1],
        })
    }
}

impl fmt::Display for Latencies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {:.2} s, p95 {:.2} s, max {:.2} s (n={})",
            self.p50, self.p95, self.max, self.count
        )
    }
}

fn latencies(values: &[f64]) -> String {
    Latencies::of(values).map_or_else(|| "none".into(), |l| l.to_string())
}

impl fmt::Display for LiveSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.capture;
        let seconds = |frames: u64| frames as f64 / f64::from(SAMPLE_RATE);
        writeln!(
            f,
            "live session {}: {:.1} s of audio in {:.1} s",
            self.session_id,
            seconds(c.frames),
            self.wall.as_secs_f64()
        )?;
        writeln!(
            f,
            "  archive {} ({:.1} s)",
            self.archive.display(),
            self.archive_ms as f64 / 1000.0
        )?;
        writeln!(
            f,
            "  capture: {} overrun(s), {} gap(s) ({:.1} s lost), ring at most {:.0}% full",
            c.overruns,
            c.gaps,
            seconds(c.missing_frames),
            c.max_ring_fill * 100.0
        )?;
        if let Some(error) = &c.error {
            writeln!(f, "  capture ended by an error: {error}")?;
        }
        for ch in &self.channels {
            let who = ch
                .speaker
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            writeln!(
                f,
                "  channel {}{who}: {} segment(s), {:.1}x real time, {} partial decode(s), {} error(s)",
                ch.channel,
                ch.segments,
                ch.realtime_factor(),
                ch.partial_decodes,
                ch.errors
            )?;
            if ch.short_finals > 0 || ch.partials_skipped_behind > 0 {
                writeln!(
                    f,
                    "    {} final(s) on the utterance's own context, {} partial(s) skipped while behind",
                    ch.short_finals, ch.partials_skipped_behind
                )?;
            }
            writeln!(
                f,
                "    end of speech to final: {}",
                latencies(&ch.final_latency)
            )?;
            writeln!(
                f,
                "    start of speech to first partial: {}",
                latencies(&ch.first_partial)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        assert_eq!(Latencies::of(&[]), None);
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        let l = Latencies::of(&values).unwrap_or_else(|| unreachable!());
        assert_eq!((l.count, l.p50, l.p95, l.max), (20, 10.0, 19.0, 20.0));
        let one = Latencies::of(&[0.5]).unwrap_or_else(|| unreachable!());
        assert_eq!((one.p50, one.p95), (0.5, 0.5));
    }
}
