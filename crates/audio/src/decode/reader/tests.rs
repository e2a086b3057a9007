//! The reader's tests: bad samples, malformed files that panicked symphonia,
//! a packet the decoder cannot read, bytes in memory.

use symphonia::core::codecs::audio::AudioCodecParameters;

use super::*;

fn float_wav(samples: &[f32]) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::new(&mut bytes, spec).unwrap();
    for s in samples {
        w.write_sample(*s).unwrap();
    }
    w.finalize().unwrap();
    bytes.into_inner()
}

#[test]
fn non_finite_samples_become_silence() {
    let bytes = float_wav(&[0.5, f32::NAN, f32::INFINITY, -0.25, f32::NEG_INFINITY]);
    let mut r =
        AudioReader::from_bytes(bytes, Path::new("x.wav"), &DecodeOptions::default()).unwrap();
    let mut out = Vec::new();
    while r.read_into(&mut out).unwrap() {}
    assert_eq!(out, vec![0.5, 0.0, 0.0, -0.25, 0.0]);
}

#[test]
fn malformed_matroska_that_panicked_the_demuxer_is_an_error() {
    // Found by `cargo fuzz run decode`: an EBML length of 0 makes
    // symphonia's reader overflow.
    let bytes: Vec<u8> = vec![
        0x1a, 0x45, 0xdf, 0xa3, 0xff, 0x23, 0xea, 0x15, 0, 0, 0, 0, 0, 0, 0, 0x74, 0x79, 0x70,
        0xff, 0xff,
    ];
    let result = AudioReader::from_bytes(bytes, Path::new("x.mkv"), &DecodeOptions::default())
        .and_then(|mut r| {
            let mut out = Vec::new();
            while r.read_into(&mut out)? {}
            Ok(out)
        });
    // symphonia 0.6 reports it as an error itself; either way, an error.
    let err = result.unwrap_err();
    assert!(
        matches!(err, Error::UnsupportedFormat { .. } | Error::Corrupt { .. }),
        "{err:?}"
    );
}

#[test]
fn a_malformed_adts_header_that_panicked_the_prober_is_an_error() {
    // Found by `cargo fuzz run decode`: symphonia's AAC (ADTS) probe
    // calls `step_by(0)`, which panics in release builds too.
    let hex = "01fd000000ff667424ff66742424fff1307970667479700624fff124ff3079";
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let err = AudioReader::from_bytes(bytes, Path::new("x.wav"), &DecodeOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(err, Error::UnsupportedFormat { .. } | Error::Corrupt { .. }),
        "{err:?}"
    );
}

/// A decoder that fails one packet with the given error, as a damaged
/// packet makes a real one fail.
struct FailsOnce {
    inner: Box<dyn AudioDecoder>,
    packets: usize,
    fail_at: usize,
    error: Option<SymphoniaError>,
}

impl AudioDecoder for FailsOnce {
    fn reset(&mut self) {
        self.inner.reset();
    }
    fn codec_info(&self) -> &symphonia::core::codecs::CodecInfo {
        self.inner.codec_info()
    }
    fn codec_params(&self) -> &AudioCodecParameters {
        self.inner.codec_params()
    }
    fn decode_ref(
        &mut self,
        packet: &symphonia::core::packet::PacketRef<'_>,
    ) -> symphonia::core::errors::Result<symphonia::core::audio::GenericAudioBufferRef<'_>> {
        self.packets += 1;
        if self.packets == self.fail_at
            && let Some(e) = self.error.take()
        {
            return Err(e);
        }
        self.inner.decode_ref(packet)
    }
    fn finalize(&mut self) -> symphonia::core::codecs::audio::FinalizeResult {
        self.inner.finalize()
    }
    fn last_decoded(&self) -> symphonia::core::audio::GenericAudioBufferRef<'_> {
        self.inner.last_decoded()
    }
}

#[test]
fn a_packet_the_decoder_cannot_read_is_skipped_not_taken_for_the_end() {
    let samples: Vec<f32> = (0..16_000).map(|i| (i % 100) as f32 / 200.0).collect();
    let whole = {
        let mut r = AudioReader::from_bytes(
            float_wav(&samples),
            Path::new("x.wav"),
            &DecodeOptions::default(),
        )
        .unwrap();
        let mut out = Vec::new();
        while r.read_into(&mut out).unwrap() {}
        out
    };
    let errors = [
        // symphonia's in-memory packet reader runs dry ("buffer underrun").
        std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "buffer underrun"),
        // Its bit reader runs dry.
        std::io::Error::other("unexpected end of bitstream"),
    ];
    for error in errors {
        let mut r = AudioReader::from_bytes(
            float_wav(&samples),
            Path::new("x.wav"),
            &DecodeOptions::default(),
        )
        .unwrap();
        let inner = codecs()
            .make_audio_decoder(r.decoder.codec_params(), &AudioDecoderOptions::default())
            .unwrap();
        r.decoder = Box::new(FailsOnce {
            inner,
            packets: 0,
            fail_at: 2,
            error: Some(SymphoniaError::IoError(error)),
        });
        let mut out = Vec::new();
        let mut reads = 0;
        while r.read_into(&mut out).unwrap() {
            reads += 1;
        }
        assert!(reads > 2, "the file must span several packets");
        assert_eq!(r.skipped_packets(), 1);
        let lost = whole.len() - out.len();
        assert!(
            lost > 0 && lost < whole.len() / 2,
            "one packet lost, not the rest of the file: {} of {}",
            out.len(),
            whole.len()
        );
        assert_eq!(out[out.len() - 1000..], whole[whole.len() - 1000..]);
    }
}

#[test]
fn bytes_in_memory_decode_like_files() {
    assert!(matches!(
        AudioReader::from_bytes(Vec::new(), Path::new("x.wav"), &DecodeOptions::default()),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        AudioReader::from_bytes(vec![7; 64], Path::new("x.mp3"), &DecodeOptions::default()),
        Err(Error::UnsupportedFormat { .. })
    ));
}
