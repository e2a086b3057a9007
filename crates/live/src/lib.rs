//! A live sitting: hall microphones to the stenographers' screens.
//!
//! [`run`] drives one [`Source`] (a sound card, a file at real-time pace,
//! PCM on a pipe) through the whole pipeline:
//!
//! ```text
//! source ─┬─ archive (WAV, synced every second)
//!         ├─ channel 0 queue ─ StreamingRecognizer ─┐
//!         └─ channel N queue ─ StreamingRecognizer ─┴─ store + index + WebSocket
//! ```
//!
//! The calling thread captures: it writes every block to the archive and
//! hands each channel's samples to that channel's recognition thread
//! through a bounded queue. If recognition falls behind for longer than
//! the queue holds, capture waits, the source's ring fills, and the
//! overruns are counted: audio is never dropped silently. Each channel
//! has its own decoder state on one shared model ([`Engine`]). Finals are
//! written to the store (one transaction each) and the index at once, and
//! reported with partials, latencies and capture health to a
//! [`LiveOutput`] (the review server implements it for its WebSocket and
//! metrics; this crate does not depend on the server). The hall map names
//! each channel's speaker, and segments carry it.

pub mod archive;
pub mod error;
mod queue;
mod speakers;
mod summary;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tocky_asr::{Engine, StreamEvent, StreamingOptions, StreamingRecognizer};
use tocky_capture::{CaptureEvent, CaptureStats, HallMap, SAMPLE_RATE, Source};
use tocky_index::SearchIndex;
use tocky_store::{NewSpeaker, SessionMeta, Store, StoredSegment};

pub use speakers::hall_map_people;

use queue::{FeedReceiver, FeedSender, feed_queue};

pub use archive::Archive;
pub use error::{Error, Result};
pub use summary::{CaptureSummary, ChannelSummary, Latencies, LiveSummary};
pub use tocky_core::live::{CaptureHealth, LiveOutput, PartialText};

/// Where a live sitting's results go: the record it writes, and whoever
/// watches it.
#[derive(Clone, Copy)]
pub struct LiveTarget<'a> {
    /// The record's database; each thread opens its own connection.
    pub db: &'a Path,
    /// The record's search index, updated with every final.
    pub index: &'a SearchIndex,
    /// Told of partials, stored finals, latencies and capture health (the
    /// review server's WebSocket and metrics; `&()` for nobody).
    pub output: &'a dyn LiveOutput<StoredSegment>,
}

impl std::fmt::Debug for LiveTarget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveTarget")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// How a live sitting runs.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Title, date and agenda item of the session.
    pub meta: SessionMeta,
    /// The hall's channel number of each channel the source delivers, in
    /// the source's order (a device's channel index; 0 for a mix).
    pub channel_numbers: Vec<u32>,
    /// Who speaks on which channel.
    pub hall_map: Option<HallMap>,
    /// Where the audio archive is written (a media directory of the server).
    pub archive_dir: PathBuf,
    /// How often the archive is synced to disk: a crash loses at most this
    /// much of the archive, plus the block in flight.
    pub archive_flush_ms: u32,
    /// Recognition of each channel.
    pub streaming: StreamingOptions,
    /// Audio each channel's queue holds while recognition catches up
    /// (seconds, at most [`LiveOptions::MAX_QUEUE_SECONDS`]).
    pub queue_seconds: u32,
    /// Who started the sitting, for the audit log.
    pub actor: String,
}

impl LiveOptions {
    /// The longest queue: an hour of audio per channel (230 MB).
    pub const MAX_QUEUE_SECONDS: u32 = 3600;
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            meta: SessionMeta::default(),
            channel_numbers: vec![0],
            hall_map: None,
            archive_dir: PathBuf::from("."),
            archive_flush_ms: 1000,
            streaming: StreamingOptions::default(),
            queue_seconds: 30,
            actor: "live".into(),
        }
    }
}

/// A live session in the record, with its archive.
#[derive(Debug, Clone)]
pub struct LiveSession {
    /// The session's id.
    pub id: i64,
    /// The audio archive.
    pub archive_path: PathBuf,
    /// Each channel's speaker id and label, in the source's channel order.
    pub speakers: Vec<Option<(i64, String)>>,
}

impl LiveSession {
    /// Creates the session (status `live`) and its speakers from the hall
    /// map (linked to the registry people it names; an unknown one is
    /// [`Error::Invalid`] and nothing is created), and names the archive
    /// file.
    pub fn create(target: &LiveTarget<'_>, opts: &LiveOptions) -> Result<Self> {
        if opts.channel_numbers.is_empty() {
            return Err(Error::Invalid("no channel to capture".into()));
        }
        std::fs::create_dir_all(&opts.archive_dir).map_err(|source| Error::Io {
            path: opts.archive_dir.clone(),
            source,
        })?;
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let file_name = format!("live-{millis}.wav");
        let seats: Vec<_> = opts
            .channel_numbers
            .iter()
            .map(|&n| {
                opts.hall_map
                    .as_ref()
                    .and_then(|m| m.speaker(n as usize))
                    .cloned()
            })
            .collect();
        let mut store = Store::open(target.db)?;
        // Registry people first: an unknown one stops the start before
        // anything is written.
        let people = match &opts.hall_map {
            Some(map) => hall_map_people(&store, map)?,
            None => Default::default(),
        };
        let new_speakers: Vec<NewSpeaker> = seats
            .iter()
            .flatten()
            .map(|seat| speakers::new_speaker(seat, people.get(&seat.channel)))
            .collect();
        let language = opts.streaming.transcribe.decode.language.clone();
        let (id, created) = store.create_live_session(
            &opts.meta,
            &file_name,
            &language,
            &new_speakers,
            &opts.actor,
        )?;
        let created = speakers::link_people(&mut store, created, &people, &opts.actor)?;
        target.index.update(&store, Some(id), None)?;
        let speakers = seats
            .iter()
            .map(|seat| {
                let seat = seat.as_ref()?;
                created
                    .iter()
                    .find(|s| s.channel == Some(seat.channel as i64))
                    .map(|s| (s.id, s.name.clone()))
            })
            .collect();
        Ok(Self {
            id,
            archive_path: opts.archive_dir.join(file_name),
            speakers,
        })
    }
}

/// One channel's audio, on its way to recognition.
#[derive(Debug)]
enum Feed {
    Audio {
        samples: Vec<f32>,
        end_frame: u64,
        arrived: Instant,
    },
    Gap {
        missing_frames: u64,
    },
}

/// When each stretch of a channel's audio arrived, to time latencies from
/// the moment the audio existed.
#[derive(Default)]
struct Arrivals {
    blocks: VecDeque<(u64, Instant)>,
}

/// Arrival times are kept this long (in 16 kHz frames): longer than any
/// utterance.
const ARRIVALS_KEPT: u64 = 120 * SAMPLE_RATE as u64;

impl Arrivals {
    fn push(&mut self, end_frame: u64, arrived: Instant) {
        self.blocks.push_back((end_frame, arrived));
        while self
            .blocks
            .front()
            .is_some_and(|&(end, _)| end + ARRIVALS_KEPT < end_frame)
        {
            self.blocks.pop_front();
        }
    }

    /// When the audio at stream time `ms` arrived.
    fn at_ms(&self, ms: u64) -> Option<Instant> {
        let frame = ms * u64::from(SAMPLE_RATE) / 1000;
        self.blocks
            .iter()
            .find(|&&(end, _)| end >= frame)
            .or(self.blocks.back())
            .map(|&(_, at)| at)
    }
}

/// Runs a live sitting until the source ends or `stop` is set; then
/// finalises every open utterance, closes the archive, marks the session
/// a draft and returns the summary. A capture error also ends the sitting
/// this way, and is reported in the summary: nothing recognised is lost.
pub fn run(
    session: &LiveSession,
    source: &mut dyn Source,
    engine: &Engine,
    target: &LiveTarget<'_>,
    opts: &LiveOptions,
    stop: &AtomicBool,
) -> Result<LiveSummary> {
    let channels = source.channels();
    if channels != opts.channel_numbers.len() || channels != session.speakers.len() {
        return Err(Error::Invalid(format!(
            "the source delivers {channels} channel(s), the options name {}",
            opts.channel_numbers.len()
        )));
    }
    if opts.queue_seconds > LiveOptions::MAX_QUEUE_SECONDS {
        return Err(Error::Invalid(format!(
            "queue_seconds {} is out of range (at most {})",
            opts.queue_seconds,
            LiveOptions::MAX_QUEUE_SECONDS
        )));
    }
    let mut archive = Archive::create(&session.archive_path, channels, opts.archive_flush_ms)?;
    let started = Instant::now();

    let (channel_summaries, capture) = std::thread::scope(|scope| {
        let mut senders = Vec::with_capacity(channels);
        let mut workers = Vec::with_capacity(channels);
        for (i, &number) in opts.channel_numbers.iter().enumerate() {
            let (tx, rx) = channel_queue(opts);
            senders.push(Some(tx));
            let speaker = session.speakers[i].clone();
            workers.push(
                scope.spawn(move || recognise(session, engine, target, opts, number, speaker, rx)),
            );
        }
        let capture = capture_loop(source, &mut archive, &mut senders, target.output, stop);
        drop(senders);
        let summaries: Vec<Result<ChannelSummary>> = workers
            .into_iter()
            .map(|w| w.join().unwrap_or(Err(Error::Thread("recognition"))))
            .collect();
        (summaries, capture)
    });

    let archive_path = archive.path().to_owned();
    let archive_frames = archive.finish()?;
    let duration_ms = archive_frames * 1000 / u64::from(SAMPLE_RATE);
    let mut store = Store::open(target.db)?;
    store.end_live_session(session.id, duration_ms, &opts.actor)?;
    target.index.update(&store, Some(session.id), None)?;
    let mut channel_results = Vec::with_capacity(channel_summaries.len());
    for summary in channel_summaries {
        channel_results.push(summary?);
    }
    Ok(LiveSummary {
        session_id: session.id,
        wall: started.elapsed(),
        archive: archive_path,
        archive_ms: duration_ms,
        capture,
        channels: channel_results,
    })
}

/// A channel's queue to recognition: it holds `queue_seconds` of audio,
/// however long the source's blocks are.
fn channel_queue(opts: &LiveOptions) -> (FeedSender, FeedReceiver) {
    feed_queue(u64::from(opts.queue_seconds.max(1)) * u64::from(SAMPLE_RATE))
}

/// Reads the source until it ends, `stop` is set or it fails: archives
/// every block and feeds the channels.
fn capture_loop(
    source: &mut dyn Source,
    archive: &mut Archive,
    senders: &mut [Option<FeedSender>],
    output: &dyn LiveOutput<StoredSegment>,
    stop: &AtomicBool,
) -> CaptureSummary {
    let mut summary = CaptureSummary::default();
    let mut last_report = Instant::now();
    let error = loop {
        if stop.load(Ordering::Relaxed) {
            break None;
        }
        let event = match source.next_event(Duration::from_millis(100)) {
            Ok(event) => event,
            Err(e) => break Some(e.to_string()),
        };
        let stats = source.stats();
        summary.max_ring_fill = summary.max_ring_fill.max(stats.ring_fill);
        if last_report.elapsed() >= Duration::from_millis(500) {
            last_report = Instant::now();
            output.capture(&capture_health(&stats));
        }
        match event {
            None => {}
            Some(CaptureEvent::Audio(block)) => {
                if let Err(e) = archive.write(&block) {
                    break Some(e.to_string());
                }
                let arrived = Instant::now();
                let end_frame = block.end_frame();
                for (sender, samples) in senders.iter_mut().zip(block.channels) {
                    feed(
                        sender,
                        Feed::Audio {
                            samples,
                            end_frame,
                            arrived,
                        },
                    );
                }
            }
            Some(CaptureEvent::Gap {
                at_frame,
                missing_frames,
                reason,
            }) => {
                tracing::warn!(
                    "audio gap at {:.1} s: {:.1} s lost ({reason})",
                    at_frame as f64 / f64::from(SAMPLE_RATE),
                    missing_frames as f64 / f64::from(SAMPLE_RATE)
                );
                if let Err(e) = archive.silence(missing_frames) {
                    break Some(e.to_string());
                }
                for sender in senders.iter_mut() {
                    feed(sender, Feed::Gap { missing_frames });
                }
            }
            Some(CaptureEvent::Ended) => break None,
        }
    };
    let stats = source.stats();
    output.capture(&capture_health(&stats));
    summary.frames = stats.frames_captured;
    summary.overruns = stats.overruns;
    summary.gaps = stats.gaps;
    summary.missing_frames = stats.missing_frames;
    summary.error = error;
    summary
}

/// What the output is told of a source's counters.
fn capture_health(stats: &CaptureStats) -> CaptureHealth {
    CaptureHealth {
        ring_fill: f64::from(stats.ring_fill),
        overruns: stats.overruns,
        gaps: stats.gaps,
        missing_seconds: stats.missing_frames as f64 / f64::from(SAMPLE_RATE),
    }
}

/// Hands audio to a channel's recogniser; a recogniser that has stopped
/// (it reported why) is fed no more.
fn feed(sender: &mut Option<FeedSender>, item: Feed) {
    if let Some(tx) = sender
        && tx.send(item).is_err()
    {
        *sender = None;
    }
}

/// One channel's recognition thread.
fn recognise(
    session: &LiveSession,
    engine: &Engine,
    target: &LiveTarget<'_>,
    opts: &LiveOptions,
    channel: u32,
    speaker: Option<(i64, String)>,
    queue: FeedReceiver,
) -> Result<ChannelSummary> {
    let mut store = Store::open(target.db)?;
    let mut recognizer = StreamingRecognizer::new(engine, opts.streaming.clone())?;
    let speaker_id = speaker.as_ref().map(|s| s.0);
    let mut summary = ChannelSummary {
        channel,
        speaker: speaker.map(|s| s.1),
        ..ChannelSummary::default()
    };
    let mut arrivals = Arrivals::default();
    let mut last_partial_start = None;
    let output = target.output;
    let mut handle = |events: Vec<StreamEvent>,
                      arrivals: &Arrivals,
                      summary: &mut ChannelSummary| {
        for event in events {
            match event {
                StreamEvent::Partial(partial) => {
                    if last_partial_start != Some(partial.start_ms) {
                        last_partial_start = Some(partial.start_ms);
                        if let Some(at) = arrivals.at_ms(partial.start_ms) {
                            let latency = at.elapsed().as_secs_f64();
                            output.first_partial_latency(channel, latency);
                            summary.first_partial.push(latency);
                        }
                    }
                    let text = [partial.committed.as_str(), partial.tentative.as_str()]
                        .iter()
                        .filter(|t| !t.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" ");
                    output.partial(
                        session.id,
                        &PartialText {
                            channel,
                            speaker_id,
                            start_ms: partial.start_ms,
                            text: &text,
                        },
                    );
                }
                StreamEvent::Final(mut segments) => {
                    for s in &mut segments {
                        s.channel = Some(channel);
                    }
                    let end_ms = segments.iter().map(|s| s.end_ms).max().unwrap_or(0);
                    let stored = match store.append_segments(session.id, &segments, speaker_id) {
                        Ok(stored) => stored,
                        Err(e) => {
                            // The audio is archived: it can be transcribed again.
                            tracing::error!("channel {channel}: a final was not stored: {e}");
                            summary.errors += 1;
                            continue;
                        }
                    };
                    if let Some(at) = arrivals.at_ms(end_ms) {
                        let latency = at.elapsed().as_secs_f64();
                        output.final_latency(channel, latency);
                        summary.final_latency.push(latency);
                    }
                    for segment in &stored {
                        // The store is the truth; a stale index rebuilds itself.
                        if let Err(e) = target.index.update(&store, None, Some(segment.id)) {
                            tracing::warn!("segment {} not indexed yet: {e}", segment.id);
                        }
                        output.segment(session.id, segment);
                    }
                    summary.segments += stored.len() as u64;
                }
            }
        }
    };

    while let Some(item) = queue.recv() {
        let started = Instant::now();
        let (events, audio_frames) = match item {
            Feed::Audio {
                samples,
                end_frame,
                arrived,
            } => {
                arrivals.push(end_frame, arrived);
                let lag = arrived.elapsed().as_millis();
                recognizer.set_lag_ms(u64::try_from(lag).unwrap_or(u64::MAX));
                (recognizer.push(&samples), samples.len() as u64)
            }
            Feed::Gap { missing_frames } => (recognizer.gap(missing_frames), 0),
        };
        let events = events.unwrap_or_else(|e| {
            tracing::error!("channel {channel}: recognition failed: {e}");
            summary.errors += 1;
            Vec::new()
        });
        summary.busy += started.elapsed();
        summary.audio_frames += audio_frames;
        handle(events, &arrivals, &mut summary);
        output.channel_progress(
            channel,
            summary.realtime_factor(),
            audio_frames as f64 / f64::from(SAMPLE_RATE),
        );
    }
    let started = Instant::now();
    let events = recognizer.finish()?;
    summary.busy += started.elapsed();
    handle(events, &arrivals, &mut summary);
    let stats = recognizer.stats();
    summary.partial_decodes = stats.partial_decodes;
    summary.short_finals = stats.short_finals;
    summary.partials_skipped_behind = stats.partials_skipped_behind;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_find_the_block_that_held_a_moment() {
        let mut arrivals = Arrivals::default();
        assert!(arrivals.at_ms(0).is_none());
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_millis(100);
        arrivals.push(1600, t0);
        arrivals.push(3200, t1);
        assert_eq!(arrivals.at_ms(50), Some(t0));
        assert_eq!(arrivals.at_ms(100), Some(t0));
        assert_eq!(arrivals.at_ms(101), Some(t1));
        // Past the last block (a segment's end rounded up): the last arrival.
        assert_eq!(arrivals.at_ms(10_000), Some(t1));
        // Old arrivals are forgotten.
        arrivals.push(ARRIVALS_KEPT + 3000, t1);
        assert_eq!(arrivals.blocks.len(), 2);
    }

    #[test]
    fn a_channel_queue_holds_queue_seconds_of_a_sound_card_s_short_blocks() {
        // A sound card's blocks are a callback's worth: 10 ms here.
        let opts = LiveOptions {
            queue_seconds: 30,
            ..LiveOptions::default()
        };
        let (tx, _rx) = channel_queue(&opts);
        let block = || Feed::Audio {
            samples: vec![0.0; 160],
            end_frame: 0,
            arrived: Instant::now(),
        };
        for i in 0..3000 {
            assert!(tx.try_send(block()).is_ok(), "full after {} s", i / 100);
        }
        assert!(tx.try_send(block()).is_err(), "bounded at 30 s");
    }
}
