//! Batch throughput: how many seconds of audio per wall second one machine
//! transcribes when it runs N streams at once over one shared model, as
//! `tocky transcribe --jobs N` does, against plain whisper-rs doing the same
//! (one `WhisperContext`, one state per stream, each file decoded whole with
//! whisper.cpp's defaults) in the same run, on the same device.
//!
//! Each configuration transcribes the same work: the clips, repeated until
//! there are at least `--min-files` files, shared out to the streams from
//! one queue. Both sides' WER is printed beside their speed, so a faster
//! device or a quantized model that loses accuracy shows it.
//!
//! ```text
//! cargo run --release -p tocky-bench --bin bench-throughput -- \
//!     --clips ../shared/eval-vi/clips --device cpu --streams 1,2
//! # on an NVIDIA machine, with scripts/build-cuda's bench-gpu:
//! bench-gpu throughput --clips clips --device gpu --streams 1,4,16,32 --model ggml-base-q8_0.bin
//! ```

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::clips::{Clip, load_clips, plain_params};
use anyhow::{Context, Result, bail};
use tocky_asr::{DecodeOptions, DeviceChoice, Engine, TranscribeOptions};
use tocky_core::wer::{ErrorCounts, score};
use whisper_rs::{WhisperContext, WhisperContextParameters};

/// `bench-throughput`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct ThroughputArgs {
    /// Clips (NAME.wav with NAME.txt).
    #[arg(long)]
    pub clips: PathBuf,
    /// Model name or ggml path.
    #[arg(long, default_value = "base")]
    pub model: String,
    /// Where inference runs: auto, cpu, gpu or gpu:N.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Stream counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub streams: Vec<usize>,
    /// CPU threads for each stream.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Beam width for both sides.
    #[arg(long, default_value_t = 5)]
    pub beam_size: usize,
    /// The clips are repeated until there are at least this many files,
    /// so that every stream stays busy.
    #[arg(long, default_value_t = 45)]
    pub min_files: usize,
    /// Leave out plain whisper-rs.
    #[arg(long)]
    pub no_plain: bool,
}

/// One configuration's result: audio seconds, wall seconds, errors.
struct Measured {
    audio_seconds: f64,
    wall_seconds: f64,
    counts: ErrorCounts,
}

impl Measured {
    fn speed(&self) -> f64 {
        self.audio_seconds / self.wall_seconds.max(1e-9)
    }
}

/// Runs `work` over `files` from `streams` threads sharing one queue;
/// `work` gets a stream's own state (made once per thread by `state`).
fn run_streams<S>(
    clips: &[Clip],
    files: usize,
    streams: usize,
    state: impl Fn() -> Result<S> + Sync,
    work: impl Fn(&mut S, &[f32]) -> Result<String> + Sync,
) -> Result<Measured> {
    let next = AtomicUsize::new(0);
    let outcome: Mutex<(ErrorCounts, Option<anyhow::Error>)> =
        Mutex::new((ErrorCounts::default(), None));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..streams {
            scope.spawn(|| {
                let result = (|| -> Result<ErrorCounts> {
                    let mut own = state()?;
                    let mut counts = ErrorCounts::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= files {
                            return Ok(counts);
                        }
                        let clip = &clips[i % clips.len()];
                        let text = work(&mut own, &clip.samples)
                            .with_context(|| format!("transcribing {}", clip.name))?;
                        counts += score(&clip.reference, &text);
                    }
                })();
                if let Ok(mut all) = outcome.lock() {
                    match result {
                        Ok(counts) => all.0 += counts,
                        Err(e) => all.1 = Some(e),
                    }
                }
            });
        }
    });
    let wall_seconds = started.elapsed().as_secs_f64();
    let (counts, error) = outcome
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a stream panicked"))?;
    if let Some(e) = error {
        return Err(e);
    }
    let audio_seconds = (0..files)
        .map(|i| clips[i % clips.len()].samples.len() as f64 / 16_000.0)
        .sum();
    Ok(Measured {
        audio_seconds,
        wall_seconds,
        counts,
    })
}

/// Measures and prints the throughput table.
pub fn run(args: &ThroughputArgs) -> Result<()> {
    if args.streams.contains(&0) {
        bail!("--streams: each count must be at least 1");
    }
    let model = tocky_models::resolve_model(&args.model, &tocky_models::default_cache_dir())?;
    let engine_options = tocky_asr::device::engine_options(args.device)?;
    // tocky's engine first: it routes whisper.cpp's log into `tracing` (silent).
    let engine = Engine::load(&model, &engine_options)?;
    let mut context_params = WhisperContextParameters::default();
    context_params.use_gpu(engine_options.use_gpu);
    context_params.gpu_device(engine_options.gpu_device);
    context_params.flash_attn(engine_options.flash_attention);
    let plain_ctx = if args.no_plain {
        None
    } else {
        let path = model.to_str().context("model path is not UTF-8")?;
        Some(WhisperContext::new_with_params(path, context_params)?)
    };
    let clips = load_clips(&args.clips)?;
    if clips.is_empty() {
        bail!("no .wav clips in {}", args.clips.display());
    }
    let files = args.min_files.max(clips.len()).div_ceil(clips.len()) * clips.len();
    let opts = TranscribeOptions {
        decode: DecodeOptions {
            threads: args.threads,
            beam_size: args.beam_size,
            ..DecodeOptions::default()
        },
        ..TranscribeOptions::recommended()
    };
    println!(
        "model {} · {} · {} thread(s) per stream · beam {} · {files} files ({} clips)",
        model.display(),
        crate::device_name(&engine_options),
        args.threads,
        args.beam_size,
        clips.len(),
    );
    println!("streams  tocky ×RT  WER     plain ×RT  WER     tocky/plain");
    for &streams in &args.streams {
        let tocky = run_streams(
            &clips,
            files,
            streams,
            || Ok(()),
            |_, samples| Ok(engine.transcribe(samples, &opts)?.text()),
        )?;
        let plain = match &plain_ctx {
            None => None,
            Some(ctx) => Some(run_streams(
                &clips,
                files,
                streams,
                || Ok(ctx.create_state()?),
                |state, samples| {
                    state.full(plain_params(args.beam_size, args.threads), samples)?;
                    let mut text = Vec::new();
                    for segment in state.as_iter() {
                        text.push(segment.to_str_lossy()?.into_owned());
                    }
                    Ok(text.join(" "))
                },
            )?),
        };
        let plain_cells = plain.as_ref().map_or_else(
            || "        -  -     ".to_owned(),
            |p| format!("{:>8.2}x  {:.4}", p.speed(), p.counts.wer()),
        );
        let ratio = plain.as_ref().map_or_else(
            || "-".to_owned(),
            |p| format!("{:.2}", tocky.speed() / p.speed()),
        );
        println!(
            "{streams:>7}  {:>8.2}x  {:.4}  {plain_cells}  {ratio}",
            tocky.speed(),
            tocky.counts.wer(),
        );
    }
    Ok(())
}
