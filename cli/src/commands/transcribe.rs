//! `tocky transcribe`: files to timestamped text.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use tocky_asr::{DecodeOptions, Engine, EngineOptions};
use tocky_audio::{ChannelSelection, DecodeOptions as AudioOptions, decode_file};
use tocky_core::render;
use tocky_core::transcript::format_timestamp;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    /// `[start --> end]  text`, one segment a line.
    Text,
    /// The transcript as JSON, with word times.
    Json,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
    /// Plain text, one segment a line.
    Txt,
}

#[derive(Debug, Args)]
pub(crate) struct TranscribeArgs {
    /// Audio files (WAV, FLAC, MP3, OGG/Vorbis, AAC/M4A, MKV/WebM/MP4 audio).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// A model name from `tocky model list`, or the path of a ggml file.
    #[arg(short, long, env = "TOCKY_MODEL", default_value = tocky_models::DEFAULT_MODEL)]
    model: String,
    /// The spoken language (ISO 639-1), or `auto`.
    #[arg(short, long, default_value = "vi")]
    language: String,
    /// Beam width; 1 decodes greedily (faster, less accurate).
    #[arg(long, default_value_t = 5)]
    beam_size: usize,
    /// CPU threads.
    #[arg(short = 't', long)]
    threads: Option<usize>,
    /// Domain vocabulary to prime the decoder (names, bill titles).
    #[arg(long)]
    prompt: Option<String>,
    /// Keep one channel (from 0) instead of mixing all channels down.
    #[arg(long, value_name = "N")]
    channel: Option<usize>,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    format: OutputFormat,
}

pub(crate) fn run(args: TranscribeArgs, cache_dir: &Path) -> Result<ExitCode> {
    let model_path = tocky_models::resolve_model(&args.model, cache_dir)?;
    let engine = Engine::load(&model_path, &EngineOptions::default())
        .with_context(|| format!("loading {}", model_path.display()))?;
    let mut decode = DecodeOptions {
        language: args.language.clone(),
        beam_size: args.beam_size,
        prompt: args.prompt.clone(),
        ..DecodeOptions::default()
    };
    if let Some(t) = args.threads {
        decode.threads = t;
    }
    let audio_opts = AudioOptions {
        channel: args
            .channel
            .map_or(ChannelSelection::Downmix, ChannelSelection::Channel),
        ..AudioOptions::default()
    };

    let mut failures = 0;
    for file in &args.files {
        match transcribe_one(&engine, file, &audio_opts, &decode, args.format) {
            Ok(()) => {}
            Err(e) => {
                failures += 1;
                eprintln!("error: {}: {e:#}", file.display());
            }
        }
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn transcribe_one(
    engine: &Engine,
    file: &Path,
    audio_opts: &AudioOptions,
    decode: &DecodeOptions,
    format: OutputFormat,
) -> Result<()> {
    let audio = decode_file(file, audio_opts)?;
    let started = std::time::Instant::now();
    let transcript = engine.transcribe(&audio.samples, decode)?;
    let seconds = audio.duration_ms() as f64 / 1000.0;
    tracing::info!(
        "{}: {seconds:.1} s of audio in {:.1} s ({:.1}x real time)",
        file.display(),
        started.elapsed().as_secs_f64(),
        seconds / started.elapsed().as_secs_f64().max(1e-9)
    );
    match format {
        OutputFormat::Text => {
            println!("# {}", file.display());
            for s in &transcript.segments {
                println!(
                    "[{} --> {}]  {}",
                    format_timestamp(s.start_ms),
                    format_timestamp(s.end_ms),
                    s.text
                );
            }
        }
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&transcript)?),
        OutputFormat::Srt => print!("{}", render::srt(&transcript)),
        OutputFormat::Vtt => print!("{}", render::vtt(&transcript)),
        OutputFormat::Txt => print!("{}", render::txt(&transcript)),
    }
    Ok(())
}
