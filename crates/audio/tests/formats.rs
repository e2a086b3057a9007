//! Every container and codec people bring, decoded from the committed
//! fixtures in `fixtures/formats/` (one CC0 clip, 7.1 s, made by
//! `scripts/make-format-fixtures.py`).

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use tocky_audio::{DecodeOptions, Error, decode_file};

/// The source clip's length: 113,664 samples at 16 kHz.
const SOURCE_SECONDS: f64 = 7.104;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/formats")
        .join(name)
}

fn reference_rms() -> f32 {
    let wav = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/vi/cv_common_voice_vi_23397238.wav");
    rms(&decode_file(&wav, &DecodeOptions::default())
        .unwrap()
        .samples)
}

fn rms(s: &[f32]) -> f32 {
    (s.iter().map(|v| v * v).sum::<f32>() / s.len().max(1) as f32).sqrt()
}

#[test]
fn supported_formats_decode_to_the_same_speech() {
    let expected_rms = reference_rms();
    for (file, codec, rate, channels) in [
        ("speech.mp3", "mp3", 44_100, 2),
        ("speech.m4a", "aac", 48_000, 2),
        ("speech.ogg", "vorbis", 44_100, 2),
        ("speech.flac", "flac", 48_000, 1),
        ("speech.mkv", "flac", 44_100, 2),
        ("speech.mp4", "aac", 44_100, 2),
        ("speech-vorbis.webm", "vorbis", 48_000, 2),
    ] {
        let audio = decode_file(&fixture(file), &DecodeOptions::default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(audio.info.codec, codec, "{file}");
        assert_eq!(
            (audio.info.sample_rate, audio.info.channels),
            (rate, channels),
            "{file}"
        );
        let seconds = audio.samples.len() as f64 / 16_000.0;
        // Lossy codecs may add up to a frame of priming or padding.
        assert!(
            (seconds - SOURCE_SECONDS).abs() < 0.08,
            "{file}: {seconds:.3} s instead of {SOURCE_SECONDS}"
        );
        // The declared length is in frames, whatever the container counts in
        // (Matroska counts milliseconds: WebM once declared 7125 frames).
        let declared = audio
            .info
            .declared_frames
            .unwrap_or_else(|| panic!("{file}"));
        let declared_seconds = declared as f64 / f64::from(audio.info.sample_rate);
        assert!(
            (declared_seconds - SOURCE_SECONDS).abs() < 0.08,
            "{file}: declares {declared} frames, {declared_seconds:.3} s"
        );
        let r = rms(&audio.samples);
        assert!(
            (r / expected_rms - 1.0).abs() < 0.1,
            "{file}: rms {r} vs {expected_rms}"
        );
    }
}

#[test]
fn opus_is_refused_with_a_clear_reason() {
    let err = decode_file(&fixture("speech-opus.webm"), &DecodeOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NoAudioTrack { .. } | Error::UnsupportedFormat { .. }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("speech-opus.webm"), "{message}");
    assert!(
        message.to_lowercase().contains("opus") || message.contains("not supported"),
        "{message}"
    );
}

/// A few damaged bytes in the middle of a Matroska/FLAC file cost the
/// packets they hit, not the file: FLAC reports a frame cut short as a read
/// error ("unexpected end of bitstream"), which once failed the whole decode.
#[test]
fn damaged_packets_in_matroska_flac_are_skipped() {
    let bytes = std::fs::read(fixture("speech.mkv")).unwrap();
    let whole = decode_file(&fixture("speech.mkv"), &DecodeOptions::default()).unwrap();
    for at in [20, 35, 50, 80] {
        let mut damaged = bytes.clone();
        let start = damaged.len() * at / 100;
        for b in &mut damaged[start..start + 8] {
            *b ^= 0xFF;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("damaged.mkv");
        std::fs::write(&path, &damaged).unwrap();
        let audio = decode_file(&path, &DecodeOptions::default())
            .unwrap_or_else(|e| panic!("damaged at {at}%: {e}"));
        assert!(audio.skipped_packets >= 1, "damaged at {at}%");
        let kept = audio.samples.len() as f64 / whole.samples.len() as f64;
        assert!(kept > 0.8, "damaged at {at}%: kept {kept:.2} of the audio");
    }
}
