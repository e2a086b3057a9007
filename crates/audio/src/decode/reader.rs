//! [`AudioReader`], which demuxes, decodes, downmixes and resamples a file
//! packet by packet, and [`decode_file`], which reads one whole.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;

use crate::error::{Error, Result};
use crate::resample::{MAX_RATE_HZ, MIN_RATE_HZ, MonoResampler};

use super::container::{
    audio_params, codecs, declared_frames, is_streaming_wav_size, read_matroska_in_order, untrim,
};
use super::panics::contain_panic;
use super::{ChannelSelection, DecodeOptions, DecodedAudio, SAMPLE_RATE, Shortfall, SourceInfo};

/// A streaming reader of 16 kHz mono audio from a file.
pub struct AudioReader {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    info: SourceInfo,
    channel: ChannelSelection,
    resampler: MonoResampler,
    /// The last packet's samples, interleaved.
    buffer: Vec<f32>,
    /// Interleaved samples decoded while opening, not yet returned.
    first: Option<Vec<f32>>,
    mono: Vec<f32>,
    source_frames: u64,
    max_frames: Option<u64>,
    skipped_packets: u64,
    /// Packets the demuxer marked as wholly past the declared end (gapless
    /// padding), held back until it is clear whether more audio follows.
    past_end: VecDeque<Packet>,
    /// Set once more audio than the header declares has turned up: packets
    /// are then decoded whole.
    untrimmed: bool,
    /// Held packets being decoded after all.
    replay: VecDeque<Packet>,
    /// Whether `declared_frames` is a real length rather than a streaming
    /// WAV's "unknown" size.
    declared_is_length: bool,
    /// What the demuxer said when damage stopped it after some audio.
    damage: Option<String>,
    /// The demuxer has no more packets (held ones may remain).
    demuxer_done: bool,
    finished: bool,
}

/// Consecutive undecodable packets after which a stream counts as corrupt.
const MAX_CONSECUTIVE_BAD_PACKETS: u32 = 32;

/// Wholly trimmed packets at the end that are still encoder padding; more
/// than this many means audio goes on past the declared end (MP3 files
/// joined with `cat` keep the first file's frame count).
const MAX_PADDING_PACKETS: usize = 4;

/// How much shorter than declared a stream may end before it counts as cut
/// short: rounding in container durations stays well under this.
const SHORTFALL_TOLERANCE_SECONDS: f64 = 0.5;

impl AudioReader {
    /// Opens `path`, probing its container from the content (the extension is only a hint).
    pub fn open(path: &Path, opts: &DecodeOptions) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::Io {
            path: path.into(),
            source: e,
        })?;
        let len = file
            .metadata()
            .map_err(|e| Error::Io {
                path: path.into(),
                source: e,
            })?
            .len();
        if len == 0 {
            return Err(Error::Empty { path: path.into() });
        }
        Self::from_source(Box::new(file), path, opts)
    }

    /// Opens audio held in memory; `name` is used in messages, and its
    /// extension as a hint to the demuxer. Used by the fuzz target.
    pub fn from_bytes(bytes: Vec<u8>, name: &Path, opts: &DecodeOptions) -> Result<Self> {
        if bytes.is_empty() {
            return Err(Error::Empty { path: name.into() });
        }
        Self::from_source(Box::new(std::io::Cursor::new(bytes)), name, opts)
    }

    fn from_source(
        source: Box<dyn MediaSource>,
        path: &Path,
        opts: &DecodeOptions,
    ) -> Result<Self> {
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let source = read_matroska_in_order(source).map_err(|e| Error::Io {
            path: path.into(),
            source: e,
        })?;
        let stream = MediaSourceStream::new(source, Default::default());
        // Packets carry the encoder's delay and padding as trims (MP3, AAC,
        // Vorbis), which the decoders drop, so that times match the
        // original recording.
        let format = contain_panic(|| {
            symphonia::default::get_probe().probe(
                &hint,
                stream,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
        })
        .map_err(|reason| Error::UnsupportedFormat {
            path: path.into(),
            reason,
        })?
        .map_err(|e| Error::UnsupportedFormat {
            path: path.into(),
            reason: match e {
                // A header or an index that the end of the file cuts off.
                SymphoniaError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                    "the file ends inside its container's header or index: it may be cut short"
                        .into()
                }
                // MP4 writes its index (moov) last: a recording that was
                // cut off, or never finished, has none.
                other if other.to_string().contains("missing moov atom") => {
                    "the MP4 index (moov) is missing: the file may be cut short or unfinished"
                        .into()
                }
                other => other.to_string(),
            },
        })?;

        // The default audio track, else the first one with audio parameters.
        let (track, params) = format
            .default_track(TrackType::Audio)
            .into_iter()
            .chain(format.tracks())
            .find_map(|t| Some((t, audio_params(t)?)))
            .ok_or_else(|| Error::NoAudioTrack {
                path: path.into(),
                reason: "no audio track".into(),
            })?;
        let no_track = |reason: &str| Error::NoAudioTrack {
            path: path.into(),
            reason: reason.into(),
        };
        let sample_rate = params
            .sample_rate
            .filter(|r| *r > 0)
            .ok_or_else(|| no_track("unknown sample rate"))?;
        if !(MIN_RATE_HZ..=MAX_RATE_HZ).contains(&sample_rate) {
            return Err(Error::UnsupportedSampleRate {
                path: path.into(),
                sample_rate,
                min_hz: MIN_RATE_HZ,
                max_hz: MAX_RATE_HZ,
            });
        }
        // AAC in MP4 states its layout only in the stream: learnt below.
        let channels = params.channels.as_ref().map_or(0, |c| c.count());
        // Making a decoder parses codec headers (Vorbis' setup), which can
        // panic on malformed data like the demuxer.
        let decoder =
            contain_panic(|| codecs().make_audio_decoder(params, &AudioDecoderOptions::default()))
                .map_err(|reason| Error::Corrupt {
                    path: path.into(),
                    at_seconds: 0.0,
                    reason,
                })?
                .map_err(|e| match e {
                    SymphoniaError::Unsupported(_) => {
                        no_track(&format!("codec not supported: {e}"))
                    }
                    // The codec's own headers (Vorbis' setup) are damaged.
                    damaged => Error::Corrupt {
                        path: path.into(),
                        at_seconds: 0.0,
                        reason: damaged.to_string(),
                    },
                })?;
        let codec = decoder.codec_info().short_name.to_owned();
        let declared_frames = declared_frames(track, format.media_info(), sample_rate);
        let info = SourceInfo {
            codec,
            sample_rate,
            channels,
            declared_frames,
        };
        let track_id = track.id;
        let declared_is_length = !is_streaming_wav_size(params, declared_frames);
        let mut reader = Self {
            path: path.into(),
            format,
            decoder,
            track_id,
            resampler: MonoResampler::new(sample_rate, SAMPLE_RATE)?,
            info,
            channel: opts.channel,
            buffer: Vec::new(),
            first: None,
            mono: Vec::new(),
            source_frames: 0,
            max_frames: opts
                .max_seconds
                .map(|s| s.saturating_mul(u64::from(sample_rate))),
            skipped_packets: 0,
            past_end: VecDeque::new(),
            untrimmed: false,
            replay: VecDeque::new(),
            declared_is_length,
            damage: None,
            demuxer_done: false,
            finished: false,
        };
        if reader.info.channels == 0 {
            reader.learn_channels()?;
        }
        if let ChannelSelection::Channel(requested) = opts.channel
            && requested >= reader.info.channels
        {
            return Err(Error::NoSuchChannel {
                path: path.into(),
                channels: reader.info.channels,
                requested,
            });
        }
        Ok(reader)
    }

    /// Decodes up to the first audio to learn the channel count, keeping
    /// those samples for the first read.
    fn learn_channels(&mut self) -> Result<()> {
        let mut pending = Vec::new();
        let more = self.next_buffer()?;
        if let Some(channels) = more {
            self.info.channels = channels;
            pending.extend_from_slice(&self.buffer);
            self.first = Some(pending);
            Ok(())
        } else {
            Err(Error::NoAudioTrack {
                path: self.path.clone(),
                reason: "the stream holds no audio".into(),
            })
        }
    }

    /// What the file is.
    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// Corrupt packets skipped so far.
    pub fn skipped_packets(&self) -> u64 {
        self.skipped_packets
    }

    /// Once the stream has ended: whether it ended well before the length
    /// its header declares, so that the caller can say the transcript
    /// covers only part of the recording.
    pub fn shortfall(&self) -> Option<Shortfall> {
        if !self.finished {
            return None;
        }
        let rate = f64::from(self.info.sample_rate);
        let decoded_seconds = self.source_frames as f64 / rate;
        let declared_seconds = self
            .info
            .declared_frames
            .filter(|_| self.declared_is_length && !self.untrimmed)
            .map(|frames| frames as f64 / rate);
        if self.damage.is_some() {
            return Some(Shortfall {
                decoded_seconds,
                declared_seconds,
                damage: self.damage.clone(),
            });
        }
        let declared = declared_seconds?;
        let tolerance = SHORTFALL_TOLERANCE_SECONDS.max(declared * 0.01);
        (decoded_seconds + tolerance < declared).then_some(Shortfall {
            decoded_seconds,
            declared_seconds,
            damage: None,
        })
    }

    /// Decodes the next packet(s), appending 16 kHz mono samples to `out`.
    /// Returns `false` once the stream has ended (and the tail was flushed).
    pub fn read_into(&mut self, out: &mut Vec<f32>) -> Result<bool> {
        if self.finished {
            return Ok(false);
        }
        if let Some(first) = self.first.take() {
            self.consume(&first, out)?;
            return Ok(true);
        }
        match self.next_buffer()? {
            Some(_) => {
                let samples = std::mem::take(&mut self.buffer);
                let result = self.consume(&samples, out);
                self.buffer = samples;
                result?;
                Ok(true)
            }
            None => self.finish(out),
        }
    }

    /// Decodes packets until one yields audio, left interleaved in
    /// `self.buffer`; returns its channel count, or `None` at the end.
    fn next_buffer(&mut self) -> Result<Option<usize>> {
        match contain_panic(|| self.next_buffer_unguarded()) {
            Ok(result) => result,
            Err(reason) => {
                // The demuxer's state is unknown after a panic: stop here.
                self.finished = true;
                Err(Error::Corrupt {
                    path: self.path.clone(),
                    at_seconds: self.source_frames as f64 / f64::from(self.info.sample_rate),
                    reason,
                })
            }
        }
    }

    fn next_buffer_unguarded(&mut self) -> Result<Option<usize>> {
        let mut bad_in_a_row = 0;
        loop {
            let (mut packet, held) = match self.replay.pop_front() {
                Some(p) => (p, true),
                None if self.demuxer_done => return Ok(None),
                None => match self.format.next_packet() {
                    Ok(Some(p)) => (p, false),
                    end => {
                        self.demuxer_done = true;
                        match end {
                            Ok(_) | Err(SymphoniaError::ResetRequired) => {}
                            Err(SymphoniaError::IoError(e))
                                if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
                            // Damage the demuxer cannot read past, after some
                            // audio: keep that audio, and say where it stopped.
                            Err(e) if self.source_frames > 0 => self.damage = Some(e.to_string()),
                            Err(e) => return Err(self.corrupt(e)),
                        }
                        // Packets held as padding were padding: decoded with
                        // their trims, they give the last valid frames.
                        self.replay = std::mem::take(&mut self.past_end);
                        continue;
                    }
                },
            };
            if packet.track_id != self.track_id {
                continue;
            }
            if self.untrimmed {
                untrim(&mut packet);
            } else if !held
                && packet.trim_end.get() > 0
                && packet.trim_end.get() >= packet.dur.get()
            {
                // Wholly past the declared end: padding, unless too many
                // follow to be padding.
                self.past_end.push_back(packet);
                if self.past_end.len() > MAX_PADDING_PACKETS {
                    self.untrimmed = true;
                    self.replay = std::mem::take(&mut self.past_end);
                }
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(decoded) => {
                    if decoded.frames() == 0 {
                        continue;
                    }
                    let channels = decoded.spec().channels().count().max(1);
                    decoded.copy_to_vec_interleaved(&mut self.buffer);
                    return Ok(Some(channels));
                }
                // A damaged packet: skip it, as players do, but not forever.
                // The packet is already in memory, so a read error here
                // (FLAC's "unexpected end of bitstream", a "buffer underrun")
                // is damaged data, never the end of the file; and garbage
                // often parses as a feature the decoder lacks (AAC's
                // "program config").
                Err(
                    e @ (SymphoniaError::DecodeError(_)
                    | SymphoniaError::IoError(_)
                    | SymphoniaError::Unsupported(_)),
                ) => {
                    self.skipped_packets += 1;
                    bad_in_a_row += 1;
                    if bad_in_a_row >= MAX_CONSECUTIVE_BAD_PACKETS {
                        return Err(Error::Corrupt {
                            path: self.path.clone(),
                            at_seconds: self.source_frames as f64
                                / f64::from(self.info.sample_rate),
                            reason: format!(
                                "{MAX_CONSECUTIVE_BAD_PACKETS} undecodable packets in a row, the last: {e}"
                            ),
                        });
                    }
                }
                Err(e) => return Err(self.corrupt(e)),
            }
        }
    }

    /// Downmixes or picks a channel from interleaved samples, and resamples.
    fn consume(&mut self, interleaved: &[f32], out: &mut Vec<f32>) -> Result<()> {
        let channels = self.info.channels.max(1);
        self.mono.clear();
        match self.channel {
            ChannelSelection::Downmix => self.mono.extend(
                interleaved
                    .chunks_exact(channels)
                    .map(|f| f.iter().sum::<f32>() / channels as f32),
            ),
            ChannelSelection::Channel(c) => self.mono.extend(
                interleaved
                    .chunks_exact(channels)
                    .map(|f| f.get(c).copied().unwrap_or(0.0)),
            ),
        }
        // A float file may hold NaN or infinities; the model must never see them.
        for v in &mut self.mono {
            if !v.is_finite() {
                *v = 0.0;
            }
        }
        self.source_frames += (interleaved.len() / channels) as u64;
        if let Some(max) = self.max_frames
            && self.source_frames > max
        {
            return Err(Error::TooLong {
                path: self.path.clone(),
                limit_seconds: max / u64::from(self.info.sample_rate),
            });
        }
        self.resampler.push(&self.mono, out)
    }

    fn finish(&mut self, out: &mut Vec<f32>) -> Result<bool> {
        self.finished = true;
        self.resampler.finish(out)?;
        Ok(false)
    }

    fn corrupt(&self, e: SymphoniaError) -> Error {
        Error::Corrupt {
            path: self.path.clone(),
            at_seconds: self.source_frames as f64 / f64::from(self.info.sample_rate),
            reason: e.to_string(),
        }
    }
}

/// Decodes a whole file to 16 kHz mono.
pub fn decode_file(path: &Path, opts: &DecodeOptions) -> Result<DecodedAudio> {
    let mut reader = AudioReader::open(path, opts)?;
    let mut samples = Vec::new();
    // Reserve what the header declares, but never more than the file's size
    // could hold: live recorders leave the size fields at 0xFFFFFFFF.
    // Nor more than the duration limit allows, and only as a hint: a failed
    // reservation must not abort the process.
    let file_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if let Some(frames) = reader.info().declared_frames {
        let at_16k =
            frames as u128 * u128::from(SAMPLE_RATE) / u128::from(reader.info().sample_rate);
        let cap = u128::from(file_bytes) * 16; // generous for any compression ratio of speech
        let limit = opts
            .max_seconds
            .map_or(u128::MAX, |s| (u128::from(s) + 1) * u128::from(SAMPLE_RATE));
        let wanted = usize::try_from(at_16k.min(cap).min(limit)).unwrap_or(0);
        // Ignoring a failure is right: the Vec then grows as samples come.
        let _ = samples.try_reserve(wanted);
    }
    while reader.read_into(&mut samples)? {}
    samples.shrink_to_fit();
    if samples.is_empty() {
        return Err(Error::Empty { path: path.into() });
    }
    Ok(DecodedAudio {
        samples,
        info: reader.info.clone(),
        skipped_packets: reader.skipped_packets,
        shortfall: reader.shortfall(),
    })
}

#[cfg(test)]
mod tests;
