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
        ("speech-opus.webm", "opus", 48_000, 2),
        ("speech.opus", "opus", 48_000, 1),
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
        assert_eq!(audio.shortfall, None, "{file}: whole files are not short");
    }
}

/// Opus goes through libopus: symphonia has none of its own.
#[test]
fn opus_in_webm_and_ogg_decodes_sample_for_sample() {
    for (file, channels) in [("speech-opus.webm", 2), ("speech.opus", 1)] {
        let audio = decode_file(&fixture(file), &DecodeOptions::default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(audio.info.codec, "opus", "{file}");
        assert_eq!(audio.info.channels, channels, "{file}");
        // Ogg Opus states its pre-skip, and the decoder drops it: the
        // length is the source's to the sample.
        if file == "speech.opus" {
            assert_eq!(audio.samples.len(), 113_664);
        }
    }
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

/// An archive copy interrupted half-way still gives the audio that is
/// there, and says that the file declares more. Matroska once failed to open
/// at all when cut (symphonia's demuxer looked for its index at the end).
#[test]
fn files_cut_short_decode_what_is_there_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "speech.mp3",
        "speech.flac",
        "speech.mkv",
        "speech-vorbis.webm",
    ] {
        let bytes = std::fs::read(fixture(file)).unwrap();
        let cut = dir.path().join(format!("cut-{file}"));
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let audio = decode_file(&cut, &DecodeOptions::default())
            .unwrap_or_else(|e| panic!("{file} cut in half: {e}"));
        let seconds = audio.samples.len() as f64 / 16_000.0;
        assert!(
            (0.35..0.65).contains(&(seconds / SOURCE_SECONDS)),
            "{file} cut in half: {seconds:.2} s decoded"
        );
        let short = audio
            .shortfall
            .unwrap_or_else(|| panic!("{file} cut in half: no shortfall reported"));
        let declared = short.declared_seconds.expect("the header's length");
        assert!(
            (declared - SOURCE_SECONDS).abs() < 0.08,
            "{file}: {short:?}"
        );
        assert!(
            (short.decoded_seconds - seconds).abs() < 0.1,
            "{file}: {short:?} for {seconds:.2} s decoded"
        );
    }
}

/// MP4 keeps its index at the end: a cut file cannot be read, and the
/// error says why.
#[test]
fn a_cut_mp4_is_an_error_that_says_it_may_be_cut_short() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("speech.m4a")).unwrap();
    let cut = dir.path().join("cut.m4a");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = decode_file(&cut, &DecodeOptions::default()).unwrap_err();
    assert!(matches!(err, Error::UnsupportedFormat { .. }), "{err:?}");
    assert!(err.to_string().contains("may be cut short"), "{err}");
}

/// Damage that stops the Matroska demuxer costs the rest of the file: the
/// audio before it is kept, and where and why it stopped is reported.
#[test]
fn damaged_matroska_that_stops_early_reports_the_shortfall() {
    let mut bytes = std::fs::read(fixture("speech-vorbis.webm")).unwrap();
    let start = bytes.len() / 2;
    bytes[start..start + 400].fill(0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.webm");
    std::fs::write(&path, &bytes).unwrap();
    let audio = decode_file(&path, &DecodeOptions::default()).unwrap();
    let seconds = audio.samples.len() as f64 / 16_000.0;
    let short = audio
        .shortfall
        .expect("the lost second and more is reported");
    assert!(seconds < SOURCE_SECONDS - 0.5, "{seconds:.2} s");
    assert!(
        seconds > 1.0,
        "the audio before the damage is kept: {seconds:.2} s"
    );
    assert!((short.decoded_seconds - seconds).abs() < 0.1, "{short:?}");
    let said = short.to_string();
    assert!(said.contains("7.1 s") && said.contains("damaged"), "{said}");
}

/// MP3 files joined with `cat` (a recorder's parts made one) decode one
/// after the other. The first part's header counts only its own frames, and
/// gapless trimming once dropped everything after them.
#[test]
fn mp3_files_joined_with_cat_decode_whole() {
    let single = decode_file(&fixture("speech.mp3"), &DecodeOptions::default()).unwrap();
    let bytes = std::fs::read(fixture("speech.mp3")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let joined = dir.path().join("joined.mp3");
    std::fs::write(&joined, [bytes.as_slice(), bytes.as_slice()].concat()).unwrap();
    let audio = decode_file(&joined, &DecodeOptions::default()).unwrap();
    let (one, two) = (single.samples.len(), audio.samples.len());
    // The second part brings its own encoder delay and the first keeps its
    // padding: a few hundredths of a second of silence between them.
    assert!(
        two >= 2 * one && two < 2 * one + 16_000 / 10,
        "{two} samples for twice {one}"
    );
    assert_eq!(audio.shortfall, None);
    // The second half is the same speech, not silence.
    let tail = &audio.samples[two - one..];
    let r = rms(tail) / rms(&single.samples);
    assert!((r - 1.0).abs() < 0.05, "second part's rms ratio {r}");
    // A single file keeps its gapless length: the padding is still dropped.
    assert!(
        (one as f64 / 16_000.0 - SOURCE_SECONDS).abs() < 0.01,
        "{one} samples"
    );
}

/// One byte in WebM's Vorbis setup header made symphonia 0.5's codebook
/// reader index out of bounds while the decoder was being made (found by
/// the mutation test below). It is a corrupt file, not an unknown codec.
#[test]
fn a_malformed_vorbis_setup_header_is_an_error() {
    let mut bytes = std::fs::read(fixture("speech-vorbis.webm")).unwrap();
    bytes[2378] = 0xff;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("setup.webm");
    std::fs::write(&path, &bytes).unwrap();
    let err = decode_file(&path, &DecodeOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("malformed"), "{err}");
}

/// Every fixture, damaged in the ways archives are (bytes overwritten, cut
/// short, a stretch missing), decodes or fails with an error: never a
/// panic, never a hang. A deterministic slice of what `fuzz/` explores.
#[test]
fn damaged_fixtures_decode_or_fail_cleanly() {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as usize
    };
    let opts = DecodeOptions {
        max_seconds: Some(60),
        ..DecodeOptions::default()
    };
    let mut outcomes = [0usize; 2];
    for file in [
        "speech.mp3",
        "speech.m4a",
        "speech.ogg",
        "speech.flac",
        "speech.mkv",
        "speech.mp4",
        "speech-vorbis.webm",
        "speech-opus.webm",
        "speech.opus",
    ] {
        let whole = std::fs::read(fixture(file)).unwrap();
        for round in 0..16 {
            let mut bytes = whole.clone();
            let at = next() % bytes.len();
            match round % 4 {
                0 => (0..1 + next() % 16).for_each(|_| {
                    let i = next() % bytes.len();
                    bytes[i] = next() as u8;
                }),
                1 => bytes.truncate(at.max(1)),
                // Headers are where damage hurts most.
                2 => {
                    let at = at % bytes.len().min(4096);
                    let end = (at + 1 + next() % 8).min(bytes.len());
                    bytes[at..end].fill(0xff);
                }
                _ => {
                    let end = (at + next() % 2000).min(bytes.len());
                    bytes.drain(at..end);
                }
            }
            let result =
                tocky_audio::AudioReader::from_bytes(bytes, std::path::Path::new(file), &opts)
                    .and_then(|mut reader| {
                        let mut out = Vec::new();
                        while reader.read_into(&mut out)? {}
                        Ok(out)
                    });
            match result {
                Ok(samples) => {
                    assert!(samples.iter().all(|s| s.is_finite()), "{file} #{round}");
                    outcomes[0] += 1;
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    outcomes[1] += 1;
                }
            }
        }
    }
    // Both kinds of outcome occur, or the damage was not damage.
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}
