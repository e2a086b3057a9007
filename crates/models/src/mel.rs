//! The mel filterbank that whisper.cpp reads from a ggml model file.
//!
//! Whisper was trained with librosa's `filters.mel(sr=16000, n_fft=400,
//! n_mels=N)`: Slaney's mel scale and Slaney's area normalisation. This is a
//! transcription of that function, including its float64 arithmetic and its
//! two roundings to float32, so that the output matches librosa's bit for bit
//! up to the platform's `ln`/`exp`.

/// Whisper's sample rate in Hz.
pub const SAMPLE_RATE: f64 = 16_000.0;
/// Whisper's FFT size in samples.
pub const N_FFT: usize = 400;
/// The number of frequency bins of an `N_FFT`-point real FFT.
pub const N_FREQ_BINS: usize = N_FFT / 2 + 1;

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
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

/// The `n_mels × N_FREQ_BINS` filterbank, row-major, for 0 Hz to Nyquist.
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
            let w = lower.min(upper).max(0.0) as f32; // librosa stores into a float32 array
            weights[m * N_FREQ_BINS + k] = (f64::from(w) * enorm) as f32;
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for n_mels in [80, 128] {
            let f = slaney_filters(n_mels);
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
        let f = slaney_filters(80);
        assert!((f[1] - 0.024_862_59).abs() < 1e-7, "{}", f[1]);
    }
}
