//! The sitting's audio on disk, as it is captured.
//!
//! One WAV file (16 kHz, 16-bit, one channel per captured channel), so
//! that the review UI plays it like any other session's audio, during the
//! sitting and after. It is written in chunks: every `flush_ms` the WAV
//! header is brought up to date and the file is synced to disk, so the
//! file is always a valid WAV and a crash (even a power cut) loses at most
//! the last chunk. Gaps in the capture are written as silence, so that the
//! archive's clock stays the stream's clock and segment times point at the
//! right audio.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use hound::{SampleFormat, WavSpec, WavWriter};
use tocky_capture::{Block, SAMPLE_RATE};

use crate::error::{Error, Result};

/// A file whose `flush` reaches the disk, not just the kernel.
struct SyncedFile(File);

impl Write for SyncedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.sync_data()
    }
}

impl Seek for SyncedFile {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.0.seek(pos)
    }
}

/// Room kept in a WAV's 32-bit sizes for the header (hound's is under 100
/// bytes).
const HEADER_ROOM: u64 = 1024;

/// The most frames a 16-bit WAV of `channels` channels can hold: its RIFF
/// and data sizes are 32-bit, and hound wraps them around past 4 GiB.
fn max_frames(channels: usize) -> u64 {
    (u64::from(u32::MAX) - HEADER_ROOM) / (2 * channels.max(1) as u64)
}

/// The archive being written.
pub struct Archive {
    writer: WavWriter<BufWriter<SyncedFile>>,
    path: PathBuf,
    channels: usize,
    frames: u64,
    unflushed: u64,
    flush_frames: u64,
    /// Frames the file can hold.
    max_frames: u64,
    /// Header updates and syncs so far.
    #[cfg(test)]
    syncs: u64,
}

impl Archive {
    /// Creates the archive at `path` (which must not exist yet) for
    /// `channels` channels, synced every `flush_ms`.
    pub fn create(path: &Path, channels: usize, flush_ms: u32) -> Result<Self> {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let channels_u16 = u16::try_from(channels)
            .ok()
            .filter(|&c| c > 0)
            .ok_or_else(|| Error::Invalid(format!("cannot archive {channels} channels")))?;
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io)?;
        let spec = WavSpec {
            channels: channels_u16,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        let writer = WavWriter::new(BufWriter::new(SyncedFile(file)), spec).map_err(|source| {
            Error::Archive {
                path: path.to_owned(),
                source,
            }
        })?;
        Ok(Self {
            writer,
            path: path.to_owned(),
            channels,
            frames: 0,
            unflushed: 0,
            flush_frames: u64::from(SAMPLE_RATE) * u64::from(flush_ms.max(10)) / 1000,
            max_frames: max_frames(channels),
            #[cfg(test)]
            syncs: 0,
        })
    }

    /// Refuses `frames` more when the file cannot describe them: past
    /// 4 GiB a WAV's sizes would wrap and the header would hide the audio.
    fn check_room(&self, frames: u64) -> Result<()> {
        if self.frames.saturating_add(frames) > self.max_frames {
            return Err(Error::ArchiveFull {
                path: self.path.clone(),
                seconds: self.max_frames as f64 / f64::from(SAMPLE_RATE),
                channels: self.channels,
            });
        }
        Ok(())
    }

    /// The archive file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frames written so far (16 kHz).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Appends a block of audio.
    pub fn write(&mut self, block: &Block) -> Result<()> {
        if block.channels.len() != self.channels {
            return Err(Error::Invalid(format!(
                "a block of {} channels for an archive of {}",
                block.channels.len(),
                self.channels
            )));
        }
        self.check_room(block.frames() as u64)?;
        for i in 0..block.frames() {
            for channel in &block.channels {
                let sample = channel.get(i).copied().unwrap_or(0.0);
                // Clipped, never wrapped around.
                self.put((sample.clamp(-1.0, 1.0) * 32767.0).round() as i16)?;
            }
        }
        self.advance(block.frames() as u64)
    }

    /// Appends `frames` of silence (a gap in the capture).
    pub fn silence(&mut self, frames: u64) -> Result<()> {
        self.check_room(frames)?;
        for _ in 0..frames {
            for _ in 0..self.channels {
                self.put(0)?;
            }
        }
        // One sync for the whole gap, not one a second: a long gap (a
        // device back after an hour) must not keep capture waiting on
        // thousands of syncs while the new stream's ring overflows.
        self.advance(frames)
    }

    fn put(&mut self, sample: i16) -> Result<()> {
        self.writer
            .write_sample(sample)
            .map_err(|source| Error::Archive {
                path: self.path.clone(),
                source,
            })
    }

    fn advance(&mut self, frames: u64) -> Result<()> {
        self.frames += frames;
        self.unflushed += frames;
        if self.unflushed >= self.flush_frames {
            self.flush()?;
        }
        Ok(())
    }

    /// Brings the header up to date and syncs the file.
    pub fn flush(&mut self) -> Result<()> {
        self.unflushed = 0;
        #[cfg(test)]
        {
            self.syncs += 1;
        }
        self.writer.flush().map_err(|source| Error::Archive {
            path: self.path.clone(),
            source,
        })
    }

    /// Finishes the file; returns its length in frames.
    pub fn finish(mut self) -> Result<u64> {
        self.flush()?;
        let frames = self.frames;
        self.writer.finalize().map_err(|source| Error::Archive {
            path: self.path.clone(),
            source,
        })?;
        Ok(frames)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn block(start_frame: u64, channels: &[f32], frames: usize) -> Block {
        Block {
            start_frame,
            channels: channels.iter().map(|&v| vec![v; frames]).collect(),
        }
    }

    #[test]
    fn a_flushed_archive_is_a_valid_wav_before_it_is_finished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        let mut archive = Archive::create(&path, 2, 100).unwrap();
        archive.write(&block(0, &[0.5, -2.0], 1600)).unwrap();
        archive.silence(800).unwrap();
        archive.write(&block(2400, &[0.25, 0.0], 100)).unwrap();
        // Not finished: as after a crash, the header covers what was flushed.
        let reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(reader.spec().channels, 2);
        assert_eq!(reader.duration(), 1600);
        let samples: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
        assert_eq!(&samples[..2], &[16384, -32767]);

        assert_eq!(archive.finish().unwrap(), 2500);
        let reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(reader.duration(), 2500);
        let samples: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
        assert_eq!(&samples[1600 * 2..1602 * 2], &[0, 0, 0, 0]);
        assert_eq!(samples[2400 * 2], 8192);
        // An archive is never overwritten.
        assert!(Archive::create(&path, 2, 100).is_err());
    }

    #[test]
    fn a_block_of_the_wrong_width_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut archive = Archive::create(&dir.path().join("b.wav"), 1, 1000).unwrap();
        assert!(archive.write(&block(0, &[0.1, 0.1], 10)).is_err());
        assert!(Archive::create(&dir.path().join("c.wav"), 0, 1000).is_err());
    }

    #[test]
    fn a_long_gap_is_synced_once_not_once_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.wav");
        let mut archive = Archive::create(&path, 2, 1000).unwrap();
        archive.silence(60 * u64::from(SAMPLE_RATE)).unwrap();
        assert_eq!(archive.syncs, 1);
        // And it is on disk: the header covers the whole gap.
        assert_eq!(
            hound::WavReader::open(&path).unwrap().duration(),
            60 * SAMPLE_RATE
        );
        assert_eq!(archive.finish().unwrap(), 60 * u64::from(SAMPLE_RATE));
    }

    #[test]
    fn the_archive_stops_before_a_wav_s_sizes_would_wrap() {
        // Every channel count keeps header plus data within 32 bits.
        for channels in [1, 2, 8, 64, usize::from(u16::MAX)] {
            let data = max_frames(channels) * 2 * channels as u64;
            assert!(data + HEADER_ROOM <= u64::from(u32::MAX), "{channels}");
            assert!(data + HEADER_ROOM + 2 * 2 * channels as u64 > u64::from(u32::MAX));
        }
        // 8 channels fill a WAV in under 5 hours: a long sitting gets there.
        assert!(max_frames(8) / u64::from(SAMPLE_RATE) < 5 * 3600);

        // At the limit (lowered here, to stay small), audio and gaps are
        // refused with a clear error, and the file stays valid.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("full.wav");
        let mut archive = Archive::create(&path, 2, 1000).unwrap();
        archive.max_frames = 1000;
        archive.write(&block(0, &[0.5, 0.5], 600)).unwrap();
        let e = archive.write(&block(600, &[0.5, 0.5], 600)).unwrap_err();
        assert!(matches!(e, Error::ArchiveFull { channels: 2, .. }), "{e}");
        assert!(e.to_string().contains("is full"), "{e}");
        assert!(matches!(
            archive.silence(401),
            Err(Error::ArchiveFull { .. })
        ));
        archive.silence(400).unwrap();
        assert_eq!(archive.finish().unwrap(), 1000);
        assert_eq!(hound::WavReader::open(&path).unwrap().duration(), 1000);
    }
}
