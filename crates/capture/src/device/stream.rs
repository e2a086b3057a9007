//! Opening a device's stream on its own thread, and the supervisor that
//! watches it and reopens it with back-off when it is lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};

use super::CpalOptions;
use super::list::{choose_config, find_device};
use crate::error::{Error, Result};
use crate::ring::{RingReader, StreamShared, ring};

/// One opened stream, as the consumer sees it.
pub(super) struct Generation {
    pub(super) reader: RingReader,
    pub(super) shared: Arc<StreamShared>,
    pub(super) rate: u32,
}

/// The supervisor's side of one opened stream.
pub(super) struct StreamHandle {
    shared: Arc<StreamShared>,
    error: Arc<Mutex<Option<String>>>,
    /// Dropping it tells the stream thread to drop the stream.
    stop: Sender<()>,
    /// Signalled once the stream is dropped.
    closed: Receiver<()>,
    opened_at: u64,
}

/// Opens the device on a new stream thread and starts it.
pub(super) fn open_stream(
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
pub(super) enum Msg {
    /// The stream failed; it is closed and its ring holds the last audio.
    Lost { reason: String },
    /// The device is open again.
    Opened(Generation),
    /// Reopening was given up.
    GaveUp { reason: String, seconds: f64 },
}
/// Watches the stream; on a loss, closes it and reopens with back-off.
pub(super) fn supervise(
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
