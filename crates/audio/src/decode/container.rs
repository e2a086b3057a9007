//! What the container says (its audio track, its declared length) and how
//! it is read: the codec registry, Matroska in order, gapless trims undone.

use std::io::{Read, Seek, SeekFrom};
use std::sync::OnceLock;

use symphonia::core::codecs::audio::AudioCodecParameters;
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::formats::{MediaInfo, Track};
use symphonia::core::io::{MediaSource, ReadOnlySource};
use symphonia::core::packet::Packet;
use symphonia::core::units::Duration as Ticks;

/// symphonia's codecs, and Opus through libopus (symphonia has no Opus
/// decoder of its own): WebM and Ogg Opus are what browsers, phones and
/// messaging apps record.
pub(super) fn codecs() -> &'static CodecRegistry {
    static CODECS: OnceLock<CodecRegistry> = OnceLock::new();
    CODECS.get_or_init(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<symphonia_adapter_libopus::OpusDecoder>();
        registry
    })
}

/// Matroska (and WebM) is read front to back, as a stream: seekable,
/// symphonia's demuxer first jumps to the index at the end, and a file cut
/// short then fails to open at all ("missing segment element"). Read in
/// order, it yields the audio that is there. Decoding never seeks, so
/// nothing else changes.
pub(super) fn read_matroska_in_order(
    mut source: Box<dyn MediaSource>,
) -> std::io::Result<Box<dyn MediaSource>> {
    const EBML_MAGIC: [u8; 4] = [0x1a, 0x45, 0xdf, 0xa3];
    if !source.is_seekable() {
        return Ok(source);
    }
    let mut magic = [0u8; 4];
    let mut filled = 0;
    while filled < magic.len() {
        match source.read(&mut magic[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    source.seek(SeekFrom::Start(0))?;
    Ok(if filled == magic.len() && magic == EBML_MAGIC {
        Box::new(ReadOnlySource::new(source))
    } else {
        source
    })
}

/// Makes a packet decode whole, ignoring the gapless trim that the
/// demuxer derived from the header's (too small) frame count.
pub(super) fn untrim(packet: &mut Packet) {
    // Decoders trim by these two; the duration is left as the demuxer set it.
    packet.trim_start = Ticks::from(0u64);
    packet.trim_end = Ticks::from(0u64);
}

/// Whether a PCM stream's declared length is the "unknown" size that live
/// recorders writing to a pipe leave in a WAV header (`0xFFFFFFFF` bytes).
pub(super) fn is_streaming_wav_size(params: &AudioCodecParameters, frames: Option<u64>) -> bool {
    let (Some(frames), Some(bits)) = (frames, params.bits_per_sample) else {
        return false;
    };
    let channels = params.channels.as_ref().map_or(1, |c| c.count()).max(1) as u64;
    let bytes = frames
        .saturating_mul(channels)
        .saturating_mul(u64::from(bits).div_ceil(8));
    bytes >= u64::from(u32::MAX) - 64 * 1024
}

/// The track's audio parameters, if it is an audio track.
pub(super) fn audio_params(track: &Track) -> Option<&AudioCodecParameters> {
    track.codec_params.as_ref()?.audio()
}

/// The length the container declares, in frames at `sample_rate`: the
/// count of playable frames when it gives one, else its duration (Matroska
/// counts milliseconds, MP4 its track's timescale).
pub(super) fn declared_frames(track: &Track, media: &MediaInfo, sample_rate: u32) -> Option<u64> {
    if let Some(frames) = track.num_frames {
        return Some(frames);
    }
    // Matroska gives the duration of the whole file only.
    let (ticks, time_base) = match (track.duration, media.duration) {
        (Some(d), _) => (d.get(), track.time_base),
        (None, Some(d)) => (d.get(), media.time_base),
        (None, None) => return None,
    };
    Some(match time_base {
        Some(tb) => {
            let frames = u128::from(ticks) * u128::from(tb.numer.get()) * u128::from(sample_rate)
                / u128::from(tb.denom.get());
            u64::try_from(frames).unwrap_or(u64::MAX)
        }
        None => ticks,
    })
}
