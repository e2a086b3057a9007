//! Audio capture, the first stage of live transcription.
//!
//! Every source — a sound card through cpal ([`CpalSource`]), a file played
//! at real-time pace ([`FileSource`]), raw PCM on standard input
//! ([`StdinSource`]) — implements [`Source`]: it yields [`CaptureEvent`]s
//! carrying [`Block`]s of the selected channels, de-interleaved and
//! resampled to 16 kHz, on one stream timeline counted in 16 kHz frames.
//! Time the stream lost (a full ring, a device that disappeared) is
//! reported as a [`CaptureEvent::Gap`] and advances the timeline, so that
//! timestamps stay true to the hall's clock.
//!
//! The audio callback of [`CpalSource`] never blocks and never allocates:
//! it converts samples to `f32` and writes them into a lock-free
//! single-producer single-consumer ring (`rtrb`); when the ring is full,
//! the samples are dropped and counted ([`CaptureStats::overruns`]).
//!
//! A [`HallMap`] names the channels: which seat, which delegate, the chair.

mod assemble;
mod device;
pub mod error;
mod file;
mod hallmap;
mod pcm;
mod quiet;
mod ring;

use std::time::Duration;

pub use device::{
    Backoff, ConfigInfo, ConfigRange, CpalOptions, CpalSource, DeviceInfo, list_devices,
};
pub use error::{Error, Result};
pub use file::{FileOptions, FileSource};
pub use hallmap::{HallMap, Role, Seat};
pub use pcm::{PcmFormat, PcmOptions, StdinSource};

/// The rate of every [`Block`]: Whisper's 16 kHz.
pub const SAMPLE_RATE: u32 = tocky_audio::SAMPLE_RATE;

/// Audio of the selected channels, de-interleaved, at 16 kHz.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The first frame's position on the stream timeline (16 kHz frames
    /// since the source started; gaps advance it).
    pub start_frame: u64,
    /// One vector per selected channel, in selection order, all the same length.
    pub channels: Vec<Vec<f32>>,
}

impl Block {
    /// Frames in the block (the length of each channel).
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// The position just after the block's last frame.
    pub fn end_frame(&self) -> u64 {
        self.start_frame + self.frames() as u64
    }
}

/// What a source yields.
#[derive(Debug, Clone, PartialEq)]
pub enum CaptureEvent {
    /// Audio.
    Audio(Block),
    /// The stream lost `missing_frames` frames (16 kHz) at `at_frame`: the
    /// next block starts at `at_frame + missing_frames`.
    Gap {
        /// Where the gap starts on the stream timeline (the end of the last block).
        at_frame: u64,
        /// How many 16 kHz frames are missing.
        missing_frames: u64,
        /// Why: an overrun, or a device that disappeared and came back.
        reason: String,
    },
    /// The source has no more audio (end of file or of input).
    Ended,
}

/// Counters of a source, cheap to read at any time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CaptureStats {
    /// Audio callbacks whose samples did not all fit in the ring (samples dropped).
    pub overruns: u64,
    /// How full the ring is, 0..1 (0 for sources without a ring).
    pub ring_fill: f32,
    /// 16 kHz frames delivered in blocks so far.
    pub frames_captured: u64,
    /// Gap events so far (overruns and device losses).
    pub gaps: u64,
    /// 16 kHz frames lost in gaps so far.
    pub missing_frames: u64,
    /// Whether the source is delivering now (false while a lost device is being reopened).
    pub connected: bool,
}

/// A source of audio: a sound card, a file, a pipe.
pub trait Source: Send {
    /// Waits up to `timeout` for the next event; `Ok(None)` when none came in time.
    ///
    /// After [`CaptureEvent::Ended`], every call returns `Ended` again.
    fn next_event(&mut self, timeout: Duration) -> Result<Option<CaptureEvent>>;
    /// The counters now.
    fn stats(&self) -> CaptureStats;
    /// How many channels each block carries.
    fn channels(&self) -> usize;
}

/// Checks a channel selection against a source's channel count; an empty
/// selection means channel 0 alone.
pub(crate) fn check_selection(selected: &[usize], channels: usize) -> Result<Vec<usize>> {
    let selected = if selected.is_empty() {
        vec![0]
    } else {
        selected.to_vec()
    };
    for (i, &c) in selected.iter().enumerate() {
        if c >= channels {
            return Err(Error::NoSuchChannel {
                requested: c,
                channels,
            });
        }
        if selected[..i].contains(&c) {
            return Err(Error::DuplicateChannel(c));
        }
    }
    Ok(selected)
}

#[cfg(test)]
#[global_allocator]
static ALLOCATOR: assert_no_alloc::AllocDisabler = assert_no_alloc::AllocDisabler;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn selections_are_checked() {
        assert_eq!(check_selection(&[], 2).unwrap(), vec![0]);
        assert_eq!(check_selection(&[3, 1], 4).unwrap(), vec![3, 1]);
        assert!(matches!(
            check_selection(&[4], 4),
            Err(Error::NoSuchChannel {
                requested: 4,
                channels: 4
            })
        ));
        assert!(matches!(
            check_selection(&[1, 1], 4),
            Err(Error::DuplicateChannel(1))
        ));
    }
}
