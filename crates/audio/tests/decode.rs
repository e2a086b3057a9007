//! Integration tests of [`tocky_audio::decode_file`] and [`tocky_audio::AudioReader`]:
//! channel selection and resampling of real WAV files, pass-through at 16 kHz,
//! 24-bit and float WAV, FLAC and OGG/Vorbis made by `sox` (skipped where `sox`
//! is missing), bad input that must give the right error and never a panic,
//! the duration limit, and streaming reads that match a whole-file decode.
//!
//! Every input is generated at test time in a temporary directory.

// clippy.toml allows unwrap in `#[test]` functions only; the helpers here are test code too.
#![allow(clippy::unwrap_used)]

use std::f32::consts::PI;
use std::path::{Path, PathBuf};
use std::process::Command;

use tocky_audio::{AudioReader, ChannelSelection, DecodeOptions, Error, SAMPLE_RATE, decode_file};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Amplitude of the test sines.
const AMP: f32 = 0.5;

/// `AMP * sin(2π hz t)` sampled at `rate` for `seconds`.
fn sine(hz: f32, rate: u32, seconds: f32) -> Vec<f32> {
    let n = (rate as f32 * seconds).round() as usize;
    (0..n)
        .map(|i| AMP * (2.0 * PI * hz * i as f32 / rate as f32).sin())
        .collect()
}

/// A float sample in -1..1 as a 16-bit integer.
fn to_i16(v: f32) -> i16 {
    (v * 32767.0).round().clamp(-32768.0, 32767.0) as i16
}

/// Writes interleaved 16-bit PCM; `frames[i]` holds one sample per channel.
fn write_wav_i16(path: &Path, rate: u32, frames: &[Vec<i16>]) {
    let channels = frames.first().map_or(1, Vec::len) as u16;
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for frame in frames {
        for &s in frame {
            w.write_sample(s).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Writes a mono 16-bit WAV of `samples` (in -1..1); returns the written integers.
fn write_mono_i16(path: &Path, rate: u32, samples: &[f32]) -> Vec<i16> {
    let ints: Vec<i16> = samples.iter().map(|&v| to_i16(v)).collect();
    let frames: Vec<Vec<i16>> = ints.iter().map(|&s| vec![s]).collect();
    write_wav_i16(path, rate, &frames);
    ints
}

/// Writes a mono 24-bit integer WAV.
fn write_mono_i24(path: &Path, rate: u32, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &v in samples {
        w.write_sample((v * 8_388_607.0).round() as i32).unwrap();
    }
    w.finalize().unwrap();
}

/// Writes a mono 32-bit float WAV.
fn write_mono_f32(path: &Path, rate: u32, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &v in samples {
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
}

/// Root mean square.
fn rms(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>() / x.len() as f64).sqrt() as f32
}

/// The interior of a 16 kHz signal, away from resampler edge effects.
fn interior(x: &[f32]) -> &[f32] {
    let margin = (SAMPLE_RATE as usize / 10).min(x.len() / 4);
    &x[margin..x.len() - margin]
}

/// Deterministic pseudo-random bytes (xorshift64).
fn noise_bytes(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// Converts `input` to `output` with sox (format taken from the
/// extension). The tests need sox, as they need the model: missing, it
/// fails them rather than skipping them (`scripts/setup` installs it).
fn sox_convert(input: &Path, output: &Path) {
    match Command::new("sox").arg(input).arg(output).output() {
        Ok(o) => assert!(
            o.status.success(),
            "sox {} -> {} failed: {}",
            input.display(),
            output.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("cannot run sox ({e}); scripts/setup installs it"),
    }
}

fn opts() -> DecodeOptions {
    DecodeOptions::default()
}

fn channel(c: usize) -> DecodeOptions {
    DecodeOptions {
        channel: ChannelSelection::Channel(c),
        ..DecodeOptions::default()
    }
}

/// The 44.1 kHz stereo test file: left a 440 Hz sine, right silence, 2.0 s.
fn stereo_left_sine(dir: &Path) -> PathBuf {
    let path = dir.join("stereo.wav");
    let left = sine(440.0, 44_100, 2.0);
    let frames: Vec<Vec<i16>> = left.iter().map(|&l| vec![to_i16(l), 0]).collect();
    write_wav_i16(&path, 44_100, &frames);
    path
}

// ---------------------------------------------------------------------------
// 1. Stereo 44.1 kHz: downmix, channel selection, info
// ---------------------------------------------------------------------------

#[test]
fn stereo_44k_downmix_halves_the_one_sided_sine() {
    let dir = tempfile::tempdir().unwrap();
    let path = stereo_left_sine(dir.path());

    let audio = decode_file(&path, &opts()).unwrap();
    let n = audio.samples.len();
    assert!(n.abs_diff(32_000) <= 1, "got {n} samples, want 32000 ± 1");
    assert_eq!(audio.info.sample_rate, 44_100);
    assert_eq!(audio.info.channels, 2);
    assert!(!audio.info.codec.is_empty());
    assert_eq!(audio.skipped_packets, 0);
    assert!(
        (1999..=2000).contains(&audio.duration_ms()),
        "duration {} ms",
        audio.duration_ms()
    );

    let left_rms = rms(&sine(440.0, 44_100, 2.0));
    let mix_rms = rms(interior(&audio.samples));
    let ratio = mix_rms / left_rms;
    assert!(
        (ratio - 0.5).abs() < 0.02,
        "downmix rms {mix_rms} vs left rms {left_rms}: ratio {ratio}"
    );
}

#[test]
fn stereo_44k_info_from_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = stereo_left_sine(dir.path());
    let reader = AudioReader::open(&path, &opts()).unwrap();
    let info = reader.info();
    assert_eq!(info.sample_rate, 44_100);
    assert_eq!(info.channels, 2);
    assert!(!info.codec.is_empty(), "empty codec name");
    assert_eq!(info.declared_frames, Some(88_200));
    assert_eq!(reader.skipped_packets(), 0);
}

#[test]
fn stereo_44k_channel_0_is_the_full_sine() {
    let dir = tempfile::tempdir().unwrap();
    let path = stereo_left_sine(dir.path());

    let audio = decode_file(&path, &channel(0)).unwrap();
    assert!(
        audio.samples.len().abs_diff(32_000) <= 1,
        "got {} samples",
        audio.samples.len()
    );
    let got = rms(interior(&audio.samples));
    let want = AMP / 2f32.sqrt();
    assert!(
        (got / want - 1.0).abs() < 0.02,
        "channel 0 rms {got}, want {want}"
    );

    // Sample by sample against an ideal 16 kHz sine: resampling keeps the phase.
    let ideal = sine(440.0, SAMPLE_RATE, 2.0);
    let err = audio.samples[2000..30_000]
        .iter()
        .zip(&ideal[2000..30_000])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(err < 0.02, "max error vs ideal sine {err}");
}

#[test]
fn stereo_44k_channel_1_is_silent() {
    let dir = tempfile::tempdir().unwrap();
    let path = stereo_left_sine(dir.path());

    let audio = decode_file(&path, &channel(1)).unwrap();
    assert!(
        audio.samples.len().abs_diff(32_000) <= 1,
        "got {} samples",
        audio.samples.len()
    );
    let got = rms(&audio.samples);
    assert!(got < 1e-3, "channel 1 rms {got}");
}

#[test]
fn stereo_44k_channel_2_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let path = stereo_left_sine(dir.path());

    match decode_file(&path, &channel(2)) {
        Err(Error::NoSuchChannel {
            channels,
            requested,
            path: p,
        }) => {
            assert_eq!(channels, 2);
            assert_eq!(requested, 2);
            assert_eq!(p, path);
        }
        other => panic!("want NoSuchChannel, got {other:?}"),
    }
    assert!(matches!(
        AudioReader::open(&path, &channel(2)),
        Err(Error::NoSuchChannel {
            channels: 2,
            requested: 2,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------
// 2. 16 kHz mono passes through
// ---------------------------------------------------------------------------

#[test]
fn mono_16k_passes_through_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mono16k.wav");
    // A chirp plus a little noise, so a shifted or filtered copy would not match.
    let noise = noise_bytes(24_000, 7);
    let samples: Vec<f32> = (0..24_000)
        .map(|i| {
            let t = i as f32 / 16_000.0;
            0.4 * (2.0 * PI * (200.0 + 800.0 * t) * t).sin()
                + (f32::from(noise[i]) - 128.0) / 2048.0
        })
        .collect();
    let ints = write_mono_i16(&path, 16_000, &samples);

    let audio = decode_file(&path, &opts()).unwrap();
    assert_eq!(audio.info.sample_rate, 16_000);
    assert_eq!(audio.info.channels, 1);
    assert_eq!(audio.samples.len(), ints.len());
    for (i, (got, want)) in audio.samples.iter().zip(&ints).enumerate() {
        let want = f32::from(*want) / 32768.0;
        assert!(
            (got - want).abs() < 1e-4,
            "sample {i}: got {got}, want {want}"
        );
    }
}

// ---------------------------------------------------------------------------
// 3. 48 kHz 24-bit and float WAV
// ---------------------------------------------------------------------------

#[test]
fn wav_48k_24_bit_decodes_to_the_right_length() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("48k_s24.wav");
    let src = sine(1000.0, 48_000, 1.5);
    write_mono_i24(&path, 48_000, &src);

    let audio = decode_file(&path, &opts()).unwrap();
    assert_eq!(audio.info.sample_rate, 48_000);
    assert_eq!(audio.info.channels, 1);
    assert!(
        audio.samples.len().abs_diff(24_000) <= 1,
        "got {} samples",
        audio.samples.len()
    );
    let ratio = rms(interior(&audio.samples)) / rms(&src);
    assert!((ratio - 1.0).abs() < 0.02, "rms ratio {ratio}");
}

#[test]
fn wav_48k_float_decodes_to_the_right_length() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("48k_f32.wav");
    let src = sine(1000.0, 48_000, 1.5);
    write_mono_f32(&path, 48_000, &src);

    let audio = decode_file(&path, &opts()).unwrap();
    assert_eq!(audio.info.sample_rate, 48_000);
    assert!(
        audio.samples.len().abs_diff(24_000) <= 1,
        "got {} samples",
        audio.samples.len()
    );
    let ratio = rms(interior(&audio.samples)) / rms(&src);
    assert!((ratio - 1.0).abs() < 0.02, "rms ratio {ratio}");
}

#[test]
fn wav_8k_8_bit_is_upsampled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("8k_u8.wav");
    let src = sine(300.0, 8_000, 2.0);
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 8,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for &v in &src {
        w.write_sample((v * 127.0).round() as i8).unwrap();
    }
    w.finalize().unwrap();

    let audio = decode_file(&path, &opts()).unwrap();
    assert_eq!(audio.info.sample_rate, 8_000);
    assert!(
        audio.samples.len().abs_diff(32_000) <= 1,
        "got {} samples",
        audio.samples.len()
    );
    let ratio = rms(interior(&audio.samples)) / rms(&src);
    assert!((ratio - 1.0).abs() < 0.03, "rms ratio {ratio}");
}

// ---------------------------------------------------------------------------
// 4. FLAC and OGG/Vorbis from sox
// ---------------------------------------------------------------------------

/// Makes a 2.5 s 44.1 kHz mono WAV, converts it with sox to `ext`, and checks that
/// both decode to the same length (± 1 %) and a similar RMS.
fn check_sox_format(ext: &str, rms_tolerance: f32) {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("src.wav");
    // Two tones, the second fading in, so the RMS is not trivially constant.
    let samples: Vec<f32> = sine(440.0, 44_100, 2.5)
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let t = i as f32 / 44_100.0;
            0.6 * v + 0.2 * (t / 2.5) * (2.0 * PI * 1250.0 * t).sin()
        })
        .collect();
    write_mono_i16(&wav, 44_100, &samples);
    let other = dir.path().join(format!("src.{ext}"));
    sox_convert(&wav, &other);

    let a = decode_file(&wav, &opts()).unwrap();
    let b = decode_file(&other, &opts()).unwrap();
    assert_eq!(b.info.sample_rate, 44_100, "{ext}");
    assert_eq!(b.info.channels, 1, "{ext}");
    assert!(!b.info.codec.is_empty(), "{ext}");
    let (la, lb) = (a.samples.len() as f64, b.samples.len() as f64);
    assert!(
        (lb / la - 1.0).abs() <= 0.01,
        "{ext}: {lb} samples vs {la} from the WAV"
    );
    let (ra, rb) = (rms(interior(&a.samples)), rms(interior(&b.samples)));
    eprintln!(
        "{ext} ({}): {lb} samples, rms {rb}; wav: {la} samples, rms {ra}",
        b.info.codec
    );
    assert!(
        (rb / ra - 1.0).abs() <= rms_tolerance,
        "{ext}: rms {rb} vs {ra} from the WAV"
    );
}

/// Vorbis (and MP3/AAC) carry encoder padding that only the container's
/// granule positions / gapless info say to drop; the WAV is 110 250 frames.
#[test]
fn ogg_vorbis_length_is_sample_exact() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("src.wav");
    write_mono_i16(&wav, 44_100, &sine(440.0, 44_100, 2.5));
    let ogg = dir.path().join("src.ogg");
    sox_convert(&wav, &ogg);
    let a = decode_file(&wav, &opts()).unwrap();
    let b = decode_file(&ogg, &opts()).unwrap();
    assert_eq!(
        b.samples.len(),
        a.samples.len(),
        "ogg declares {:?} frames",
        b.info.declared_frames
    );
}

#[test]
fn flac_from_sox_matches_the_wav() {
    check_sox_format("flac", 0.01);
}

#[test]
fn ogg_vorbis_from_sox_matches_the_wav() {
    check_sox_format("ogg", 0.05);
}

// ---------------------------------------------------------------------------
// 5. Bad input
// ---------------------------------------------------------------------------

#[test]
fn empty_file_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.wav");
    std::fs::write(&path, b"").unwrap();
    assert!(matches!(
        decode_file(&path, &opts()),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        AudioReader::open(&path, &opts()),
        Err(Error::Empty { .. })
    ));
}

/// Random bytes under a given extension must give a decoding error, not a panic nor audio.
fn check_random_bytes(ext: &str, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("noise.{ext}"));
    std::fs::write(&path, noise_bytes(64 * 1024, seed)).unwrap();
    let result = std::panic::catch_unwind(|| decode_file(&path, &opts()));
    let result =
        result.unwrap_or_else(|_| panic!("decode_file panicked on random bytes named .{ext}"));
    eprintln!(
        "random bytes .{ext} seed {seed}: {:?}",
        result.as_ref().map(|a| a.samples.len())
    );
    match result {
        Err(
            Error::UnsupportedFormat { .. }
            | Error::Corrupt { .. }
            | Error::NoAudioTrack { .. }
            | Error::Empty { .. },
        ) => {}
        other => panic!(
            "random bytes named .{ext}: want a decoding error, got {:?}",
            other.map(|a| (a.samples.len(), a.info))
        ),
    }
}

#[test]
fn random_bytes_named_wav_is_an_error() {
    for seed in [1, 2, 3] {
        check_random_bytes("wav", seed);
    }
}

#[test]
fn random_bytes_named_mp3_is_an_error() {
    for seed in [1, 2, 3] {
        check_random_bytes("mp3", seed);
    }
}

#[test]
fn nonexistent_path_is_io() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("does-not-exist.wav");
    match decode_file(&path, &opts()) {
        Err(Error::Io { path: p, source }) => {
            assert_eq!(p, path);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("want Io, got {other:?}"),
    }
}

#[test]
fn directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("a_dir.wav");
    std::fs::create_dir(&sub).unwrap();
    let result = std::panic::catch_unwind(|| decode_file(&sub, &opts()))
        .unwrap_or_else(|_| panic!("decode_file panicked on a directory"));
    eprintln!("directory: {:?}", result.as_ref().map(|a| a.samples.len()));
    assert!(
        result.is_err(),
        "a directory decoded: {:?}",
        result.map(|a| a.samples.len())
    );
}

#[test]
fn wav_truncated_in_the_data_chunk_is_short_or_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.wav");
    let rate = 16_000;
    write_mono_i16(&full, rate, &sine(300.0, rate, 2.0)); // 32000 frames, 64000 data bytes
    let bytes = std::fs::read(&full).unwrap();
    assert_eq!(
        bytes.len(),
        44 + 64_000,
        "hound writes a 44-byte header for 16-bit mono"
    );

    for data_bytes_kept in [20_000usize, 20_001, 33_333] {
        let cut = dir.path().join(format!("cut_{data_bytes_kept}.wav"));
        std::fs::write(&cut, &bytes[..44 + data_bytes_kept]).unwrap();
        let result = std::panic::catch_unwind(|| decode_file(&cut, &opts())).unwrap_or_else(|_| {
            panic!("decode_file panicked on a WAV cut after {data_bytes_kept} data bytes")
        });
        eprintln!(
            "cut after {data_bytes_kept} data bytes: {:?}",
            result.as_ref().map(|a| a.samples.len())
        );
        match result {
            Ok(audio) => {
                let present = (data_bytes_kept / 2) as f64;
                let got = audio.samples.len() as f64;
                assert!(
                    got < 32_000.0,
                    "cut after {data_bytes_kept} bytes: got all {got} declared samples"
                );
                assert!(
                    (got / present - 1.0).abs() <= 0.01,
                    "cut after {data_bytes_kept} bytes: {got} samples, {present} present"
                );
                let short = audio.shortfall.expect("a cut WAV says it is short");
                assert_eq!(short.declared_seconds, Some(2.0), "{short:?}");
            }
            Err(e) => {
                assert!(
                    matches!(
                        e,
                        Error::Corrupt { .. } | Error::UnsupportedFormat { .. } | Error::Io { .. }
                    ),
                    "cut after {data_bytes_kept} bytes: unexpected error {e:?}"
                );
                assert!(!e.to_string().is_empty());
            }
        }
    }
}

#[test]
fn wav_truncated_in_the_header_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.wav");
    write_mono_i16(&full, 16_000, &sine(300.0, 16_000, 0.5));
    let bytes = std::fs::read(&full).unwrap();

    for keep in [4usize, 12, 20, 30, 40] {
        let cut = dir.path().join(format!("header_{keep}.wav"));
        std::fs::write(&cut, &bytes[..keep]).unwrap();
        let result = std::panic::catch_unwind(|| decode_file(&cut, &opts())).unwrap_or_else(|_| {
            panic!("decode_file panicked on a WAV cut after {keep} header bytes")
        });
        eprintln!(
            "header cut {keep}: {:?}",
            result.as_ref().map(|a| a.samples.len())
        );
        assert!(
            result.is_err(),
            "a WAV cut after {keep} header bytes decoded: {:?}",
            result.map(|a| a.samples.len())
        );
    }
}

#[test]
fn wav_without_samples_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no_samples.wav");
    write_mono_i16(&path, 16_000, &[]);
    assert!(matches!(
        decode_file(&path, &opts()),
        Err(Error::Empty { .. })
    ));
}

/// A WAV whose RIFF and data sizes are 0xFFFFFFFF, as live recorders writing to
/// a pipe leave them, decodes to the samples actually present.
#[test]
fn wav_with_streaming_header_decodes_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("streaming.wav");
    write_mono_i16(&path, 16_000, &sine(440.0, 16_000, 1.0));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    bytes[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();

    let audio = decode_file(&path, &opts()).unwrap();
    assert_eq!(audio.samples.len(), 16_000);
    // "Unknown size" is not a promise of four gigabytes.
    assert_eq!(audio.shortfall, None);
}

#[test]
fn wav_with_streaming_header_does_not_reserve_a_gigabyte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("streaming.wav");
    write_mono_i16(&path, 16_000, &sine(440.0, 16_000, 1.0));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    bytes[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();

    let audio = decode_file(&path, &opts()).unwrap();
    let (len, cap) = (audio.samples.len(), audio.samples.capacity());
    assert!(
        cap <= 4 * len + 65_536,
        "{len} samples held in a Vec of capacity {cap}"
    );
}

// ---------------------------------------------------------------------------
// 6. Duration limit
// ---------------------------------------------------------------------------

#[test]
fn max_seconds_refuses_a_longer_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("three_seconds.wav");
    write_mono_i16(&path, 22_050, &sine(440.0, 22_050, 3.0));

    let limited = DecodeOptions {
        max_seconds: Some(1),
        ..DecodeOptions::default()
    };
    match decode_file(&path, &limited) {
        Err(Error::TooLong {
            limit_seconds,
            path: p,
        }) => {
            assert_eq!(limit_seconds, 1);
            assert_eq!(p, path);
        }
        other => panic!("want TooLong, got {:?}", other.map(|a| a.samples.len())),
    }

    // A limit above the duration lets it through.
    let roomy = DecodeOptions {
        max_seconds: Some(4),
        ..DecodeOptions::default()
    };
    let audio = decode_file(&path, &roomy).unwrap();
    assert!(
        audio.samples.len().abs_diff(48_000) <= 1,
        "got {}",
        audio.samples.len()
    );
}

// ---------------------------------------------------------------------------
// 7. Streaming
// ---------------------------------------------------------------------------

#[test]
fn streaming_reads_match_decode_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = stereo_left_sine(dir.path());

    for options in [opts(), channel(0)] {
        let whole = decode_file(&path, &options).unwrap();

        let mut reader = AudioReader::open(&path, &options).unwrap();
        let mut streamed = Vec::new();
        let mut calls = 0;
        let mut chunk = Vec::new();
        loop {
            chunk.clear();
            let more = reader.read_into(&mut chunk).unwrap();
            streamed.extend_from_slice(&chunk);
            calls += 1;
            assert!(calls < 100_000, "read_into never ends");
            if !more {
                break;
            }
        }
        assert!(calls > 2, "expected several packets, got {calls} calls");
        // After the end it keeps saying so and adds nothing.
        let before = streamed.len();
        assert!(!reader.read_into(&mut streamed).unwrap());
        assert_eq!(streamed.len(), before);

        assert_eq!(streamed.len(), whole.samples.len(), "{options:?}");
        assert!(
            streamed
                .iter()
                .zip(&whole.samples)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{options:?}: samples differ"
        );
    }
}

// ---------------------------------------------------------------------------
// 8. Lying headers
// ---------------------------------------------------------------------------

/// A mono 8-bit PCM WAV written by hand, so that any header value can be set.
fn raw_wav_u8(rate: u32, data: &[u8], data_len: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&data_len.saturating_add(36).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes()); // PCM
    v.extend_from_slice(&1u16.to_le_bytes()); // mono
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes()); // bytes per second
    v.extend_from_slice(&1u16.to_le_bytes()); // block align
    v.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_len.to_le_bytes());
    v.extend_from_slice(data);
    v
}

/// A header claiming 1 Hz made 4 KB decode to 16 million samples (and a
/// 16-million-point FFT); 4 294 967 291 Hz aborted the process asking for a
/// 16 GiB buffer. Both are refused, quickly, with the rate in the message.
#[test]
fn absurd_sample_rates_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = vec![128u8; 4_000];
    for rate in [1, 7, 999, 768_001, 16_777_259, 4_294_967_291] {
        let path = dir.path().join(format!("rate_{rate}.wav"));
        std::fs::write(&path, raw_wav_u8(rate, &data, data.len() as u32)).unwrap();
        let started = std::time::Instant::now();
        match decode_file(&path, &opts()) {
            Err(e @ Error::UnsupportedSampleRate { sample_rate, .. }) => {
                assert_eq!(sample_rate, rate);
                assert!(e.to_string().contains(&format!("{rate} Hz")), "{e}");
            }
            other => panic!(
                "{rate} Hz: want UnsupportedSampleRate, got {:?}",
                other.map(|a| a.samples.len())
            ),
        }
        assert!(
            started.elapsed().as_secs() < 2,
            "{rate} Hz took {:?}",
            started.elapsed()
        );
    }
}

/// Rates that share few factors with 16 kHz need long FFT blocks; the
/// resampler's tail must still come out whole (384 001 Hz gave no samples).
#[test]
fn odd_sample_rates_keep_their_whole_duration() {
    let dir = tempfile::tempdir().unwrap();
    for rate in [1_000u32, 11_025, 44_101, 384_001] {
        let data = vec![160u8; rate as usize / 2]; // half a second
        let path = dir.path().join(format!("rate_{rate}.wav"));
        std::fs::write(&path, raw_wav_u8(rate, &data, data.len() as u32)).unwrap();
        let audio = decode_file(&path, &opts()).unwrap();
        let want = data.len() as u64 * u64::from(SAMPLE_RATE) / u64::from(rate);
        assert_eq!(audio.samples.len() as u64, want, "{rate} Hz");
    }
}

/// A live recorder's WAV header (sizes 0xFFFFFFFF) on a large file, at a low
/// rate, once made `decode_file` reserve 256 GiB up front, which aborts the
/// process. (The file is sparse: it takes no disk space.)
#[test]
fn streaming_header_on_a_large_file_does_not_abort() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.wav");
    std::fs::write(&path, raw_wav_u8(1_000, &[128; 1_000], u32::MAX)).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    let limited = DecodeOptions {
        max_seconds: Some(1),
        ..DecodeOptions::default()
    };
    assert!(matches!(
        decode_file(&path, &limited),
        Err(Error::TooLong {
            limit_seconds: 1,
            ..
        })
    ));
}
