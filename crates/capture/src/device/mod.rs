//! Capture from a sound card (the hall's conference system) through cpal.
//!
//! Threads:
//! - cpal's audio thread runs the data callback: [`RingWriter::write`],
//!   which never blocks or allocates.
//! - A *stream thread* per opening owns the cpal `Stream` (which is not
//!   `Send`): it builds and starts it, then waits to be told to drop it.
//!   If dropping hangs (a wedged driver), only that thread is stuck.
//! - The *supervisor* watches the stream: an error from cpal, or no audio
//!   for `stall_timeout`, means the device is lost. It then reopens it
//!   with exponential back-off.
//! - The consumer ([`CpalSource::next_event`]) drains the ring, resamples,
//!   and, when a lost device is back, reports the gap measured on the
//!   clock between the last audio before and the first audio after.

mod list;
mod stream;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::assemble::Assembler;
use crate::error::{Error, Result};
use crate::ring::Item;
use crate::{CaptureEvent, CaptureStats, SAMPLE_RATE, Source, check_selection};

pub use list::{ConfigInfo, ConfigRange, DeviceInfo, list_devices};
use stream::{Generation, Msg, open_stream, supervise};

/// Exponential back-off for reopening a lost device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the second attempt (the first is immediate).
    pub initial: Duration,
    /// The longest wait between attempts.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(8),
        }
    }
}

/// How to capture from a sound card.
#[derive(Debug, Clone)]
pub struct CpalOptions {
    /// The device's name (as `tocky devices` lists it); `None`: the default input.
    pub device: Option<String>,
    /// The device channels to capture, in order; empty: channel 0.
    pub channels: Vec<usize>,
    /// The ring's length in seconds of audio: how long the consumer may stall before samples are dropped.
    pub ring_seconds: f32,
    /// The device's sample rate; `None`: its default.
    pub sample_rate: Option<u32>,
    /// Frames per callback; `None`: the driver's default (which through
    /// PulseAudio's ALSA plugin can be long, and delivers audio in bursts).
    pub buffer_frames: Option<u32>,
    /// Waits between attempts to reopen a lost device (more than zero,
    /// `initial` at most `max`, `max` at most an hour).
    pub backoff: Backoff,
    /// No audio for this long means the device is lost (0.1 s to an hour).
    pub stall_timeout: Duration,
    /// Give up reopening after this long (then `next_event` fails); `None`: never.
    pub give_up_after: Option<Duration>,
}

impl Default for CpalOptions {
    fn default() -> Self {
        Self {
            device: None,
            channels: Vec::new(),
            ring_seconds: 2.0,
            sample_rate: None,
            buffer_frames: None,
            backoff: Backoff::default(),
            stall_timeout: Duration::from_secs(2),
            give_up_after: None,
        }
    }
}

/// The device lost, waiting for the next opening to measure the gap.
struct Lost {
    reason: String,
    /// When the last audio before the loss arrived (ns since the epoch).
    last_audio: u64,
    /// Frames dropped at the end (16 kHz), not yet on the timeline.
    dropped: u64,
    attempts_before: u64,
}

/// Captures the selected channels of a sound card; reopens it when it is lost.
pub struct CpalSource {
    device: String,
    width: usize,
    rx: Receiver<Msg>,
    current: Option<Generation>,
    waiting: Option<Generation>,
    lost: Option<Lost>,
    assembler: Assembler,
    queue: VecDeque<CaptureEvent>,
    scratch: Vec<f32>,
    overruns_before: u64,
    /// The last audio seen before any loss (ns since the epoch).
    reopens: u64,
    stop: Arc<AtomicBool>,
    supervisor: Option<JoinHandle<()>>,
    failed: Option<(String, f64)>,
}

impl CpalSource {
    /// Opens the device and starts capturing; fails at once if the
    /// device, a channel or the format is not there.
    pub fn open(opts: &CpalOptions) -> Result<Self> {
        if !(opts.ring_seconds.is_finite() && opts.ring_seconds > 0.0 && opts.ring_seconds <= 600.0)
        {
            return Err(Error::InvalidOption(format!(
                "ring_seconds {} is out of range (0 to 600)",
                opts.ring_seconds
            )));
        }
        check_timing(opts)?;
        let selected = check_selection(&opts.channels, usize::MAX)?;
        let epoch = Instant::now();
        let (generation, handle, device) = open_stream(opts, &selected, epoch)?;
        let (tx, rx) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let supervisor = {
            let opts = opts.clone();
            let selected = selected.clone();
            let stop = Arc::clone(&stop);
            let device = device.clone();
            std::thread::Builder::new()
                .name("tocky-capture-supervisor".into())
                .spawn(move || supervise(&opts, &selected, epoch, handle, &tx, &stop, &device))
                .map_err(|source| Error::Thread {
                    what: "capture supervisor",
                    source,
                })?
        };
        Self::reading(
            device,
            selected.len(),
            rx,
            generation,
            stop,
            Some(supervisor),
        )
    }

    /// A source reading `current`, told of losses and reopenings on `rx`.
    fn reading(
        device: String,
        width: usize,
        rx: Receiver<Msg>,
        current: Generation,
        stop: Arc<AtomicBool>,
        supervisor: Option<JoinHandle<()>>,
    ) -> Result<Self> {
        Ok(Self {
            device,
            width,
            rx,
            assembler: Assembler::new(current.rate, width)?,
            current: Some(current),
            waiting: None,
            lost: None,
            queue: VecDeque::new(),
            scratch: Vec::new(),
            overruns_before: 0,
            reopens: 0,
            stop,
            supervisor,
            failed: None,
        })
    }

    /// The device's name.
    pub fn device_name(&self) -> &str {
        &self.device
    }

    /// The device's sample rate now.
    pub fn device_rate(&self) -> u32 {
        self.assembler.rate()
    }

    /// Times the device was reopened after a loss.
    pub fn reopens(&self) -> u64 {
        self.reopens
    }

    /// Moves what the ring holds onto the timeline.
    fn drain(&mut self) -> Result<()> {
        let Some(generation) = self.current.as_mut() else {
            return Ok(());
        };
        let assembler = &mut self.assembler;
        let queue = &mut self.queue;
        generation
            .reader
            .drain(&mut self.scratch, |item| match item {
                Item::Audio(audio) => assembler.push(audio, queue),
                Item::Dropped(dropped) => {
                    let missing = assembler.to_timeline(dropped);
                    assembler.gap(
                        missing,
                        format!("overrun: the ring was full, {dropped} frames dropped"),
                        queue,
                    )
                }
            })
    }

    fn handle(&mut self, msg: Msg) -> Result<()> {
        match msg {
            Msg::Lost { reason } => {
                // The supervisor's loss is always of the newest opening. If
                // that one is still waiting here, it is the one lost: use
                // the audio it had, or forget it, so that it never becomes
                // `current` after its loss (the next opening would then
                // wait forever behind a dead ring).
                if self.waiting.is_some() {
                    self.resume()?;
                    if let Some(dead) = self.waiting.take() {
                        self.overruns_before += dead.shared.overruns.load(Ordering::Relaxed);
                    }
                }
                self.drain()?;
                if let Some(old) = self.current.take() {
                    self.overruns_before += old.shared.overruns.load(Ordering::Relaxed);
                    let pending = old.shared.pending_drop.load(Ordering::Acquire);
                    let last = old.shared.last_nanos.load(Ordering::Acquire);
                    self.assembler.flush(&mut self.queue)?;
                    let dropped = self.assembler.to_timeline(pending);
                    let last_audio = if last == 0 {
                        old.shared.now_nanos()
                    } else {
                        last
                    };
                    tracing::warn!(device = %self.device, %reason, "capture device lost; reopening");
                    self.lost = Some(Lost {
                        reason,
                        last_audio,
                        dropped,
                        attempts_before: self.reopens,
                    });
                }
            }
            Msg::Opened(generation) => self.waiting = Some(generation),
            Msg::GaveUp { reason, seconds } => self.failed = Some((reason, seconds)),
        }
        Ok(())
    }

    /// Starts using a reopened stream once its first audio has arrived,
    /// reporting the gap since the last audio of the lost one.
    fn resume(&mut self) -> Result<()> {
        let Some(first) = self
            .waiting
            .as_ref()
            .and_then(|g| g.shared.first_callback())
        else {
            return Ok(());
        };
        let Some(generation) = self.waiting.take() else {
            return Ok(());
        };
        let (first_nanos, first_frames) = first;
        let first_start = first_nanos.saturating_sub(
            first_frames.saturating_mul(1_000_000_000) / u64::from(generation.rate.max(1)),
        );
        self.assembler.set_rate(generation.rate, &mut self.queue)?;
        if let Some(lost) = self.lost.take() {
            let gap_nanos = first_start.saturating_sub(lost.last_audio);
            let missing = nanos_to_frames(gap_nanos) + lost.dropped;
            self.reopens = lost.attempts_before + 1;
            tracing::info!(device = %self.device, gap_ms = missing * 1000 / u64::from(SAMPLE_RATE), "capture device back");
            self.assembler.gap(
                missing.max(1),
                format!(
                    "device lost ({}); reopened after {} ms",
                    lost.reason,
                    missing * 1000 / u64::from(SAMPLE_RATE)
                ),
                &mut self.queue,
            )?;
        }
        self.current = Some(generation);
        Ok(())
    }
}

/// The longest back-off wait and stall timeout: an hour.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// Checks the supervisor's timing options: out of range, they would make it
/// panic on overflow (and capture stall for good behind a dead supervisor)
/// or declare a healthy device lost at every tick.
fn check_timing(opts: &CpalOptions) -> Result<()> {
    let Backoff { initial, max } = opts.backoff;
    if initial.is_zero() || initial > max || max > MAX_WAIT {
        return Err(Error::InvalidOption(format!(
            "back-off {initial:?} to {max:?} is out of range (more than zero, initial at most max, max at most {MAX_WAIT:?})"
        )));
    }
    if opts.stall_timeout < Duration::from_millis(100) || opts.stall_timeout > MAX_WAIT {
        return Err(Error::InvalidOption(format!(
            "stall timeout {:?} is out of range (0.1 s to {MAX_WAIT:?})",
            opts.stall_timeout
        )));
    }
    Ok(())
}

/// Nanoseconds to 16 kHz frames, rounded to nearest.
pub(crate) fn nanos_to_frames(nanos: u64) -> u64 {
    let frames = (u128::from(nanos) * u128::from(SAMPLE_RATE) + 500_000_000) / 1_000_000_000;
    u64::try_from(frames).unwrap_or(u64::MAX)
}

impl Source for CpalSource {
    fn next_event(&mut self, timeout: Duration) -> Result<Option<CaptureEvent>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Ok(Some(e));
            }
            if let Some((reason, seconds)) = &self.failed {
                return Err(Error::DeviceLost {
                    device: self.device.clone(),
                    seconds: *seconds,
                    reason: reason.clone(),
                });
            }
            while let Ok(msg) = self.rx.try_recv() {
                self.handle(msg)?;
            }
            if self.current.is_none() {
                self.resume()?;
            }
            self.drain()?;
            if !self.queue.is_empty() {
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(5)));
        }
    }

    fn stats(&self) -> CaptureStats {
        let current = self.current.as_ref();
        CaptureStats {
            overruns: self.overruns_before
                + current.map_or(0, |g| g.shared.overruns.load(Ordering::Relaxed)),
            ring_fill: current.map_or(0.0, |g| g.reader.fill()),
            frames_captured: self.assembler.frames_out,
            gaps: self.assembler.gaps,
            missing_frames: self.assembler.missing,
            connected: current.is_some() && self.lost.is_none(),
        }
    }

    fn channels(&self) -> usize {
        self.width
    }
}

impl Drop for CpalSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(s) = self.supervisor.take() {
            let _ = s.join();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::ring::{StreamShared, ring};

    #[test]
    fn nanoseconds_become_16_khz_frames() {
        assert_eq!(nanos_to_frames(1_000_000_000), 16_000);
        assert_eq!(nanos_to_frames(1_500_000), 24);
        assert_eq!(nanos_to_frames(31_249), 0);
        assert_eq!(nanos_to_frames(31_250), 1);
    }

    /// A stream opened at 16 kHz, mono, as the supervisor would hand it over.
    fn opening(epoch: Instant) -> (crate::ring::RingWriter, Generation) {
        let shared = Arc::new(StreamShared::new(epoch));
        let (writer, reader) = ring(16_000, 1, &[0], Arc::clone(&shared));
        let generation = Generation {
            reader,
            shared,
            rate: 16_000,
        };
        (writer, generation)
    }

    /// A source driven by hand: no device, no supervisor.
    fn source_on(rx: Receiver<Msg>, current: Generation) -> CpalSource {
        let stop = Arc::new(AtomicBool::new(false));
        CpalSource::reading("test".into(), 1, rx, current, stop, None).unwrap()
    }

    /// Every event until none comes within 50 ms.
    fn events(source: &mut CpalSource) -> Vec<CaptureEvent> {
        let mut out = Vec::new();
        while let Some(e) = source.next_event(Duration::from_millis(50)).unwrap() {
            out.push(e);
        }
        out
    }

    #[test]
    fn a_reopened_stream_lost_before_it_was_used_does_not_block_the_next() {
        let epoch = Instant::now();
        let (tx, rx) = channel();
        let (mut w0, g0) = opening(epoch);
        let mut source = source_on(rx, g0);
        w0.write(&[0.0f32; 160], 0, |s| s);
        // The device goes; a reopening delivers a little and goes too, all
        // before the consumer looks (it was busy feeding recognition).
        tx.send(Msg::Lost { reason: "a".into() }).unwrap();
        let (mut w1, g1) = opening(epoch);
        tx.send(Msg::Opened(g1)).unwrap();
        w1.write(&[1.0f32; 160], 0, |s| s);
        tx.send(Msg::Lost { reason: "b".into() }).unwrap();
        let first = events(&mut source);
        // The third opening stays: its audio must come through.
        let (mut w2, g2) = opening(epoch);
        tx.send(Msg::Opened(g2)).unwrap();
        w2.write(&[2.0f32; 160], 0, |s| s);
        let second = events(&mut source);
        let all: Vec<_> = first.into_iter().chain(second).collect();
        let mut at = 0;
        let mut values = Vec::new();
        for e in &all {
            match e {
                CaptureEvent::Audio(b) => {
                    assert_eq!(b.start_frame, at, "{all:?}");
                    at = b.end_frame();
                    values.push(b.channels[0][0]);
                }
                CaptureEvent::Gap {
                    at_frame,
                    missing_frames,
                    ..
                } => {
                    assert_eq!(*at_frame, at);
                    at += missing_frames;
                }
                CaptureEvent::Ended => panic!("a device does not end"),
            }
        }
        assert_eq!(values, [0.0, 1.0, 2.0], "{all:?}");
        assert!(source.stats().connected);
        assert_eq!(source.reopens(), 2);
    }

    #[test]
    fn bad_options_are_refused_before_any_device_is_touched() {
        let opts = CpalOptions {
            ring_seconds: 0.0,
            ..CpalOptions::default()
        };
        assert!(matches!(
            CpalSource::open(&opts),
            Err(Error::InvalidOption(_))
        ));
        let opts = CpalOptions {
            channels: vec![2, 2],
            ..CpalOptions::default()
        };
        assert!(matches!(
            CpalSource::open(&opts),
            Err(Error::DuplicateChannel(2))
        ));
    }

    #[test]
    fn timing_that_would_break_the_supervisor_is_refused() {
        let backoff = |initial, max| CpalOptions {
            backoff: Backoff { initial, max },
            ..CpalOptions::default()
        };
        let stall = |stall_timeout| CpalOptions {
            stall_timeout,
            ..CpalOptions::default()
        };
        for opts in [
            // Doubling would overflow (a panic in the supervisor).
            backoff(Duration::MAX, Duration::MAX),
            backoff(Duration::ZERO, Duration::from_secs(1)),
            backoff(Duration::from_secs(2), Duration::from_secs(1)),
            // Every 20 ms tick would be a "loss".
            stall(Duration::ZERO),
            stall(Duration::MAX),
        ] {
            assert!(
                matches!(CpalSource::open(&opts), Err(Error::InvalidOption(_))),
                "{opts:?}"
            );
        }
        check_timing(&CpalOptions::default()).unwrap();
    }
}
