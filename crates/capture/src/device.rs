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

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};

use crate::assemble::Assembler;
use crate::error::{Error, Result};
use crate::ring::{Item, RingReader, StreamShared, ring};
use crate::{CaptureEvent, CaptureStats, SAMPLE_RATE, Source, check_selection};

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

/// A stream configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigInfo {
    /// Channels per frame.
    pub channels: u16,
    /// Frames per second.
    pub sample_rate: u32,
    /// The sample format, such as `i16` or `f32`.
    pub sample_format: String,
}

/// A range of stream configurations a device supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRange {
    /// Channels per frame.
    pub channels: u16,
    /// The lowest sample rate.
    pub min_sample_rate: u32,
    /// The highest sample rate.
    pub max_sample_rate: u32,
    /// The sample format.
    pub sample_format: String,
}

/// An input device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The name to pass as [`CpalOptions::device`].
    pub name: String,
    /// Whether it is the host's default input.
    pub is_default: bool,
    /// The configuration used when none is asked for.
    pub default_config: Option<ConfigInfo>,
    /// What it supports.
    pub supported: Vec<ConfigRange>,
    /// Why its configurations could not be read, if they could not.
    pub error: Option<String>,
}

/// The input devices of the default host (ALSA on Linux), default first.
pub fn list_devices() -> Result<Vec<DeviceInfo>> {
    crate::quiet::with_library_stderr_captured(list_devices_loudly)
}

fn list_devices_loudly() -> Result<Vec<DeviceInfo>> {
    let host = cpal::default_host();
    let default_name = host.default_input_device().and_then(|d| d.name().ok());
    let devices = host.input_devices().map_err(|e| Error::Device {
        device: host.id().name().to_owned(),
        reason: e.to_string(),
    })?;
    let mut out = Vec::new();
    for device in devices {
        let Ok(name) = device.name() else { continue };
        let mut errors = Vec::new();
        let default_config = match device.default_input_config() {
            Ok(c) => Some(ConfigInfo {
                channels: c.channels(),
                sample_rate: c.sample_rate().0,
                sample_format: c.sample_format().to_string(),
            }),
            Err(e) => {
                errors.push(e.to_string());
                None
            }
        };
        let supported = match device.supported_input_configs() {
            Ok(ranges) => ranges
                .map(|r| ConfigRange {
                    channels: r.channels(),
                    min_sample_rate: r.min_sample_rate().0,
                    max_sample_rate: r.max_sample_rate().0,
                    sample_format: r.sample_format().to_string(),
                })
                .collect(),
            Err(e) => {
                errors.push(e.to_string());
                Vec::new()
            }
        };
        out.push(DeviceInfo {
            is_default: default_name.as_deref() == Some(name.as_str()),
            name,
            default_config,
            supported,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
        });
    }
    out.sort_by_key(|d| !d.is_default);
    Ok(out)
}

/// Finds a device by exact name, else by a unique case-insensitive part of it.
fn find_device(host: &cpal::Host, name: Option<&str>) -> Result<cpal::Device> {
    let Some(name) = name else {
        return host.default_input_device().ok_or(Error::NoDefaultDevice);
    };
    let devices: Vec<(String, cpal::Device)> = host
        .input_devices()
        .map_err(|e| Error::Device {
            device: name.to_owned(),
            reason: e.to_string(),
        })?
        .filter_map(|d| d.name().ok().map(|n| (n, d)))
        .collect();
    let wanted = name.to_lowercase();
    let exact = devices.iter().position(|(n, _)| n == name);
    let partial: Vec<usize> = (0..devices.len())
        .filter(|&i| devices[i].0.to_lowercase().contains(&wanted))
        .collect();
    let index = exact.or(match partial.as_slice() {
        [one] => Some(*one),
        _ => None,
    });
    let mut devices = devices;
    match index {
        Some(i) => Ok(devices.swap_remove(i).1),
        None => Err(Error::NoSuchDevice {
            name: name.to_owned(),
            available: devices.into_iter().map(|(n, _)| n).collect(),
        }),
    }
}

/// The default configuration if it has enough channels (and the rate
/// asked for), else the supported one that does with the fewest channels.
fn choose_config(
    device: &cpal::Device,
    name: &str,
    min_channels: usize,
    rate: Option<u32>,
) -> Result<cpal::SupportedStreamConfig> {
    let device_err = |reason: String| Error::Device {
        device: name.to_owned(),
        reason,
    };
    let default = device
        .default_input_config()
        .map_err(|e| device_err(e.to_string()))?;
    if usize::from(default.channels()) >= min_channels
        && rate.is_none_or(|r| r == default.sample_rate().0)
    {
        return Ok(default);
    }
    let want_rate = rate.unwrap_or(default.sample_rate().0);
    let format_rank = |f: SampleFormat| match f {
        SampleFormat::F32 => 0,
        SampleFormat::I16 => 1,
        SampleFormat::I32 => 2,
        _ => 3,
    };
    let ranges: Vec<_> = device
        .supported_input_configs()
        .map_err(|e| device_err(e.to_string()))?
        .collect();
    let max_channels = ranges
        .iter()
        .map(|r| usize::from(r.channels()))
        .max()
        .unwrap_or(0);
    ranges
        .into_iter()
        .filter(|r| usize::from(r.channels()) >= min_channels)
        .filter(|r| r.min_sample_rate().0 <= want_rate && want_rate <= r.max_sample_rate().0)
        .min_by_key(|r| (r.channels(), format_rank(r.sample_format())))
        .map(|r| r.with_sample_rate(cpal::SampleRate(want_rate)))
        .ok_or_else(|| {
            if max_channels < min_channels {
                Error::NoSuchChannel {
                    requested: min_channels.saturating_sub(1),
                    channels: max_channels.max(usize::from(default.channels())),
                }
            } else {
                Error::InvalidOption(format!(
                    "device {name:?} does not capture {min_channels} channel(s) at {want_rate} Hz"
                ))
            }
        })
}

/// One opened stream, as the consumer sees it.
struct Generation {
    reader: RingReader,
    shared: Arc<StreamShared>,
    rate: u32,
}

/// The supervisor's side of one opened stream.
struct StreamHandle {
    shared: Arc<StreamShared>,
    error: Arc<Mutex<Option<String>>>,
    /// Dropping it tells the stream thread to drop the stream.
    stop: Sender<()>,
    /// Signalled once the stream is dropped.
    closed: Receiver<()>,
    opened_at: u64,
}

/// Opens the device on a new stream thread and starts it.
fn open_stream(
    opts: &CpalOptions,
    selected: &[usize],
    epoch: Instant,
) -> Result<(Generation, StreamHandle, String)> {
    let (result_tx, result_rx) = sync_channel(1);
    let (stop_tx, stop_rx) = channel::<()>();
    let (closed_tx, closed_rx) = channel::<()>();
    let opts = opts.clone();
    let selected = selected.to_vec();
    let name_hint = opts.device.clone().unwrap_or_else(|| "default".into());
    std::thread::Builder::new()
        .name("tocky-capture-stream".into())
        .spawn(move || {
            let stream = match build_stream(&opts, &selected, epoch) {
                Ok((stream, generation, error, name)) => {
                    let shared = Arc::clone(&generation.shared);
                    if result_tx.send(Ok((generation, error, name))).is_err() {
                        return;
                    }
                    let _ = shared; // kept alive with the stream
                    stream
                }
                Err(e) => {
                    let _ = result_tx.send(Err(e));
                    return;
                }
            };
            // Wait until told to stop (or the supervisor is gone).
            let _ = stop_rx.recv();
            drop(stream);
            let _ = closed_tx.send(());
        })
        .map_err(|source| Error::Thread {
            what: "capture stream",
            source,
        })?;
    // A wedged driver must not hang the caller: give up on the attempt.
    let (generation, error, name) =
        result_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| Error::Device {
                device: name_hint,
                reason: "opening the device did not finish within 10 s".into(),
            })??;
    let handle = StreamHandle {
        shared: Arc::clone(&generation.shared),
        error,
        stop: stop_tx,
        closed: closed_rx,
        opened_at: generation.shared.now_nanos(),
    };
    Ok((generation, handle, name))
}

type Built = (cpal::Stream, Generation, Arc<Mutex<Option<String>>>, String);

fn build_stream(opts: &CpalOptions, selected: &[usize], epoch: Instant) -> Result<Built> {
    let host = cpal::default_host();
    let device = find_device(&host, opts.device.as_deref())?;
    let name = device
        .name()
        .unwrap_or_else(|_| opts.device.clone().unwrap_or_else(|| "default".into()));
    let min_channels = selected.iter().max().map_or(1, |m| m + 1);
    let config = choose_config(&device, &name, min_channels, opts.sample_rate)?;
    let device_channels = usize::from(config.channels());
    let rate = config.sample_rate().0;
    let shared = Arc::new(StreamShared::new(epoch));
    let ring_frames = (f64::from(opts.ring_seconds.max(0.05)) * f64::from(rate)).ceil() as usize;
    let (writer, reader) = ring(ring_frames, device_channels, selected, Arc::clone(&shared));
    let error = Arc::new(Mutex::new(None));
    let on_error = {
        let shared = Arc::clone(&shared);
        let error = Arc::clone(&error);
        move |e: cpal::StreamError| {
            if !shared.failed.swap(true, Ordering::AcqRel)
                && let Ok(mut slot) = error.try_lock()
            {
                *slot = Some(e.to_string());
            }
        }
    };
    let mut stream_config = config.config();
    if let Some(frames) = opts.buffer_frames {
        stream_config.buffer_size = cpal::BufferSize::Fixed(frames);
    }
    let format = config.sample_format();
    let stream = match format {
        SampleFormat::I8 => build::<i8>(&device, &stream_config, writer, on_error),
        SampleFormat::I16 => build::<i16>(&device, &stream_config, writer, on_error),
        SampleFormat::I32 => build::<i32>(&device, &stream_config, writer, on_error),
        SampleFormat::U8 => build::<u8>(&device, &stream_config, writer, on_error),
        SampleFormat::U16 => build::<u16>(&device, &stream_config, writer, on_error),
        SampleFormat::U32 => build::<u32>(&device, &stream_config, writer, on_error),
        SampleFormat::F32 => build::<f32>(&device, &stream_config, writer, on_error),
        SampleFormat::F64 => build::<f64>(&device, &stream_config, writer, on_error),
        other => {
            return Err(Error::UnsupportedSampleFormat {
                device: name,
                format: other.to_string(),
            });
        }
    }
    .map_err(|e| Error::Device {
        device: name.clone(),
        reason: e.to_string(),
    })?;
    stream.play().map_err(|e| Error::Device {
        device: name.clone(),
        reason: e.to_string(),
    })?;
    tracing::info!(device = %name, channels = device_channels, rate, format = %format, "capture stream started");
    Ok((
        stream,
        Generation {
            reader,
            shared,
            rate,
        },
        error,
        name,
    ))
}

fn build<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    mut writer: crate::ring::RingWriter,
    on_error: impl FnMut(cpal::StreamError) + Send + 'static,
) -> std::result::Result<cpal::Stream, cpal::BuildStreamError>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    device.build_input_stream::<T, _, _>(
        config,
        move |data: &[T], info: &cpal::InputCallbackInfo| {
            let t = info.timestamp();
            let delay = t
                .callback
                .duration_since(&t.capture)
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
            writer.write(data, delay, f32::from_sample_);
        },
        on_error,
        None,
    )
}

/// What the supervisor tells the consumer.
enum Msg {
    /// The stream failed; it is closed and its ring holds the last audio.
    Lost { reason: String },
    /// The device is open again.
    Opened(Generation),
    /// Reopening was given up.
    GaveUp { reason: String, seconds: f64 },
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

/// Watches the stream; on a loss, closes it and reopens with back-off.
fn supervise(
    opts: &CpalOptions,
    selected: &[usize],
    epoch: Instant,
    mut handle: StreamHandle,
    tx: &Sender<Msg>,
    stop: &AtomicBool,
    device: &str,
) {
    let tick = Duration::from_millis(20);
    let stall = u64::try_from(opts.stall_timeout.as_nanos()).unwrap_or(u64::MAX);
    loop {
        // Watch the open stream.
        let reason = loop {
            if stop.load(Ordering::Relaxed) {
                return; // dropping `handle` closes the stream
            }
            std::thread::sleep(tick);
            if handle.shared.failed.load(Ordering::Acquire) {
                let detail = handle.error.lock().ok().and_then(|mut e| e.take());
                break detail.unwrap_or_else(|| "stream error".into());
            }
            let last = match handle.shared.last_nanos.load(Ordering::Acquire) {
                0 => handle.opened_at,
                t => t,
            };
            if handle.shared.now_nanos().saturating_sub(last) > stall {
                break format!("no audio for {:.1} s", opts.stall_timeout.as_secs_f64());
            }
        };
        let StreamHandle {
            stop: stop_stream,
            closed,
            ..
        } = handle;
        drop(stop_stream);
        if closed.recv_timeout(Duration::from_secs(2)).is_err() {
            tracing::warn!(
                device,
                "the lost stream did not close within 2 s; leaving it"
            );
        }
        if tx.send(Msg::Lost { reason }).is_err() {
            return;
        }
        // Reopen with back-off.
        let lost_at = Instant::now();
        let mut delay = opts.backoff.initial;
        handle = loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            match open_stream(opts, selected, epoch) {
                Ok((generation, handle, _)) => {
                    if tx.send(Msg::Opened(generation)).is_err() {
                        return;
                    }
                    break handle;
                }
                Err(e) => {
                    let waited = lost_at.elapsed();
                    if opts.give_up_after.is_some_and(|limit| waited >= limit) {
                        let _ = tx.send(Msg::GaveUp {
                            reason: e.to_string(),
                            seconds: waited.as_secs_f64(),
                        });
                        return;
                    }
                    tracing::debug!(device, error = %e, retry_in_ms = delay.as_millis() as u64, "reopening failed");
                    // Sleep in ticks, so that a drop of the source is prompt.
                    let until = Instant::now() + delay;
                    while Instant::now() < until {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        std::thread::sleep(tick);
                    }
                    delay = delay.saturating_mul(2).min(opts.backoff.max);
                }
            }
        };
    }
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
