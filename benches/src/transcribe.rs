//! Accuracy and speed of tocky against plain whisper-rs, in one run on one
//! machine, so the ratio is fair on a shared, noisy host.
//!
//! Both sides get the same model, the same decoded 16 kHz audio, beam 5,
//! language `vi` and the same threads. Plain whisper-rs receives each file
//! whole with whisper.cpp's default parameters; tocky runs its pipeline
//! (VAD windows, fallbacks, filters). Decoding the audio file is not timed
//! on either side. The runs alternate (plain, tocky, plain, tocky …) so
//! that drift in the machine's load hits both alike.
//!
//! ```text
//! cargo run --release -p tocky-bench --bin bench-transcribe -- \
//!     --clips ../shared/eval-vi/clips --session /tmp/session.wav
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use tocky_asr::{DecodeOptions, Engine, EngineOptions, TranscribeOptions};
use tocky_audio::{DecodeOptions as AudioOptions, decode_file};
use tocky_bench::clips::plain_params;
use tocky_core::wer::{ErrorCounts, score};
use whisper_rs::{WhisperContext, WhisperContextParameters};

#[derive(Debug, Parser)]
struct Args {
    /// Clips (NAME.wav with NAME.txt) scored one by one.
    #[arg(long)]
    clips: Option<PathBuf>,
    /// A long session WAV with its reference (same name, .txt) and its
    /// no-speech stretches (same name, .json), as make_session.py writes.
    #[arg(long)]
    session: Option<PathBuf>,
    /// Model name or ggml path.
    #[arg(long, default_value = "base")]
    model: String,
    /// Threads for each side.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Beam width for each side.
    #[arg(long, default_value_t = 5)]
    beam_size: usize,
    /// Repetitions of the session run (alternating sides).
    #[arg(long, default_value_t = 2)]
    repeat: usize,
}

/// A transcription: its text, its words' times (ms), and the seconds it took.
struct Run {
    text: String,
    words: Vec<(u64, u64)>,
    seconds: f64,
}

fn plain(ctx: &WhisperContext, samples: &[f32], args: &Args) -> Result<Run> {
    let started = Instant::now();
    let mut state = ctx.create_state()?;
    let mut params = plain_params(args.beam_size, args.threads);
    params.set_token_timestamps(true);
    state.full(params, samples)?;
    let seconds = started.elapsed().as_secs_f64();
    let eot = ctx.token_eot();
    let mut text = Vec::new();
    let mut words = Vec::new();
    for segment in state.as_iter() {
        text.push(segment.to_str_lossy()?.into_owned());
        for i in 0..segment.n_tokens() {
            if let Some(token) = segment.get_token(i)
                && token.token_id() < eot
            {
                let d = token.token_data();
                words.push((d.t0.max(0) as u64 * 10, d.t1.max(0) as u64 * 10));
            }
        }
    }
    Ok(Run {
        text: text.join(" "),
        words,
        seconds,
    })
}

fn tocky(engine: &Engine, samples: &[f32], opts: &TranscribeOptions) -> Result<Run> {
    let started = Instant::now();
    let t = engine.transcribe(samples, opts)?;
    let seconds = started.elapsed().as_secs_f64();
    let words = t
        .segments
        .iter()
        .flat_map(|s| &s.words)
        .map(|w| (w.start_ms, w.end_ms))
        .collect();
    Ok(Run {
        text: t.text(),
        words,
        seconds,
    })
}

/// Words (or tokens, for plain whisper-rs) overlapping a no-speech stretch.
fn words_in(stretches: &[(f64, f64)], words: &[(u64, u64)]) -> usize {
    words
        .iter()
        .filter(|(s, e)| {
            stretches
                .iter()
                .any(|(a, b)| (*s as f64) < b * 1000.0 && (*e as f64) > a * 1000.0)
        })
        .count()
}

fn main() -> Result<()> {
    let args = Args::parse();
    let model = tocky_models::resolve_model(&args.model, &tocky_models::default_cache_dir())?;
    let model_str = model.to_str().context("model path is not UTF-8")?;
    // tocky's engine first: it routes whisper.cpp's log into `tracing` (silent).
    let engine = Engine::load(&model, &EngineOptions::default())?;
    let ctx = WhisperContext::new_with_params(model_str, WhisperContextParameters::default())?;
    let opts = TranscribeOptions {
        decode: DecodeOptions {
            threads: args.threads,
            beam_size: args.beam_size,
            ..DecodeOptions::default()
        },
        ..TranscribeOptions::recommended()
    };
    println!(
        "model {} · {} threads · beam {}",
        model.display(),
        args.threads,
        args.beam_size
    );

    if let Some(dir) = &args.clips {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "wav"))
            .collect();
        names.sort();
        let (mut counts, mut seconds) = ([ErrorCounts::default(); 2], [0f64; 2]);
        let mut audio_seconds = 0.0;
        for wav in &names {
            let samples = decode_file(wav, &AudioOptions::default())?.samples;
            audio_seconds += samples.len() as f64 / 16_000.0;
            let reference = std::fs::read_to_string(wav.with_extension("txt"))?;
            let a = plain(&ctx, &samples, &args)?;
            let b = tocky(&engine, &samples, &opts)?;
            for (i, run) in [a, b].iter().enumerate() {
                counts[i] += score(&reference, &run.text);
                seconds[i] += run.seconds;
            }
        }
        println!(
            "\n{} clips, {audio_seconds:.1} s of audio, each clip separately",
            names.len()
        );
        println!("side              WER      CER     speed (audio s / wall s)");
        for (i, side) in ["plain whisper-rs", "tocky"].iter().enumerate() {
            println!(
                "{side:<16}  {:.4}  {:.4}  {:.2}x",
                counts[i].wer(),
                counts[i].cer(),
                audio_seconds / seconds[i]
            );
        }
        println!("speed ratio tocky / plain: {:.2}", seconds[0] / seconds[1]);
    }

    if let Some(session) = &args.session {
        report_session(session, &ctx, &engine, &opts, &args)?;
    }
    Ok(())
}

fn report_session(
    session: &Path,
    ctx: &WhisperContext,
    engine: &Engine,
    opts: &TranscribeOptions,
    args: &Args,
) -> Result<()> {
    let samples = decode_file(session, &AudioOptions::default())?.samples;
    let audio_seconds = samples.len() as f64 / 16_000.0;
    let reference = std::fs::read_to_string(session.with_extension("txt"))?;
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(session.with_extension("json"))?)?;
    let stretches: Vec<(f64, f64)> = meta["no_speech"]
        .as_array()
        .context("no no_speech list")?
        .iter()
        .filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?)))
        .collect();
    let mut results: [Vec<Run>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..args.repeat.max(1) {
        results[0].push(plain(ctx, &samples, args)?);
        results[1].push(tocky(engine, &samples, opts)?);
    }
    println!(
        "\nsession {} ({audio_seconds:.1} s, {} no-speech stretches), {} runs per side",
        session.display(),
        stretches.len(),
        args.repeat.max(1)
    );
    println!("side              WER      CER     words in no-speech   speed (best run)");
    let mut best = [0f64; 2];
    for (i, side) in ["plain whisper-rs", "tocky"].iter().enumerate() {
        let run = &results[i][0];
        let counts = score(&reference, &run.text);
        best[i] = results[i]
            .iter()
            .map(|r| r.seconds)
            .fold(f64::INFINITY, f64::min);
        println!(
            "{side:<16}  {:.4}  {:.4}  {:>18}   {:.2}x",
            counts.wer(),
            counts.cer(),
            words_in(&stretches, &run.words),
            audio_seconds / best[i]
        );
    }
    println!("speed ratio tocky / plain: {:.2}", best[0] / best[1]);
    Ok(())
}
