//! A file played as if it were live: for rehearsals and tests.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tocky_audio::{AudioReader, ChannelSelection, DecodeOptions};

use crate::error::{Error, Result};
use crate::{Block, CaptureEvent, CaptureStats, SAMPLE_RATE, Source};

/// How to play a file.
#[derive(Debug, Clone)]
pub struct FileOptions {
    /// The file: any format `tocky_audio` decodes.
    pub path: PathBuf,
    /// Deliver audio no faster than real time, as a sound card would.
    pub realtime: bool,
    /// The channels to keep, in order; empty: all channels mixed into one.
    pub channels: Vec<usize>,
    /// The length of each block in milliseconds (at least 10, at most
    /// [`FileOptions::MAX_BLOCK_MS`]).
    pub block_ms: u32,
}

impl FileOptions {
    /// The longest block: a minute of audio.
    pub const MAX_BLOCK_MS: u32 = 60_000;
}

impl Default for FileOptions {
    fn default() -> Self {
        Self {
            path: PathBuf::new(),
            realtime: true,
            channels: Vec::new(),
            block_ms: 100,
        }
    }
}

/// A file decoded to 16 kHz, one reader per selected channel.
pub struct FileSource {
    readers: Vec<AudioReader>,
    /// Decoded and not yet delivered, per channel.
    pending: Vec<Vec<f32>>,
    /// Readers that have reached their end.
    done: Vec<bool>,
    block_frames: usize,
    realtime: bool,
    started: Option<Instant>,
    next_frame: u64,
    ended: bool,
}

impl FileSource {
    /// Opens the file once per selected channel; fails if a channel does not exist.
    pub fn open(opts: &FileOptions) -> Result<Self> {
        // Bounded, so that the block length neither overflows nor sizes a
        // huge buffer.
        if opts.block_ms > FileOptions::MAX_BLOCK_MS {
            return Err(Error::InvalidOption(format!(
                "block_ms {} is out of range (10 to {})",
                opts.block_ms,
                FileOptions::MAX_BLOCK_MS
            )));
        }
        let selections: Vec<ChannelSelection> = if opts.channels.is_empty() {
            vec![ChannelSelection::Downmix]
        } else {
            for (i, c) in opts.channels.iter().enumerate() {
                if opts.channels[..i].contains(c) {
                    return Err(Error::DuplicateChannel(*c));
                }
            }
            opts.channels
                .iter()
                .map(|&c| ChannelSelection::Channel(c))
                .collect()
        };
        let readers = selections
            .into_iter()
            .map(|channel| {
                AudioReader::open(
                    &opts.path,
                    &DecodeOptions {
                        channel,
                        max_seconds: None,
                    },
                )
                .map_err(Error::from)
            })
            .collect::<Result<Vec<_>>>()?;
        let n = readers.len();
        Ok(Self {
            readers,
            pending: vec![Vec::new(); n],
            done: vec![false; n],
            block_frames: (u64::from(SAMPLE_RATE) * u64::from(opts.block_ms.max(10)) / 1000)
                as usize,
            realtime: opts.realtime,
            started: None,
            next_frame: 0,
            ended: false,
        })
    }

    /// Decodes until every channel holds `frames` samples or has ended.
    fn fill(&mut self, frames: usize) -> Result<()> {
        for ((reader, pending), done) in self
            .readers
            .iter_mut()
            .zip(&mut self.pending)
            .zip(&mut self.done)
        {
            while !*done && pending.len() < frames {
                if !reader.read_into(pending)? {
                    *done = true;
                }
            }
        }
        Ok(())
    }

    /// When a block ending at `end_frame` may be released.
    fn release_time(&self, started: Instant, end_frame: u64) -> Instant {
        started + Duration::from_secs_f64(end_frame as f64 / f64::from(SAMPLE_RATE))
    }
}

impl Source for FileSource {
    fn next_event(&mut self, timeout: Duration) -> Result<Option<CaptureEvent>> {
        if self.ended {
            return Ok(Some(CaptureEvent::Ended));
        }
        let deadline = Instant::now() + timeout;
        let started = *self.started.get_or_insert_with(Instant::now);
        self.fill(self.block_frames)?;
        let available = self.pending.iter().map(Vec::len).min().unwrap_or(0);
        let n = available.min(self.block_frames);
        if n == 0 {
            self.ended = true;
            return Ok(Some(CaptureEvent::Ended));
        }
        if self.realtime {
            let release = self.release_time(started, self.next_frame + n as u64);
            if release > deadline {
                std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                return Ok(None);
            }
            std::thread::sleep(release.saturating_duration_since(Instant::now()));
        }
        let channels = self
            .pending
            .iter_mut()
            .map(|p| p.drain(..n).collect())
            .collect();
        let block = Block {
            start_frame: self.next_frame,
            channels,
        };
        self.next_frame += n as u64;
        Ok(Some(CaptureEvent::Audio(block)))
    }

    fn stats(&self) -> CaptureStats {
        CaptureStats {
            frames_captured: self.next_frame,
            connected: !self.ended,
            ..CaptureStats::default()
        }
    }

    fn channels(&self) -> usize {
        self.readers.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// A stereo 48 kHz WAV of `seconds`: a tone left, silence right.
    fn stereo_wav(dir: &std::path::Path, seconds: f32) -> PathBuf {
        let path = dir.join("hall.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..(48_000.0 * seconds) as usize {
            w.write_sample(((i as f32 * 0.05).sin() * 10_000.0) as i16)
                .unwrap();
            w.write_sample(0i16).unwrap();
        }
        w.finalize().unwrap();
        path
    }

    fn play(opts: &FileOptions) -> (Vec<Vec<f32>>, Duration) {
        let mut s = FileSource::open(opts).unwrap();
        let t = Instant::now();
        let mut out = vec![Vec::new(); s.channels()];
        let mut next = 0;
        loop {
            match s.next_event(Duration::from_millis(50)).unwrap() {
                Some(CaptureEvent::Audio(b)) => {
                    assert_eq!(b.start_frame, next);
                    next = b.end_frame();
                    for (o, c) in out.iter_mut().zip(b.channels) {
                        o.extend(c);
                    }
                }
                Some(CaptureEvent::Ended) => break,
                Some(CaptureEvent::Gap { .. }) => panic!("a file has no gaps"),
                None => {}
            }
        }
        assert_eq!(s.stats().frames_captured, next);
        (out, t.elapsed())
    }

    #[test]
    fn realtime_playback_takes_the_file_s_duration() {
        let dir = tempfile::tempdir().unwrap();
        let path = stereo_wav(dir.path(), 2.0);
        let (out, took) = play(&FileOptions {
            path,
            realtime: true,
            channels: vec![1, 0],
            block_ms: 100,
        });
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].len(), 32_000);
        assert_eq!(out[1].len(), 32_000);
        assert!(out[0].iter().all(|v| v.abs() < 1e-3));
        assert!(out[1].iter().any(|v| v.abs() > 0.1));
        assert!(
            took >= Duration::from_secs_f32(1.6) && took < Duration::from_secs(4),
            "took {took:?}"
        );
    }

    #[test]
    fn without_realtime_a_file_is_read_as_fast_as_it_decodes() {
        let dir = tempfile::tempdir().unwrap();
        let path = stereo_wav(dir.path(), 5.0);
        let (out, took) = play(&FileOptions {
            path,
            realtime: false,
            ..FileOptions::default()
        });
        assert_eq!(out.len(), 1, "downmixed");
        assert_eq!(out[0].len(), 80_000);
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }

    #[test]
    fn a_missing_channel_or_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = stereo_wav(dir.path(), 0.1);
        let opts = FileOptions {
            path: path.clone(),
            channels: vec![2],
            ..FileOptions::default()
        };
        assert!(FileSource::open(&opts).is_err());
        let opts = FileOptions {
            path: path.clone(),
            channels: vec![0, 0],
            ..FileOptions::default()
        };
        assert!(matches!(
            FileSource::open(&opts),
            Err(Error::DuplicateChannel(0))
        ));
        let opts = FileOptions {
            path: dir.path().join("absent.wav"),
            ..FileOptions::default()
        };
        assert!(FileSource::open(&opts).is_err());
    }

    #[test]
    fn a_block_length_out_of_range_is_refused_not_overflowed() {
        let dir = tempfile::tempdir().unwrap();
        let path = stereo_wav(dir.path(), 0.5);
        for block_ms in [268_436, u32::MAX] {
            let opts = FileOptions {
                path: path.clone(),
                block_ms,
                ..FileOptions::default()
            };
            assert!(
                matches!(FileSource::open(&opts), Err(Error::InvalidOption(_))),
                "block_ms {block_ms}"
            );
        }
        // The longest block allowed still delivers the whole file.
        let (out, _) = play(&FileOptions {
            path,
            realtime: false,
            block_ms: FileOptions::MAX_BLOCK_MS,
            ..FileOptions::default()
        });
        assert_eq!(out[0].len(), 8_000);
    }
}
