//! The real-time side: what the audio callback runs, and the ring it
//! writes into.
//!
//! [`RingWriter::write`] is the whole body of the cpal data callback. It
//! takes no lock, makes no system call but reading the clock, and never
//! allocates: its buffers are made before the stream starts (the unit
//! tests run it under `assert_no_alloc`, which aborts on any allocation).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use rtrb::{Consumer, Producer, RingBuffer};

/// Room for overrun marks; a mark is pushed at most once per callback.
const MARKS: usize = 256;

/// Frames dropped because the ring was full, placed on the ring's own count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mark {
    /// How many frames had been written to the ring before the drop.
    pub(crate) at: u64,
    /// How many frames (at the device's rate) were dropped there.
    pub(crate) dropped: u64,
}

/// Counters the callback updates and the consumer reads; one per stream.
#[derive(Debug)]
pub(crate) struct StreamShared {
    /// The clock that the `*_nanos` fields count from.
    pub(crate) epoch: Instant,
    /// Set by the stream's error callback.
    pub(crate) failed: AtomicBool,
    /// Callbacks that dropped samples.
    pub(crate) overruns: AtomicU64,
    /// Frames received from the device.
    pub(crate) frames_in: AtomicU64,
    /// Dropped frames not yet marked in the ring (at the stream's end).
    pub(crate) pending_drop: AtomicU64,
    /// When the first callback ran (`u64::MAX`: not yet), and its frame count.
    pub(crate) first_nanos: AtomicU64,
    pub(crate) first_frames: AtomicU64,
    /// When the latest callback ran.
    pub(crate) last_nanos: AtomicU64,
}

impl StreamShared {
    pub(crate) fn new(epoch: Instant) -> Self {
        Self {
            epoch,
            failed: AtomicBool::new(false),
            overruns: AtomicU64::new(0),
            frames_in: AtomicU64::new(0),
            pending_drop: AtomicU64::new(0),
            first_nanos: AtomicU64::new(u64::MAX),
            first_frames: AtomicU64::new(0),
            last_nanos: AtomicU64::new(0),
        }
    }

    /// Nanoseconds since the epoch, now.
    pub(crate) fn now_nanos(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The first callback's time and frame count, once it has run.
    pub(crate) fn first_callback(&self) -> Option<(u64, u64)> {
        let t = self.first_nanos.load(Ordering::Acquire);
        (t != u64::MAX).then(|| (t, self.first_frames.load(Ordering::Relaxed)))
    }
}

/// The producer half, owned by the audio callback.
pub(crate) struct RingWriter {
    data: Producer<f32>,
    marks: Producer<Mark>,
    /// The device channels to keep, in order.
    selected: Box<[usize]>,
    device_channels: usize,
    /// Frames written to the ring so far.
    written: u64,
    /// Frames dropped and not yet marked.
    pending_drop: u64,
    shared: Arc<StreamShared>,
}

/// What the ring yields, in order.
#[derive(Debug, PartialEq)]
pub(crate) enum Item<'a> {
    /// Interleaved frames of the selected channels.
    Audio(&'a [f32]),
    /// Frames (at the device's rate) dropped at this point.
    Dropped(u64),
}

/// The consumer half.
pub(crate) struct RingReader {
    pub(crate) data: Consumer<f32>,
    pub(crate) marks: Consumer<Mark>,
    /// Frames read from the ring so far.
    pub(crate) read: u64,
    /// Samples per frame in the ring (the selected channels).
    pub(crate) width: usize,
}

/// A ring holding `capacity_frames` frames of the `selected` channels of a
/// device with `device_channels` channels.
pub(crate) fn ring(
    capacity_frames: usize,
    device_channels: usize,
    selected: &[usize],
    shared: Arc<StreamShared>,
) -> (RingWriter, RingReader) {
    let width = selected.len().max(1);
    let (data, data_rx) = RingBuffer::new(capacity_frames.max(1) * width);
    let (marks, marks_rx) = RingBuffer::new(MARKS);
    (
        RingWriter {
            data,
            marks,
            selected: selected.into(),
            device_channels: device_channels.max(1),
            written: 0,
            pending_drop: 0,
            shared,
        },
        RingReader {
            data: data_rx,
            marks: marks_rx,
            read: 0,
            width,
        },
    )
}

impl RingWriter {
    /// Takes one callback's interleaved samples: keeps the selected
    /// channels, converts them to `f32`, and writes whole frames into the
    /// ring; what does not fit is dropped and counted.
    ///
    /// `delay_nanos` is how long ago the buffer's last frame was captured
    /// (the driver's latency, from cpal's timestamps), so that the times
    /// recorded are capture times.
    pub(crate) fn write<T: Copy>(
        &mut self,
        data: &[T],
        delay_nanos: u64,
        to_f32: impl Fn(T) -> f32,
    ) {
        let now = self.shared.now_nanos().saturating_sub(delay_nanos);
        let frames = data.len() / self.device_channels;
        if self.shared.first_nanos.load(Ordering::Relaxed) == u64::MAX {
            self.shared
                .first_frames
                .store(frames as u64, Ordering::Relaxed);
            self.shared.first_nanos.store(now, Ordering::Release);
        }
        self.shared.last_nanos.store(now, Ordering::Release);
        self.shared
            .frames_in
            .fetch_add(frames as u64, Ordering::Relaxed);

        let width = self.selected.len();
        let mut room = self.data.slots() / width;
        // A drop must be marked before any later frame enters the ring.
        if self.pending_drop > 0 && room > 0 {
            let mark = Mark {
                at: self.written,
                dropped: self.pending_drop,
            };
            if self.marks.push(mark).is_ok() {
                self.pending_drop = 0;
            } else {
                room = 0;
            }
        }
        let keep = frames.min(room);
        if keep > 0
            && let Ok(chunk) = self.data.write_chunk_uninit(keep * width)
        {
            let selected = &self.selected;
            let to_f32 = &to_f32;
            let samples = data
                .chunks_exact(self.device_channels)
                .take(keep)
                .flat_map(|frame| {
                    selected
                        .iter()
                        .map(move |&c| frame.get(c).map_or(0.0, |&s| to_f32(s)))
                })
                .map(|v| if v.is_finite() { v } else { 0.0 });
            chunk.fill_from_iter(samples);
            self.written += keep as u64;
        }
        if keep < frames {
            self.pending_drop += (frames - keep) as u64;
            self.shared.overruns.fetch_add(1, Ordering::Relaxed);
        }
        self.shared
            .pending_drop
            .store(self.pending_drop, Ordering::Release);
    }
}

impl RingReader {
    /// How full the ring is, 0..1.
    pub(crate) fn fill(&self) -> f32 {
        let capacity = self.data.buffer().capacity();
        if capacity == 0 {
            return 0.0;
        }
        self.data.slots() as f32 / capacity as f32
    }

    /// Reads what is there, in order: runs of interleaved frames (copied
    /// to `scratch`) and overrun marks, each handed to `on_item`.
    pub(crate) fn drain<E>(
        &mut self,
        scratch: &mut Vec<f32>,
        mut on_item: impl FnMut(Item<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        loop {
            let available = (self.data.slots() / self.width) as u64;
            let until_mark = match self.marks.peek() {
                Ok(mark) => mark.at.saturating_sub(self.read),
                Err(_) => u64::MAX,
            };
            let n = available.min(until_mark);
            if n > 0 {
                let samples = usize::try_from(n).unwrap_or(usize::MAX) * self.width;
                if let Ok(chunk) = self.data.read_chunk(samples) {
                    scratch.clear();
                    let (a, b) = chunk.as_slices();
                    scratch.extend_from_slice(a);
                    scratch.extend_from_slice(b);
                    chunk.commit_all();
                    self.read += n;
                    on_item(Item::Audio(scratch))?;
                }
            }
            let at_mark = matches!(self.marks.peek(), Ok(m) if m.at <= self.read);
            if at_mark {
                if let Ok(mark) = self.marks.pop() {
                    on_item(Item::Dropped(mark.dropped))?;
                }
            } else if n == 0 {
                return Ok(());
            }
        }
    }
}

/// Copies the `selected` channels out of interleaved frames of
/// `channels` channels, one vector per selected channel (appended).
pub(crate) fn deinterleave(
    interleaved: &[f32],
    channels: usize,
    selected: &[usize],
    out: &mut [Vec<f32>],
) {
    let channels = channels.max(1);
    for frame in interleaved.chunks_exact(channels) {
        for (dst, &c) in out.iter_mut().zip(selected) {
            dst.push(frame.get(c).copied().unwrap_or(0.0));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use assert_no_alloc::assert_no_alloc;

    fn writer(capacity: usize, channels: usize, selected: &[usize]) -> (RingWriter, RingReader) {
        ring(
            capacity,
            channels,
            selected,
            Arc::new(StreamShared::new(Instant::now())),
        )
    }

    #[test]
    fn a_full_ring_counts_every_dropped_frame() {
        let (mut w, r) = writer(1000, 2, &[1]);
        let callback = vec![0i16; 2 * 256]; // 256 frames of 2 channels
        let shared = Arc::clone(&w.shared);
        // 10 callbacks of 256 frames = 2560 frames into a ring of 1000.
        for _ in 0..10 {
            assert_no_alloc(|| w.write(&callback, 0, |s| f32::from(s) / 32768.0));
        }
        assert_eq!(r.data.slots(), 1000);
        assert_eq!(shared.frames_in.load(Ordering::Relaxed), 2560);
        assert_eq!(w.pending_drop, 1560);
        assert_eq!(shared.pending_drop.load(Ordering::Relaxed), 1560);
        // Callbacks 4 (partly: 232 of 256 frames fit) to 10 dropped samples.
        assert_eq!(shared.overruns.load(Ordering::Relaxed), 7);
        assert!((r.fill() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn drops_are_marked_where_they_happened() {
        let (mut w, mut r) = writer(100, 1, &[0]);
        let ramp = |start: usize, n: usize| -> Vec<f32> {
            (start..start + n).map(|i| i as f32).collect::<Vec<_>>()
        };
        w.write(&ramp(0, 80), 0, |s| s);
        w.write(&ramp(80, 50), 0, |s| s); // 20 fit, 30 dropped
        w.write(&ramp(130, 10), 0, |s| s); // dropped: the ring is still full
        let mut events = Vec::new();
        let mut scratch = Vec::new();
        r.drain::<()>(&mut scratch, |item| {
            events.push(match item {
                Item::Audio(a) => format!("audio {}..={}", a[0], a[a.len() - 1]),
                Item::Dropped(d) => format!("drop {d}"),
            });
            Ok(())
        })
        .unwrap();
        assert_eq!(events, ["audio 0..=99"]);
        // Room again: the mark goes in before the new frames.
        let resumed = ramp(140, 5);
        assert_no_alloc(|| w.write(&resumed, 0, |s| s));
        events.clear();
        r.drain::<()>(&mut scratch, |item| {
            events.push(match item {
                Item::Audio(a) => format!("audio {}..={}", a[0], a[a.len() - 1]),
                Item::Dropped(d) => format!("drop {d}"),
            });
            Ok(())
        })
        .unwrap();
        assert_eq!(events, ["drop 40", "audio 140..=144"]);
        assert_eq!(w.shared.overruns.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn the_callback_keeps_the_selected_channels_in_order() {
        let (mut w, mut r) = writer(16, 4, &[3, 1]);
        // Two frames of four channels, as i32.
        let data = [0i32, 10, 20, 30, 1, 11, 21, 31];
        assert_no_alloc(|| w.write(&data, 0, |s| s as f32));
        let mut got = Vec::new();
        let mut scratch = Vec::new();
        r.drain::<()>(&mut scratch, |item| {
            if let Item::Audio(a) = item {
                got.extend_from_slice(a);
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(got, [30.0, 10.0, 31.0, 11.0]);
        assert_eq!(r.read, 2);
    }

    #[test]
    fn non_finite_samples_become_silence() {
        let (mut w, mut r) = writer(4, 1, &[0]);
        w.write(&[f32::NAN, 0.5, f32::INFINITY], 0, |s| s);
        let mut got = Vec::new();
        r.drain::<()>(&mut Vec::new(), |item| {
            if let Item::Audio(a) = item {
                got.extend_from_slice(a);
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(got, [0.0, 0.5, 0.0]);
    }

    #[test]
    fn deinterleaving_selects_channels() {
        let interleaved = [0.0, 1.0, 2.0, 10.0, 11.0, 12.0];
        let mut out = vec![Vec::new(), Vec::new()];
        deinterleave(&interleaved, 3, &[2, 0], &mut out);
        assert_eq!(out, [vec![2.0, 12.0], vec![0.0, 10.0]]);
    }
}
