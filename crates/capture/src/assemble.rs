//! From interleaved frames at the source's rate to [`Block`]s on the
//! 16 kHz stream timeline, with gaps.

use std::collections::VecDeque;

use tocky_audio::resample::MonoResampler;

use crate::error::Result;
use crate::ring::deinterleave;
use crate::{Block, CaptureEvent, SAMPLE_RATE};

/// Turns runs of interleaved frames into blocks and gap events.
///
/// Each run of continuous audio (a *segment*) goes through its own
/// resamplers, flushed at its end, so the segment's 16 kHz length is exact
/// (its input frames × 16 000 / rate) and a gap starts exactly where the
/// audio before it ends.
pub(crate) struct Assembler {
    from_hz: u32,
    width: usize,
    all: Vec<usize>,
    resamplers: Vec<MonoResampler>,
    deinterleaved: Vec<Vec<f32>>,
    out: Vec<Vec<f32>>,
    /// The timeline position of the next output frame.
    next_frame: u64,
    /// Input frames in the current segment (for exact gap sizes).
    segment_in: u64,
    pub(crate) frames_out: u64,
    pub(crate) gaps: u64,
    pub(crate) missing: u64,
}

impl Assembler {
    /// An assembler for `width` interleaved channels at `from_hz`.
    pub(crate) fn new(from_hz: u32, width: usize) -> Result<Self> {
        let width = width.max(1);
        Ok(Self {
            from_hz,
            width,
            all: (0..width).collect(),
            resamplers: Self::resamplers(from_hz, width)?,
            deinterleaved: vec![Vec::new(); width],
            out: vec![Vec::new(); width],
            next_frame: 0,
            segment_in: 0,
            frames_out: 0,
            gaps: 0,
            missing: 0,
        })
    }

    fn resamplers(from_hz: u32, width: usize) -> Result<Vec<MonoResampler>> {
        (0..width)
            .map(|_| MonoResampler::new(from_hz, SAMPLE_RATE).map_err(Into::into))
            .collect()
    }

    /// The source rate.
    pub(crate) fn rate(&self) -> u32 {
        self.from_hz
    }

    /// The timeline position of the next frame.
    #[cfg(test)]
    pub(crate) fn next_frame(&self) -> u64 {
        self.next_frame
    }

    /// Source frames converted to 16 kHz frames (rounded to nearest).
    pub(crate) fn to_timeline(&self, frames: u64) -> u64 {
        let rate = u128::from(self.from_hz.max(1));
        u64::try_from((u128::from(frames) * u128::from(SAMPLE_RATE) + rate / 2) / rate)
            .unwrap_or(u64::MAX)
    }

    /// Feeds interleaved frames; queues a block when output is ready.
    pub(crate) fn push(
        &mut self,
        interleaved: &[f32],
        queue: &mut VecDeque<CaptureEvent>,
    ) -> Result<()> {
        for c in &mut self.deinterleaved {
            c.clear();
        }
        deinterleave(interleaved, self.width, &self.all, &mut self.deinterleaved);
        self.segment_in += (interleaved.len() / self.width) as u64;
        for ((r, input), out) in self
            .resamplers
            .iter_mut()
            .zip(&self.deinterleaved)
            .zip(&mut self.out)
        {
            r.push(input, out)?;
        }
        self.emit(queue);
        Ok(())
    }

    /// Ends the current segment: flushes the resamplers' tails.
    pub(crate) fn flush(&mut self, queue: &mut VecDeque<CaptureEvent>) -> Result<()> {
        if self.segment_in == 0 {
            return Ok(());
        }
        for (r, out) in self.resamplers.iter_mut().zip(&mut self.out) {
            r.finish(out)?;
        }
        self.emit(queue);
        self.resamplers = Self::resamplers(self.from_hz, self.width)?;
        self.segment_in = 0;
        Ok(())
    }

    /// Ends the segment, then records a gap of `missing` 16 kHz frames.
    pub(crate) fn gap(
        &mut self,
        missing: u64,
        reason: String,
        queue: &mut VecDeque<CaptureEvent>,
    ) -> Result<()> {
        self.flush(queue)?;
        if missing == 0 {
            return Ok(());
        }
        queue.push_back(CaptureEvent::Gap {
            at_frame: self.next_frame,
            missing_frames: missing,
            reason,
        });
        self.next_frame += missing;
        self.gaps += 1;
        self.missing += missing;
        Ok(())
    }

    /// Ends the segment and continues at another source rate.
    pub(crate) fn set_rate(
        &mut self,
        from_hz: u32,
        queue: &mut VecDeque<CaptureEvent>,
    ) -> Result<()> {
        self.flush(queue)?;
        if from_hz != self.from_hz {
            self.from_hz = from_hz;
            self.resamplers = Self::resamplers(from_hz, self.width)?;
        }
        Ok(())
    }

    fn emit(&mut self, queue: &mut VecDeque<CaptureEvent>) {
        let n = self.out.iter().map(Vec::len).min().unwrap_or(0);
        if n == 0 {
            return;
        }
        let channels = self
            .out
            .iter_mut()
            .map(|c| c.drain(..n).collect())
            .collect();
        queue.push_back(CaptureEvent::Audio(Block {
            start_frame: self.next_frame,
            channels,
        }));
        self.next_frame += n as u64;
        self.frames_out += n as u64;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Checks that events tile the timeline: each starts where the last ended.
    fn timeline(events: &VecDeque<CaptureEvent>) -> u64 {
        let mut at = 0;
        for e in events {
            match e {
                CaptureEvent::Audio(b) => {
                    assert_eq!(b.start_frame, at);
                    at = b.end_frame();
                }
                CaptureEvent::Gap {
                    at_frame,
                    missing_frames,
                    ..
                } => {
                    assert_eq!(*at_frame, at);
                    at += missing_frames;
                }
                CaptureEvent::Ended => {}
            }
        }
        at
    }

    #[test]
    fn gaps_advance_the_timeline_exactly() {
        let mut a = Assembler::new(48_000, 2).unwrap();
        let mut q = VecDeque::new();
        // 1 s of audio in uneven callbacks, then a 0.25 s gap, then 0.5 s.
        let second = vec![0.1f32; 48_000 * 2];
        for chunk in second.chunks(2 * 441) {
            a.push(chunk, &mut q).unwrap();
        }
        let missing = a.to_timeline(12_000);
        assert_eq!(missing, 4_000);
        a.gap(missing, "overrun".into(), &mut q).unwrap();
        a.push(&vec![0.1f32; 24_000 * 2], &mut q).unwrap();
        a.flush(&mut q).unwrap();
        let gaps: Vec<_> = q
            .iter()
            .filter_map(|e| match e {
                CaptureEvent::Gap {
                    at_frame,
                    missing_frames,
                    ..
                } => Some((*at_frame, *missing_frames)),
                _ => None,
            })
            .collect();
        assert_eq!(gaps, [(16_000, 4_000)]);
        assert_eq!(timeline(&q), 16_000 + 4_000 + 8_000);
        assert_eq!(a.frames_out, 24_000);
        assert_eq!((a.gaps, a.missing), (1, 4_000));
        for e in &q {
            if let CaptureEvent::Audio(b) = e {
                assert_eq!(b.channels.len(), 2);
                assert_eq!(b.channels[0].len(), b.channels[1].len());
            }
        }
    }

    #[test]
    fn at_16_khz_audio_passes_through_unchanged() {
        let mut a = Assembler::new(16_000, 2).unwrap();
        let mut q = VecDeque::new();
        a.push(&[1.0, -1.0, 2.0, -2.0, 3.0, -3.0], &mut q).unwrap();
        assert_eq!(
            q.pop_front(),
            Some(CaptureEvent::Audio(Block {
                start_frame: 0,
                channels: vec![vec![1.0, 2.0, 3.0], vec![-1.0, -2.0, -3.0]],
            }))
        );
        a.gap(5, "x".into(), &mut q).unwrap();
        a.push(&[4.0, -4.0], &mut q).unwrap();
        assert!(matches!(
            q.pop_front(),
            Some(CaptureEvent::Gap {
                at_frame: 3,
                missing_frames: 5,
                ..
            })
        ));
        assert!(matches!(q.pop_front(), Some(CaptureEvent::Audio(b)) if b.start_frame == 8));
    }

    #[test]
    fn a_rate_change_ends_the_segment() {
        let mut a = Assembler::new(44_100, 1).unwrap();
        let mut q = VecDeque::new();
        a.push(&vec![0.0; 44_100], &mut q).unwrap();
        a.set_rate(48_000, &mut q).unwrap();
        assert_eq!(a.next_frame(), 16_000);
        a.push(&vec![0.0; 48_000], &mut q).unwrap();
        a.flush(&mut q).unwrap();
        assert_eq!(timeline(&q), 32_000);
    }
}
