//! The mel filterbank that whisper.cpp reads from a ggml model file.
//!
//! Whisper was trained with librosa's `filters.mel(sr=16000, n_fft=400,
//! n_mels=N)`: Slaney's mel scale and Slaney's area normalisation. For the
//! two band counts Whisper models have (80, and 128 for large-v3) the
//! filterbank is OpenAI's own `mel_filters.npz`, embedded as raw float32
//! (`assets/`, MIT, see `assets/README.md`): computing it would make the
//! converted file's bytes depend on the platform's `ln`/`exp` and on which
//! zero `f64::max` picks, and the file is pinned by a checksum.
//!
//! Other band counts occur only in synthetic test models; for them
//! [`slaney_filters`] computes librosa's formula. Its output may differ in
//! the last bit between platforms (libm), so nothing pinned uses it.

/// Whisper's sample rate in Hz.
pub const SAMPLE_RATE: f64 = 16_000.0;
/// Whisper's FFT size in samples.
pub const N_FFT: usize = 400;
/// The number of frequency bins of an `N_FFT`-point real FFT.
pub const N_FREQ_BINS: usize = N_FFT / 2 + 1;

/// OpenAI's `mel_80`, 80 × 201 little-endian float32.
const MEL_80: &[u8] = include_bytes!("../assets/mel_80.f32");
/// OpenAI's `mel_128`, 128 × 201 little-endian float32.
const MEL_128: &[u8] = include_bytes!("../assets/mel_128.f32");

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

/// The `n_mels × N_FREQ_BINS` filterbank a ggml file carries, row-major,
/// for 0 Hz to Nyquist: OpenAI's data for 80 and 128 bands (the same
/// bytes on every machine), [`slaney_filters`] otherwise.
pub fn filters(n_mels: usize) -> Vec<f32> {
    match n_mels {
        80 => le_f32s(MEL_80),
        128 => le_f32s(MEL_128),
        _ => slaney_filters(n_mels),
    }
}

fn le_f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Hertz to mels on Slaney's scale (linear below 1 kHz, logarithmic above).
pub fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / F_SP
    }
}

/// Mels to hertz on Slaney's scale.
pub fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (log_step() * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

/// librosa's `filters.mel` computed here, for band counts that have no
/// embedded data: `n_mels × N_FREQ_BINS`, row-major. It follows librosa's
/// float64 arithmetic and its two roundings to float32; the comparisons are
/// written out so that the sign of a zero weight is librosa's (band 0, bin
/// 0 is -0.0) on every machine, whatever `f64::min`/`max` do with zeros.
pub fn slaney_filters(n_mels: usize) -> Vec<f32> {
    let fft_freqs: Vec<f64> = (0..N_FREQ_BINS)
        .map(|i| i as f64 * (SAMPLE_RATE / 2.0) / (N_FREQ_BINS - 1) as f64)
        .collect();
    let (min_mel, max_mel) = (hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2.0));
    let n_points = n_mels + 2;
    let mel_f: Vec<f64> = (0..n_points)
        .map(|i| mel_to_hz(min_mel + (max_mel - min_mel) * i as f64 / (n_points - 1) as f64))
        .collect();

    let mut weights = vec![0f32; n_mels * N_FREQ_BINS];
    for m in 0..n_mels {
        let lower_width = mel_f[m + 1] - mel_f[m];
        let upper_width = mel_f[m + 2] - mel_f[m + 1];
        let enorm = 2.0 / (mel_f[m + 2] - mel_f[m]);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let lower = -(mel_f[m] - f) / lower_width;
            let upper = (mel_f[m + 2] - f) / upper_width;
            // numpy's minimum, then maximum(0, ·), which keeps a -0.0.
            let w = if upper < lower { upper } else { lower };
            let w = if w < 0.0 { 0.0 } else { w };
            let w = w as f32; // librosa stores into a float32 array
            weights[m * N_FREQ_BINS + k] = (f64::from(w) * enorm) as f32;
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_computed_formula_is_librosas_up_to_libm() {
        // The embedded data is what the formula gives; a platform's ln/exp
        // may move a weight by an ulp, never more.
        for n_mels in [80, 128] {
            let computed = slaney_filters(n_mels);
            let embedded = filters(n_mels);
            for (i, (c, e)) in computed.iter().zip(embedded.iter()).enumerate() {
                let ulps = (c.to_bits() as i64 - e.to_bits() as i64).abs();
                assert!(
                    ulps <= 1,
                    "band {}, bin {}: {c} vs {e}",
                    i / N_FREQ_BINS,
                    i % N_FREQ_BINS
                );
            }
            // The signs of zeros do not depend on the platform.
            assert_eq!(computed[0].to_bits(), 0x8000_0000);
        }
    }

    #[test]
    fn scale_round_trips_and_is_linear_below_1khz() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(200.0) - 3.0).abs() < 1e-12);
        for hz in [0.0, 123.0, 999.0, 1000.0, 4321.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9, "{hz}");
        }
    }

    #[test]
    fn filters_have_whisper_shape_and_slaney_area() {
        for n_mels in [4, 80, 128] {
            let f = filters(n_mels);
            assert_eq!(f.len(), n_mels * N_FREQ_BINS);
            for m in 0..n_mels {
                let row = &f[m * N_FREQ_BINS..(m + 1) * N_FREQ_BINS];
                assert!(row.iter().all(|w| *w >= 0.0));
                assert!(
                    row.iter().any(|w| *w > 0.0),
                    "mel band {m} of {n_mels} is empty"
                );
            }
            // The first band peaks near 0 Hz; the DC and Nyquist bins of the
            // top band are zero, as in librosa.
            assert_eq!(f[0], 0.0);
            assert_eq!(f[n_mels * N_FREQ_BINS - 1], 0.0);
        }
        // librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)[0, 1] = 0.02486259.
        let f = filters(80);
        assert!((f[1] - 0.024_862_59).abs() < 1e-7, "{}", f[1]);
    }
}
