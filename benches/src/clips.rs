//! The evaluation clips: `NAME.wav` beside its reference `NAME.txt`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tocky_audio::{DecodeOptions, decode_file};

/// One clip, decoded to 16 kHz mono.
pub struct Clip {
    /// The file name without its extension.
    pub name: String,
    /// The audio, 16 kHz mono.
    pub samples: Vec<f32>,
    /// The reference transcript, trimmed.
    pub reference: String,
}

/// Every `.wav` in `dir` with its reference, in file-name order.
pub fn load_clips(dir: &Path) -> Result<Vec<Clip>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let samples = decode_file(p, &DecodeOptions::default())?.samples;
            let reference = std::fs::read_to_string(p.with_extension("txt"))
                .with_context(|| format!("the reference of {}", p.display()))?;
            Ok(Clip {
                name: p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                samples,
                reference: reference.trim().to_owned(),
            })
        })
        .collect()
}

/// Plain whisper-rs's parameters for the comparisons: whisper.cpp's
/// defaults with beam search, Vietnamese, and no printing.
pub fn plain_params(beam_size: usize, threads: usize) -> whisper_rs::FullParams<'static, 'static> {
    let mut params = whisper_rs::FullParams::new(whisper_rs::SamplingStrategy::BeamSearch {
        beam_size: i32::try_from(beam_size).unwrap_or(i32::MAX),
        patience: -1.0,
    });
    params.set_language(Some("vi"));
    params.set_n_threads(i32::try_from(threads).unwrap_or(i32::MAX));
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_timestamps(false);
    params
}
