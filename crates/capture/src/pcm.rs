//! Raw PCM from a pipe (standard input), so that an ffmpeg feed can be
//! piped in: `ffmpeg -i rtsp://… -f s16le -ar 48000 -ac 2 - | tocky …`.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use crate::assemble::Assembler;
use crate::error::{Error, Result};
use crate::{CaptureEvent, CaptureStats, Source, check_selection};

/// The sample encoding of raw PCM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PcmFormat {
    /// Signed 16-bit little-endian (`ffmpeg -f s16le`).
    #[default]
    S16Le,
    /// 32-bit float little-endian (`ffmpeg -f f32le`).
    F32Le,
}

impl PcmFormat {
    /// Bytes per sample.
    pub fn bytes(self) -> usize {
        match self {
            Self::S16Le => 2,
            Self::F32Le => 4,
        }
    }
}

impl std::str::FromStr for PcmFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "s16le" | "s16" => Ok(Self::S16Le),
            "f32le" | "f32" => Ok(Self::F32Le),
            _ => Err(Error::InvalidOption(format!(
                "unknown PCM format {s:?} (expected s16le or f32le)"
            ))),
        }
    }
}

/// What the raw PCM stream carries.
#[derive(Debug, Clone)]
pub struct PcmOptions {
    /// Frames per second of the stream.
    pub sample_rate: u32,
    /// Interleaved channels per frame.
    pub channels: usize,
    /// The sample encoding.
    pub format: PcmFormat,
    /// The channels to keep, in order; empty: channel 0.
    pub selected: Vec<usize>,
}

impl Default for PcmOptions {
    fn default() -> Self {
        Self {
            sample_rate: 16_000,
            channels: 1,
            format: PcmFormat::S16Le,
            selected: Vec::new(),
        }
    }
}

/// Bytes read per chunk from the pipe.
const READ_BYTES: usize = 16 * 1024;

/// Decodes raw little-endian samples, carrying a partial sample or frame
/// across reads.
#[derive(Debug)]
pub(crate) struct PcmDecoder {
    format: PcmFormat,
    frame_bytes: usize,
    carry: Vec<u8>,
}

impl PcmDecoder {
    pub(crate) fn new(format: PcmFormat, channels: usize) -> Self {
        Self {
            format,
            frame_bytes: format.bytes() * channels.max(1),
            carry: Vec::new(),
        }
    }

    /// Appends the whole frames in `carry + bytes` to `out` as `f32`;
    /// keeps the bytes of an incomplete frame for the next call.
    pub(crate) fn decode(&mut self, bytes: &[u8], out: &mut Vec<f32>) {
        self.carry.extend_from_slice(bytes);
        let whole = self.carry.len() / self.frame_bytes * self.frame_bytes;
        match self.format {
            PcmFormat::S16Le => out.extend(
                self.carry[..whole]
                    .chunks_exact(2)
                    .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0),
            ),
            PcmFormat::F32Le => out.extend(self.carry[..whole].chunks_exact(4).map(|b| {
                let v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                if v.is_finite() { v } else { 0.0 }
            })),
        }
        self.carry.drain(..whole);
    }

    /// Bytes of an incomplete frame held back.
    pub(crate) fn leftover(&self) -> usize {
        self.carry.len()
    }
}

enum Chunk {
    Bytes(Vec<u8>),
    End,
    Failed(std::io::Error),
}

/// Raw PCM read from any reader (standard input), on a background thread.
pub struct StdinSource {
    rx: Receiver<Chunk>,
    decoder: PcmDecoder,
    assembler: Assembler,
    selected: Vec<usize>,
    channels: usize,
    queue: VecDeque<CaptureEvent>,
    interleaved: Vec<f32>,
    selected_buf: Vec<f32>,
    ended: bool,
    /// A read error, returned once the audio before it has been delivered.
    failed: Option<std::io::Error>,
    stop: Arc<AtomicBool>,
}

impl StdinSource {
    /// Starts reading `reader` on a background thread. The thread ends at
    /// the reader's end, or at its next read after the source is dropped.
    pub fn new(opts: &PcmOptions, reader: impl Read + Send + 'static) -> Result<Self> {
        if opts.sample_rate == 0 || opts.sample_rate > 1_000_000 {
            return Err(Error::InvalidOption(format!(
                "sample rate {} Hz is out of range",
                opts.sample_rate
            )));
        }
        if opts.channels == 0 || opts.channels > 256 {
            return Err(Error::InvalidOption(format!(
                "{} channels is out of range (1 to 256)",
                opts.channels
            )));
        }
        let selected = check_selection(&opts.selected, opts.channels)?;
        let (tx, rx) = sync_channel(16);
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("tocky-pcm-in".into())
            .spawn(move || read_loop(reader, &tx, &thread_stop))
            .map_err(|source| Error::Thread {
                what: "PCM reader",
                source,
            })?;
        Ok(Self {
            rx,
            decoder: PcmDecoder::new(opts.format, opts.channels),
            assembler: Assembler::new(opts.sample_rate, selected.len())?,
            channels: opts.channels,
            selected,
            queue: VecDeque::new(),
            interleaved: Vec::new(),
            selected_buf: Vec::new(),
            ended: false,
            failed: None,
            stop,
        })
    }

    fn take(&mut self, bytes: &[u8]) -> Result<()> {
        self.interleaved.clear();
        self.decoder.decode(bytes, &mut self.interleaved);
        self.selected_buf.clear();
        for frame in self.interleaved.chunks_exact(self.channels) {
            self.selected_buf.extend(
                self.selected
                    .iter()
                    .map(|&c| frame.get(c).copied().unwrap_or(0.0)),
            );
        }
        self.assembler.push(&self.selected_buf, &mut self.queue)
    }
}

fn read_loop(mut reader: impl Read, tx: &SyncSender<Chunk>, stop: &AtomicBool) {
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let mut buf = vec![0; READ_BYTES];
        let chunk = match reader.read(&mut buf) {
            Ok(0) => Chunk::End,
            Ok(n) => {
                buf.truncate(n);
                Chunk::Bytes(buf)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => Chunk::Failed(e),
        };
        let last = !matches!(chunk, Chunk::Bytes(_));
        if tx.send(chunk).is_err() || last {
            return;
        }
    }
}

impl Source for StdinSource {
    fn next_event(&mut self, timeout: Duration) -> Result<Option<CaptureEvent>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Ok(Some(e));
            }
            if let Some(e) = self.failed.take() {
                return Err(Error::Read(e));
            }
            if self.ended {
                return Ok(Some(CaptureEvent::Ended));
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(wait) {
                Ok(Chunk::Bytes(bytes)) => self.take(&bytes)?,
                Ok(Chunk::End) | Err(RecvTimeoutError::Disconnected) => {
                    if self.decoder.leftover() > 0 {
                        tracing::warn!(
                            bytes = self.decoder.leftover(),
                            "raw PCM ended inside a frame; the incomplete frame is dropped"
                        );
                    }
                    self.assembler.flush(&mut self.queue)?;
                    self.queue.push_back(CaptureEvent::Ended);
                    self.ended = true;
                }
                Ok(Chunk::Failed(e)) => {
                    // The resamplers' tail first, then the error: a caller
                    // that stops at the error has all the audio read.
                    self.ended = true;
                    self.failed = Some(e);
                    self.assembler.flush(&mut self.queue)?;
                }
                Err(RecvTimeoutError::Timeout) => return Ok(None),
            }
        }
    }

    fn stats(&self) -> CaptureStats {
        CaptureStats {
            overruns: 0,
            ring_fill: 0.0,
            frames_captured: self.assembler.frames_out,
            gaps: self.assembler.gaps,
            missing_frames: self.assembler.missing,
            connected: !self.ended,
        }
    }

    fn channels(&self) -> usize {
        self.selected.len()
    }
}

impl Drop for StdinSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn s16le_with_a_sample_split_across_reads() {
        let mut d = PcmDecoder::new(PcmFormat::S16Le, 1);
        let bytes: Vec<u8> = [0i16, 16384, -32768, 32767]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let mut out = Vec::new();
        d.decode(&bytes[..3], &mut out); // one sample and a half
        assert_eq!(out, [0.0]);
        assert_eq!(d.leftover(), 1);
        d.decode(&bytes[3..], &mut out);
        assert_eq!(out, [0.0, 0.5, -1.0, 32767.0 / 32768.0]);
        assert_eq!(d.leftover(), 0);
    }

    #[test]
    fn f32le_keeps_whole_frames_only() {
        let mut d = PcmDecoder::new(PcmFormat::F32Le, 2);
        let bytes: Vec<u8> = [0.25f32, -0.5, f32::NAN]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let mut out = Vec::new();
        d.decode(&bytes, &mut out);
        assert_eq!(out, [0.25, -0.5]); // the third sample starts a frame
        assert_eq!(d.leftover(), 4);
        d.decode(&1.0f32.to_le_bytes(), &mut out);
        assert_eq!(out, [0.25, -0.5, 0.0, 1.0]); // NaN became silence
    }

    #[test]
    fn formats_parse() {
        assert_eq!("s16le".parse::<PcmFormat>().unwrap(), PcmFormat::S16Le);
        assert_eq!("F32LE".parse::<PcmFormat>().unwrap(), PcmFormat::F32Le);
        assert!("u8".parse::<PcmFormat>().is_err());
    }

    fn collect(source: &mut dyn Source) -> (Vec<Vec<f32>>, u64) {
        let mut channels = vec![Vec::new(); source.channels()];
        let mut next = 0;
        loop {
            match source.next_event(Duration::from_secs(5)).unwrap() {
                Some(CaptureEvent::Audio(b)) => {
                    assert_eq!(b.start_frame, next);
                    next = b.end_frame();
                    for (c, s) in channels.iter_mut().zip(b.channels) {
                        c.extend(s);
                    }
                }
                Some(CaptureEvent::Ended) => return (channels, next),
                Some(CaptureEvent::Gap { .. }) => panic!("no gap expected"),
                None => panic!("timed out"),
            }
        }
    }

    #[test]
    fn a_pipe_of_stereo_s16le_at_48_khz_becomes_16_khz_blocks() {
        // 1.5 s of stereo: a tone on the left, silence on the right, plus
        // an odd trailing byte.
        let frames = 72_000;
        let mut bytes = Vec::new();
        for i in 0..frames {
            let left = ((i as f32 * 0.05).sin() * 10_000.0) as i16;
            bytes.extend_from_slice(&left.to_le_bytes());
            bytes.extend_from_slice(&0i16.to_le_bytes());
        }
        bytes.push(7);
        let opts = PcmOptions {
            sample_rate: 48_000,
            channels: 2,
            format: PcmFormat::S16Le,
            selected: vec![1, 0],
        };
        let mut s = StdinSource::new(&opts, std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(s.channels(), 2);
        let (channels, end) = collect(&mut s);
        assert_eq!(end, 24_000);
        assert_eq!(channels[0].len(), 24_000);
        assert!(
            channels[0].iter().all(|v| v.abs() < 1e-3),
            "right is silent"
        );
        let rms = (channels[1].iter().map(|v| v * v).sum::<f32>() / 24_000.0).sqrt();
        assert!(rms > 0.1, "left carries the tone: rms {rms}");
        assert_eq!(s.stats().frames_captured, 24_000);
        // Ended stays ended.
        assert_eq!(
            s.next_event(Duration::ZERO).unwrap(),
            Some(CaptureEvent::Ended)
        );
    }

    /// Yields its bytes, then fails.
    struct FailingReader(std::io::Cursor<Vec<u8>>);

    impl Read for FailingReader {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(std::io::Error::other("the feed broke")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn a_read_error_comes_after_all_the_audio_read_before_it() {
        // 1 s of mono s16le at 48 kHz: 16 000 frames at 16 kHz.
        let bytes: Vec<u8> = (0..48_000)
            .flat_map(|i| (((i as f32 * 0.05).sin() * 10_000.0) as i16).to_le_bytes())
            .collect();
        let opts = PcmOptions {
            sample_rate: 48_000,
            ..PcmOptions::default()
        };
        let mut s = StdinSource::new(&opts, FailingReader(std::io::Cursor::new(bytes))).unwrap();
        let mut frames = 0;
        let error = loop {
            match s.next_event(Duration::from_secs(5)) {
                Ok(Some(CaptureEvent::Audio(b))) => {
                    assert_eq!(b.start_frame, frames);
                    frames = b.end_frame();
                }
                Ok(other) => panic!("unexpected {other:?}"),
                Err(e) => break e,
            }
        };
        assert!(error.to_string().contains("the feed broke"), "{error}");
        assert_eq!(
            frames, 16_000,
            "the audio before the error is all delivered"
        );
        assert_eq!(
            s.next_event(Duration::ZERO).unwrap(),
            Some(CaptureEvent::Ended)
        );
    }

    #[test]
    fn bad_options_are_refused() {
        let empty = || std::io::Cursor::new(Vec::<u8>::new());
        let opts = PcmOptions {
            channels: 2,
            selected: vec![2],
            ..PcmOptions::default()
        };
        assert!(matches!(
            StdinSource::new(&opts, empty()),
            Err(Error::NoSuchChannel { .. })
        ));
        let opts = PcmOptions {
            sample_rate: 0,
            ..PcmOptions::default()
        };
        assert!(StdinSource::new(&opts, empty()).is_err());
    }

    #[test]
    fn a_silent_pipe_times_out_without_blocking() {
        let (_keep, reader) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut s = StdinSource::new(&PcmOptions::default(), reader).unwrap();
        let t = Instant::now();
        assert_eq!(s.next_event(Duration::from_millis(100)).unwrap(), None);
        assert!(t.elapsed() < Duration::from_secs(2));
    }
}
