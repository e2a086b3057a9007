//! A session's audio, decoded once to 16 kHz mono and kept as 16-bit
//! samples (115 MB an hour), so that each segment's stretch is a slice.

use std::path::Path;

use tocky_audio::{DecodeOptions, SAMPLE_RATE};

use crate::{Error, Result};

/// One session's decoded audio.
pub(crate) struct SessionAudio {
    pub(crate) session_id: i64,
    samples: Vec<i16>,
}

impl SessionAudio {
    pub(crate) fn decode(session_id: i64, path: &Path) -> Result<Self> {
        let mut reader =
            tocky_audio::AudioReader::open(path, &DecodeOptions::default()).map_err(|source| {
                Error::Decode {
                    path: path.to_owned(),
                    source,
                }
            })?;
        let mut samples = Vec::new();
        let mut chunk = Vec::new();
        loop {
            chunk.clear();
            let more = reader
                .read_into(&mut chunk)
                .map_err(|source| Error::Decode {
                    path: path.to_owned(),
                    source,
                })?;
            // Rounded, not truncated, and clamped: -1..1 maps onto i16.
            samples.extend(
                chunk
                    .iter()
                    .map(|s| (s.clamp(-1.0, 1.0) * 32767.0).round() as i16),
            );
            if !more {
                break;
            }
        }
        Ok(Self {
            session_id,
            samples,
        })
    }

    /// The samples of `start_ms..end_ms` as f32 (short where the audio
    /// ends first).
    pub(crate) fn slice_ms(&self, start_ms: u64, end_ms: u64) -> Vec<f32> {
        let at = |ms: u64| {
            usize::try_from(ms * u64::from(SAMPLE_RATE) / 1000)
                .unwrap_or(usize::MAX)
                .min(self.samples.len())
        };
        self.samples[at(start_ms)..at(end_ms).max(at(start_ms))]
            .iter()
            .map(|&s| f32::from(s) / 32767.0)
            .collect()
    }
}
