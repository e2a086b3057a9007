//! Prints the VAD's windows for a file (a tuning aid).
#![allow(clippy::unwrap_used, missing_docs)]
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let audio = tocky_audio::decode_file(std::path::Path::new(&path), &Default::default()).unwrap();
    let windows = tocky_audio::vad::segment(&audio.samples, &Default::default());
    for w in &windows {
        let pieces: Vec<String> = w
            .pieces
            .iter()
            .map(|p| {
                format!(
                    "{:.2}-{:.2}",
                    p.source_start as f64 / 16000.0,
                    (p.source_start + p.len as u64) as f64 / 16000.0
                )
            })
            .collect();
        println!(
            "{:.2}..{:.2} speech {:.1}s: {}",
            w.start_ms() as f64 / 1000.0,
            w.end_ms() as f64 / 1000.0,
            w.speech_ms() as f64 / 1000.0,
            pieces.join(" ")
        );
    }
}
