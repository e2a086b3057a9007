//! Words re-timed in the background of the review server: how long from a
//! save to the re-timed words arriving on a live page, for a 10 s and a
//! 28 s segment, and what a burst of 50 saves does to other requests
//! (p95 of `GET …/segments` against its idle value) and whether every
//! save ends up re-timed.
//!
//! The sitting is made of the fixture clips joined with short pauses;
//! each segment's words start laid out by letters (times to be corrected),
//! and each save changes one word in five.
//!
//! ```text
//! cargo run --release -p tocky-bench --bin bench-retime -- --clips fixtures/vi
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use tocky_asr::{AlignOptions, Engine, EngineOptions};
use tocky_bench::clips::load_clips;
use tocky_bench::http::{Client, percentile, report};
use tocky_bench::synthetic;
use tocky_core::document::TranscriptDocument;
use tocky_core::{Segment, Word};
use tocky_server::{AppState, ServerConfig};
use tocky_store::{Role, SessionMeta, Store};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Debug, Parser)]
struct Args {
    /// Clips (`NAME.wav` beside `NAME.txt`) the sitting is joined from.
    #[arg(long, default_value = "fixtures/vi")]
    clips: PathBuf,
    /// The ggml model (default: the installed default model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Saves timed per segment length.
    #[arg(long, default_value_t = 10)]
    saves: usize,
    /// Saves in the burst.
    #[arg(long, default_value_t = 50)]
    burst: usize,
}

const PASSWORD: &str = "bench password";
const PAUSE_MS: u64 = 300;

/// A stretch of the sitting: its bounds and text.
struct Stretch {
    start_ms: u64,
    end_ms: u64,
    text: String,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let media = dir.path().join("media");
    std::fs::create_dir(&media)?;
    let (stretches, duration_ms) = join_clips(&args, &media.join("sitting.wav"))?;
    let db = dir.path().join("tocky.db");
    {
        let mut store = Store::open(&db)?;
        store.ingest(
            &document(&stretches, duration_ms),
            &SessionMeta::default(),
            "bench",
        )?;
        let hash = tocky_server::auth::hash_password(PASSWORD)?;
        store.add_user("steno", &hash, Role::Stenographer, "bench")?;
        store.add_user("reader", &hash, Role::Reader, "bench")?;
    }
    let model = match args.model.clone() {
        Some(path) => path,
        None => tocky_models::resolve_model(
            tocky_models::DEFAULT_MODEL,
            &tocky_models::default_cache_dir(),
        )?,
    };
    let engine = Arc::new(Engine::load(&model, &EngineOptions::default())?);
    let mut config = ServerConfig {
        db,
        media_dirs: vec![media.clone()],
        ..ServerConfig::default()
    };
    config.limits.api_requests_per_second = u32::MAX;
    config.limits.api_burst = u32::MAX;
    let state = AppState::new(config)?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let locate: tocky_retime::AudioLocator = Box::new(move |session| {
            tocky_server::audio::resolve(
                std::slice::from_ref(&media),
                session.audio_file.as_deref()?,
            )
        });
        let options = AlignOptions {
            threads: (cores / 2).max(1),
            ..AlignOptions::default()
        };
        tocky_retime::service::spawn(
            tocky_retime::service::Service {
                db: state.config().db.clone(),
                wanted: state.retime_wanted(),
                shutdown: state.shutdown_signal(),
                output: state.clone(),
            },
            Arc::new(tocky_retime::Retimer::new(engine, options, locate)),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(tocky_server::serve(listener, state, std::future::pending()));
        let base = format!("http://{addr}");
        let steno = Client::login(&base, "steno", PASSWORD).await?;
        let reader = Client::login(&base, "reader", PASSWORD).await?;
        let mut request = format!("ws://{addr}/api/sessions/1/live").into_client_request()?;
        request
            .headers_mut()
            .insert("cookie", reader.cookie.parse()?);
        let (mut live, _) = tokio_tungstenite::connect_async(request).await?;
        println!(
            "sitting of {} segments, {:.0} s, re-timing on {} of {cores} cores",
            stretches.len(),
            duration_ms as f64 / 1000.0,
            (cores / 2).max(1)
        );

        let segments = fetch(&steno).await?;
        for target_s in [10.0, 28.0] {
            let seg = closest(&segments, target_s)?;
            let mut waits = Vec::new();
            for round in 0..args.saves {
                let now = fetch(&steno).await?;
                let current = now
                    .iter()
                    .find(|s| s["id"] == seg["id"])
                    .context("segment")?;
                let started = Instant::now();
                let version = save(&steno, current, round).await?;
                wait_retimed(&mut live, current["id"].as_i64().unwrap_or(0), version).await?;
                waits.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            let length = (seg["end_ms"].as_i64().unwrap_or(0)
                - seg["start_ms"].as_i64().unwrap_or(0)) as f64
                / 1000.0;
            report(
                &format!("save -> words, {length:.1} s segment"),
                &mut waits,
                1.0,
            );
        }

        // Idle reads, then the same reads during a burst of saves.
        let mut idle = Vec::new();
        for _ in 0..50 {
            idle.push(steno.timed_get("/api/sessions/1/segments").await?);
        }
        let segments = fetch(&steno).await?;
        let burst_started = Instant::now();
        let saver = {
            let steno = Client::login(&base, "steno", PASSWORD).await?;
            let segments = segments.clone();
            let burst = args.burst;
            tokio::spawn(async move {
                let mut saved = Vec::new();
                for k in 0..burst {
                    let seg = &segments[k % segments.len()];
                    let now = fetch(&steno).await?;
                    let current = now
                        .iter()
                        .find(|s| s["id"] == seg["id"])
                        .context("segment")?;
                    saved.push((
                        seg["id"].as_i64().unwrap_or(0),
                        save(&steno, current, 100 + k).await?,
                    ));
                }
                anyhow::Ok(saved)
            })
        };
        let mut busy = Vec::new();
        while !saver.is_finished() {
            busy.push(steno.timed_get("/api/sessions/1/segments").await?);
        }
        let saved = saver.await??;
        // Every save ends up re-timed, at its last version.
        // Reads while re-timing catches up (the saves answered already).
        let mut catching_up = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let now = fetch(&steno).await?;
            if now.iter().all(|s| s["words_aligned"] == true) {
                break;
            }
            if Instant::now() > deadline {
                bail!("re-timing did not catch up within 10 minutes");
            }
            for _ in 0..10 {
                catching_up.push(steno.timed_get("/api/sessions/1/segments").await?);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        let caught_up = burst_started.elapsed().as_secs_f64();
        let mut sorted = idle.clone();
        sorted.sort_by(f64::total_cmp);
        let idle_p95 = percentile(&sorted, 0.95);
        report("GET segments, idle", &mut idle, 1.0);
        report("GET segments, during saves", &mut busy, 1.0);
        report("GET segments, re-timing", &mut catching_up, 1.0);
        println!(
            "burst: {} saves; p95 / idle p95: {:.2} during the saves, {:.2} while re-timing; \
             every segment re-timed {caught_up:.1} s after the burst began",
            saved.len(),
            percentile(&busy, 0.95) / idle_p95,
            percentile(&catching_up, 0.95) / idle_p95,
        );
        anyhow::Ok(())
    })
}

/// Joins the clips into one WAV with pauses; each clip is one stretch,
/// and runs of clips make a ~10 s and a ~28 s stretch.
fn join_clips(args: &Args, wav: &std::path::Path) -> Result<(Vec<Stretch>, u64)> {
    let clips = load_clips(&args.clips)?;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(wav, spec)?;
    let mut at_ms = 0u64;
    let mut stretches: Vec<Stretch> = Vec::new();
    let mut group: Option<(f64, Stretch)> = None;
    let targets = [10.0, 28.0];
    let mut next_target = 0;
    for clip in &clips {
        let ms = clip.samples.len() as u64 / 16;
        for s in &clip.samples {
            writer.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16)?;
        }
        for _ in 0..PAUSE_MS * 16 {
            writer.write_sample(0i16)?;
        }
        let stretch = Stretch {
            start_ms: at_ms,
            end_ms: at_ms + ms,
            text: clip.reference.clone(),
        };
        at_ms += ms + PAUSE_MS;
        // Grow a long stretch until it reaches its target length.
        match group.take() {
            Some((target, mut long)) => {
                long.end_ms = stretch.end_ms;
                long.text = format!("{} {}", long.text, stretch.text);
                if (long.end_ms - long.start_ms) as f64 / 1000.0 >= target - 2.0 {
                    stretches.push(long);
                } else {
                    group = Some((target, long));
                }
            }
            None if next_target < targets.len() => {
                group = Some((targets[next_target], stretch));
                next_target += 1;
            }
            None => stretches.push(stretch),
        }
    }
    if let Some((_, long)) = group {
        stretches.push(long);
    }
    writer.finalize()?;
    Ok((stretches, at_ms))
}

/// The sitting's transcript: words laid out by letters in each stretch.
fn document(stretches: &[Stretch], duration_ms: u64) -> TranscriptDocument {
    let segments = stretches
        .iter()
        .map(|s| {
            let words: Vec<&str> = s.text.split_whitespace().collect();
            let letters: u64 = words
                .iter()
                .map(|w| w.chars().count() as u64)
                .sum::<u64>()
                .max(1);
            let span = s.end_ms - s.start_ms;
            let mut at = 0;
            let words = words
                .iter()
                .map(|w| {
                    let len = w.chars().count() as u64 * span / letters;
                    let word = Word {
                        text: (*w).to_owned(),
                        start_ms: s.start_ms + at,
                        end_ms: s.start_ms + at + len.max(1),
                        probability: 0.5,
                    };
                    at += len;
                    word
                })
                .collect();
            Segment {
                start_ms: s.start_ms,
                end_ms: s.end_ms,
                text: s.text.clone(),
                words,
                ..Segment::default()
            }
        })
        .collect();
    synthetic::document(
        "sitting.wav".into(),
        "e".repeat(64),
        "pcm_s16le",
        duration_ms,
        segments,
    )
}

async fn fetch(client: &Client) -> Result<Vec<Value>> {
    let (_, status, list) = client
        .timed_send(Method::GET, "/api/sessions/1/segments", &Value::Null)
        .await?;
    if !status.is_success() {
        bail!("GET segments: {status}");
    }
    Ok(list.as_array().cloned().unwrap_or_default())
}

/// The segment whose length is closest to `seconds`.
fn closest(segments: &[Value], seconds: f64) -> Result<Value> {
    segments
        .iter()
        .min_by_key(|s| {
            let len = s["end_ms"].as_i64().unwrap_or(0) - s["start_ms"].as_i64().unwrap_or(0);
            (len - (seconds * 1000.0) as i64).abs()
        })
        .cloned()
        .context("no segments")
}

/// Saves `segment` with one word in five changed; returns the new version.
async fn save(client: &Client, segment: &Value, round: usize) -> Result<i64> {
    let text: Vec<String> = segment["text"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .enumerate()
        .map(|(i, w)| {
            if (i + round).is_multiple_of(5) {
                // Another word of the same length class: a real correction.
                ["quốc", "hội", "đại", "biểu", "nhân", "dân"][(i + round) % 6].to_owned()
            } else {
                w.to_owned()
            }
        })
        .collect();
    let id = segment["id"].as_i64().unwrap_or(0);
    let body = json!({"version": segment["version"], "text": text.join(" ")});
    let (_, status, saved) = client
        .timed_send(Method::PATCH, &format!("/api/segments/{id}"), &body)
        .await?;
    if !status.is_success() {
        bail!("PATCH {id}: {status} {saved}");
    }
    Ok(saved["version"].as_i64().unwrap_or(0))
}

/// Waits for the live `segment` message that brings `id`'s re-timed words.
async fn wait_retimed<S>(live: &mut S, id: i64, version: i64) -> Result<()>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let wait = async {
        while let Some(message) = live.next().await {
            if let Message::Text(text) = message? {
                let event: Value = serde_json::from_str(&text)?;
                let segment = &event["segment"];
                if event["type"] == "segment"
                    && segment["id"] == id
                    && segment["version"] == version
                    && segment["words_aligned"] == true
                {
                    return Ok(());
                }
            }
        }
        bail!("the live connection closed")
    };
    tokio::time::timeout(Duration::from_secs(120), wait)
        .await
        .context("no re-timed words within 2 minutes")?
}
