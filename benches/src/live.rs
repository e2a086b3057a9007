//! Live recognition, measured: clips played through the file source at
//! real-time pace into the whole live pipeline (capture, streaming
//! recognition, store, index, archive, WebSocket publishing), as
//! `tocky live --input FILE --realtime` runs it.
//!
//! It reports each channel's real-time factor, the latency from the end of
//! an utterance to its final text and from the start of speech to its
//! first partial (p50/p95), overruns and gaps; and the live WER against
//! batch transcription of the same clips (`tocky transcribe`'s pipeline),
//! run in the same process, with the ratio.
//!
//! ```text
//! cargo run --release -p tocky-bench --bin bench-live -- \
//!     --clips ../shared/eval-vi/clips --passes 1 --channels 1
//! # on an NVIDIA machine, with scripts/build-cuda's bench-gpu:
//! bench-gpu live --clips clips --device gpu --channels 16 --threads 16 --no-batch --max-seconds 60
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::clips::{Clip, load_clips};
use anyhow::{Context, Result};
use tocky_asr::{
    DecodeOptions, DeviceChoice, Engine, FinalContext, StreamingOptions, TranscribeOptions,
};
use tocky_capture::{FileOptions, FileSource};
use tocky_core::wer::{ErrorCounts, score};
use tocky_live::{Latencies, LiveOptions, LiveSession, LiveTarget};
use tocky_server::{AppState, ServerConfig};

/// `bench-live`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct LiveArgs {
    /// Clips (NAME.wav with NAME.txt).
    #[arg(long)]
    pub clips: PathBuf,
    /// Times the clip sequence is played (a pass of eval-vi is ~4.4 min).
    #[arg(long, default_value_t = 1)]
    pub passes: usize,
    /// Channels recognised at once (each plays the clips in another order).
    #[arg(long, default_value_t = 1)]
    pub channels: usize,
    /// Seconds of silence between clips.
    #[arg(long, default_value_t = 1.5)]
    pub pause: f64,
    /// Model name or ggml path.
    #[arg(long, default_value = "base")]
    pub model: String,
    /// Where inference runs: auto, cpu, gpu or gpu:N (one model, shared by
    /// the channels).
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// CPU threads in all (shared by the channels).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Skip the batch transcription (and the WER ratio).
    #[arg(long)]
    pub no_batch: bool,
    /// What a final's encoder sees (`tocky live --final-context`).
    #[arg(
        long,
        value_name = "utterance|full|adaptive",
        default_value = "utterance"
    )]
    pub final_context: FinalContext,
    /// Stop the sitting after this many seconds (the clips cut off are not scored).
    #[arg(long)]
    pub max_seconds: Option<f64>,
}

const RATE: usize = 16_000;

/// Where each clip sits in a channel: (clip index, start ms, end ms).
type Spans = Vec<(usize, u64, u64)>;

/// Writes the sitting: channel `c` plays the clips starting from clip
/// `c * len / channels`, each after `pause` seconds of silence.
fn write_sitting(path: &Path, clips: &[Clip], args: &LiveArgs) -> Result<Vec<Spans>> {
    let pause = (args.pause * RATE as f64) as usize;
    let mut channels = Vec::new();
    let mut spans = Vec::new();
    for c in 0..args.channels {
        let mut audio = Vec::new();
        let mut channel_spans = Vec::new();
        for pass in 0..args.passes {
            for k in 0..clips.len() {
                let i = (k + c * clips.len() / args.channels) % clips.len();
                audio.extend(std::iter::repeat_n(0.0f32, pause));
                let start = (audio.len() * 1000 / RATE) as u64;
                audio.extend(&clips[i].samples);
                let end = (audio.len() * 1000 / RATE) as u64;
                // Only the first pass is scored.
                if pass == 0 {
                    channel_spans.push((i, start, end));
                }
            }
        }
        audio.extend(std::iter::repeat_n(0.0f32, RATE * 2));
        channels.push(audio);
        spans.push(channel_spans);
    }
    let frames = channels.iter().map(Vec::len).max().unwrap_or(0);
    let spec = hound::WavSpec {
        channels: u16::try_from(args.channels).context("too many channels")?,
        sample_rate: RATE as u32,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = hound::WavWriter::create(path, spec)?;
    for i in 0..frames {
        for channel in &channels {
            let v = channel.get(i).copied().unwrap_or(0.0);
            out.write_sample((v.clamp(-1.0, 1.0) * 32767.0) as i16)?;
        }
    }
    out.finalize()?;
    Ok(spans)
}

/// Plays the sitting through the live pipeline and prints the measurements.
pub fn run(args: &LiveArgs) -> Result<()> {
    let cache = tocky_models::default_cache_dir();
    let model = tocky_models::resolve_model(&args.model, &cache)?;
    let engine_options = tocky_asr::device::engine_options(args.device)?;
    let engine = Engine::load(&model, &engine_options)?;
    let clips = load_clips(&args.clips)?;
    let dir = tempfile::tempdir()?;
    let sitting = dir.path().join("sitting.wav");
    let spans = write_sitting(&sitting, &clips, args)?;
    let threads = (args.threads / args.channels).max(1);
    println!(
        "model {} · {} · {} clip(s) × {} pass(es) · {} channel(s) · {threads} thread(s) each · final context {:?}",
        model.display(),
        crate::device_name(&engine_options),
        clips.len(),
        args.passes,
        args.channels,
        args.final_context,
    );

    // Batch first, on the same clips: the baseline WER.
    let batch = if args.no_batch {
        None
    } else {
        let opts = TranscribeOptions {
            decode: DecodeOptions {
                threads: args.threads,
                ..DecodeOptions::default()
            },
            ..TranscribeOptions::recommended()
        };
        let started = Instant::now();
        let mut counts = ErrorCounts::default();
        let mut audio = 0usize;
        for clip in &clips {
            let transcript = engine.transcribe(&clip.samples, &opts)?;
            let text: Vec<&str> = transcript
                .segments
                .iter()
                .map(|s| s.text.as_str())
                .collect();
            counts += score(&clip.reference, &text.join(" "));
            audio += clip.samples.len();
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "batch: WER {:.3} CER {:.3}, {:.1}x real time",
            counts.wer(),
            counts.cer(),
            audio as f64 / RATE as f64 / seconds
        );
        Some(counts)
    };

    let state = AppState::new(ServerConfig {
        db: dir.path().join("record.db"),
        ..ServerConfig::default()
    })?;
    let mut streaming = StreamingOptions::default();
    streaming.transcribe.decode.threads = threads;
    streaming.final_context = args.final_context;
    let opts = LiveOptions {
        channel_numbers: (0..args.channels as u32).collect(),
        archive_dir: dir.path().join("audio"),
        streaming,
        ..LiveOptions::default()
    };
    // As `tocky live` wires it: the server's record, reported to the server.
    let target = LiveTarget {
        db: &state.config().db,
        index: state.index(),
        output: &state,
    };
    let session = LiveSession::create(&target, &opts)?;
    let mut source = FileSource::open(&FileOptions {
        path: sitting.clone(),
        realtime: true,
        channels: (0..args.channels).collect(),
        ..FileOptions::default()
    })?;
    let stop = AtomicBool::new(false);
    let summary = std::thread::scope(|scope| {
        if let Some(seconds) = args.max_seconds {
            let stop = &stop;
            scope.spawn(move || {
                std::thread::sleep(std::time::Duration::from_secs_f64(seconds));
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            });
        }
        tocky_live::run(&session, &mut source, &engine, &target, &opts, &stop)
    })?;
    print!("{summary}");
    let scored_until = summary.archive_ms.saturating_sub(1000);

    // Live WER: each stored segment scores against the clip it falls in.
    let store = tocky_store::Store::open(&state.config().db)?;
    let segments = store.segments(session.id)?;
    let mut live = ErrorCounts::default();
    for (c, channel_spans) in spans.iter().enumerate() {
        for &(clip, start, end) in channel_spans.iter().filter(|s| s.2 < scored_until) {
            let text: Vec<&str> = segments
                .iter()
                .filter(|s| s.channel == Some(c as i64))
                .filter(|s| {
                    let mid = (s.start_ms + s.end_ms) as u64 / 2;
                    mid >= start.saturating_sub(500) && mid <= end + 500
                })
                .map(|s| s.text.as_str())
                .collect();
            live += score(&clips[clip].reference, &text.join(" "));
        }
    }
    println!("live: WER {:.3} CER {:.3}", live.wer(), live.cer());
    if let Some(batch) = batch {
        println!(
            "live WER / batch WER = {:.3} (target ≤ 1.10)",
            live.wer() / batch.wer().max(f64::EPSILON)
        );
    }
    let all_final: Vec<f64> = summary
        .channels
        .iter()
        .flat_map(|c| c.final_latency.iter().copied())
        .collect();
    let all_partial: Vec<f64> = summary
        .channels
        .iter()
        .flat_map(|c| c.first_partial.iter().copied())
        .collect();
    if let (Some(f), Some(p)) = (Latencies::of(&all_final), Latencies::of(&all_partial)) {
        println!(
            "all channels: final {f} (target p95 ≤ 2.5 s); first partial {p} (target p95 ≤ 2 s)"
        );
    }
    let slowest = summary
        .channels
        .iter()
        .map(tocky_live::ChannelSummary::realtime_factor)
        .fold(f64::INFINITY, f64::min);
    println!(
        "slowest channel {slowest:.2}x real time; {} overrun(s), {} gap(s)",
        summary.capture.overruns, summary.capture.gaps
    );
    Ok(())
}
