//! Streaming conversion to 16 kHz with rubato's FFT resampler, which keeps
//! the passband flat to near Nyquist and rejects aliasing well: what an ASR
//! model needs from a 44.1 or 48 kHz recording.

use rubato::{FftFixedIn, Resampler};

use crate::error::{Error, Result};

/// Input frames per resampler call.
const CHUNK_FRAMES: usize = 1024;

/// The lowest sample rate accepted. The FFT sizes grow as the rate falls
/// (1 Hz would take a 16-million-point FFT per 1024 input frames).
pub const MIN_RATE_HZ: u32 = 1_000;

/// The highest sample rate accepted. The FFT sizes grow with the rate when it
/// shares few factors with the other (a header claiming 4 294 967 291 Hz
/// would ask for a 16 GiB buffer).
pub const MAX_RATE_HZ: u32 = 768_000;

/// A mono resampler fed arbitrary-sized blocks.
pub struct MonoResampler {
    inner: Option<FftFixedIn<f32>>,
    from_hz: u32,
    pending: Vec<f32>,
    /// Output frames still to drop: the resampler's delay, so that times stay exact.
    delay_left: usize,
    /// Output frames expected in all, to trim the tail padding of the last chunk.
    expected_out: u128,
    produced_out: u128,
    input_frames: u128,
    to_hz: u32,
}

impl MonoResampler {
    /// A resampler from `from_hz` to `to_hz` (a pass-through when they are
    /// equal); both must lie in [`MIN_RATE_HZ`]..=[`MAX_RATE_HZ`].
    pub fn new(from_hz: u32, to_hz: u32) -> Result<Self> {
        for hz in [from_hz, to_hz] {
            if !(MIN_RATE_HZ..=MAX_RATE_HZ).contains(&hz) {
                return Err(Error::Resample {
                    from_hz,
                    reason: format!(
                        "{hz} Hz is outside the supported {MIN_RATE_HZ} to {MAX_RATE_HZ} Hz"
                    ),
                });
            }
        }
        let inner = if from_hz == to_hz {
            None
        } else {
            let r = FftFixedIn::<f32>::new(from_hz as usize, to_hz as usize, CHUNK_FRAMES, 2, 1)
                .map_err(|e| Error::Resample {
                    from_hz,
                    reason: e.to_string(),
                })?;
            Some(r)
        };
        let delay_left = inner.as_ref().map_or(0, |r| r.output_delay());
        Ok(Self {
            inner,
            from_hz,
            pending: Vec::new(),
            delay_left,
            expected_out: 0,
            produced_out: 0,
            input_frames: 0,
            to_hz,
        })
    }

    /// Feeds samples; appends whatever output is ready to `out`.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<f32>) -> Result<()> {
        self.input_frames += samples.len() as u128;
        let Some(inner) = self.inner.as_mut() else {
            out.extend_from_slice(samples);
            return Ok(());
        };
        self.pending.extend_from_slice(samples);
        let mut start = 0;
        while self.pending.len() - start >= inner.input_frames_next() {
            let n = inner.input_frames_next();
            let block = inner
                .process(&[&self.pending[start..start + n]], None)
                .map_err(|e| Error::Resample {
                    from_hz: self.from_hz,
                    reason: e.to_string(),
                })?;
            start += n;
            Self::emit(&mut self.delay_left, &mut self.produced_out, &block[0], out);
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// Flushes the tail; the total output is the input's duration at the new rate.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<()> {
        let Some(inner) = self.inner.as_mut() else {
            return Ok(());
        };
        self.expected_out = self.input_frames * u128::from(self.to_hz) / u128::from(self.from_hz);
        let tail = std::mem::take(&mut self.pending);
        // rubato refuses an empty partial block: start with silence then.
        let mut remaining_input = (!tail.is_empty()).then_some(tail);
        // Feed the tail, then silence, until the delayed output has all come
        // out. An FFT block of a rate sharing few factors with the other is
        // far longer than one call's input (384 001 Hz: 375 calls), so the
        // bound follows from the output still due plus one block each side.
        let due = self.expected_out.saturating_sub(self.produced_out)
            + self.delay_left as u128
            + 4 * inner.output_delay() as u128;
        let calls =
            due * u128::from(self.from_hz) / (u128::from(self.to_hz) * CHUNK_FRAMES as u128) + 4;
        for _ in 0..calls {
            if self.produced_out >= self.expected_out {
                break;
            }
            let block = match remaining_input.take() {
                Some(t) => inner.process_partial(Some(&[t.as_slice()]), None),
                None => inner.process_partial(None::<&[&[f32]]>, None),
            }
            .map_err(|e| Error::Resample {
                from_hz: self.from_hz,
                reason: e.to_string(),
            })?;
            Self::emit(&mut self.delay_left, &mut self.produced_out, &block[0], out);
        }
        let excess = self.produced_out.saturating_sub(self.expected_out);
        let keep = out
            .len()
            .saturating_sub(usize::try_from(excess).unwrap_or(usize::MAX));
        out.truncate(keep);
        self.produced_out -= excess.min(self.produced_out);
        Ok(())
    }

    fn emit(delay_left: &mut usize, produced: &mut u128, block: &[f32], out: &mut Vec<f32>) {
        let skip = (*delay_left).min(block.len());
        *delay_left -= skip;
        out.extend_from_slice(&block[skip..]);
        *produced += (block.len() - skip) as u128;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(hz: f32, rate: u32, seconds: f32) -> Vec<f32> {
        let n = (rate as f32 * seconds) as usize;
        (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn keeps_duration_and_phase_when_downsampling() {
        for from in [8_000, 22_050, 44_100, 48_000] {
            let input = sine(440.0, from, 2.0);
            let mut r = MonoResampler::new(from, 16_000).unwrap();
            let mut out = Vec::new();
            // Uneven block sizes, as decoders deliver them.
            for block in input.chunks(777) {
                r.push(block, &mut out).unwrap();
            }
            r.finish(&mut out).unwrap();
            assert_eq!(out.len(), 32_000, "from {from} Hz");
            // The delay is compensated: the output matches an ideal 16 kHz sine.
            let ideal = sine(440.0, 16_000, 2.0);
            let err: f32 = out[2000..30_000]
                .iter()
                .zip(&ideal[2000..30_000])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            // 0.04 is a quarter of one 16 kHz sample's phase step at 440 Hz:
            // the residual delay is far below a sample.
            assert!(err < 0.04, "from {from} Hz: max error {err}");
        }
    }

    #[test]
    fn rejects_content_above_the_new_nyquist() {
        let input = sine(12_000.0, 48_000, 1.0); // would alias to 4 kHz
        let mut r = MonoResampler::new(48_000, 16_000).unwrap();
        let mut out = Vec::new();
        r.push(&input, &mut out).unwrap();
        r.finish(&mut out).unwrap();
        let rms = (out[1000..15_000].iter().map(|v| v * v).sum::<f32>() / 14_000.0).sqrt();
        assert!(rms < 0.01, "aliasing rms {rms}");
    }
}

#[cfg(test)]
mod tail_tests {
    use super::*;

    #[test]
    fn rates_sharing_few_factors_with_16k_flush_the_whole_tail() {
        // 384 001 Hz shares no factor with 16 kHz: one FFT block is 384 001
        // input frames, and 64 flushing calls used to stop short, losing the
        // last half second (here, all of it).
        for from in [44_101, 192_001, 384_001] {
            let mut r = MonoResampler::new(from, 16_000).unwrap();
            let mut out = Vec::new();
            let input = vec![0.25; from as usize / 2];
            r.push(&input, &mut out).unwrap();
            r.finish(&mut out).unwrap();
            let want = input.len() as u64 * 16_000 / u64::from(from);
            assert_eq!(out.len() as u64, want, "from {from} Hz");
            let mid = out[2_000..6_000].iter().sum::<f32>() / 4_000.0;
            assert!((mid - 0.25).abs() < 0.01, "from {from} Hz: level {mid}");
        }
    }

    #[test]
    fn absurd_rates_are_refused_before_allocating() {
        for from in [0, 1, 7, 999, 768_001, 16_777_259, 4_294_967_291] {
            assert!(
                matches!(
                    MonoResampler::new(from, 16_000),
                    Err(Error::Resample { from_hz, .. }) if from_hz == from
                ),
                "{from} Hz"
            );
        }
        assert!(MonoResampler::new(MIN_RATE_HZ, 16_000).is_ok());
        assert!(MonoResampler::new(8_000, 16_000).is_ok());
    }

    #[test]
    fn input_that_ends_on_a_chunk_boundary_flushes() {
        let mut r = MonoResampler::new(48_000, 16_000).unwrap();
        let mut out = Vec::new();
        r.push(&vec![0.1; CHUNK_FRAMES * 4], &mut out).unwrap();
        r.finish(&mut out).unwrap();
        assert_eq!(out.len(), CHUNK_FRAMES * 4 / 3);
    }
}
