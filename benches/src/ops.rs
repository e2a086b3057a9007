//! Segment operations on a long sitting: edit, split, merge, not speech
//! and back, bounds, insert and undo, each timed from request to answer
//! over loopback against a session of 2,000 segments (re-timing is not
//! part of the answer: it runs afterwards, and is off here).
//!
//! ```text
//! cargo run --release -p tocky-bench --bin bench-ops -- --segments 2000 --rounds 100
//! ```

use std::time::Instant;

use anyhow::{Result, bail};
use clap::Parser;
use reqwest::Method;
use serde_json::{Value, json};
use tocky_bench::http::{Client, report};
use tocky_bench::synthetic::{Rng, session_doc};
use tocky_server::{AppState, ServerConfig};
use tocky_store::{Role, SessionMeta, Store};

#[derive(Debug, Parser)]
struct Args {
    /// Segments in the session.
    #[arg(long, default_value_t = 2000)]
    segments: usize,
    /// Rounds of every operation, each on another segment.
    #[arg(long, default_value_t = 100)]
    rounds: usize,
}

const PASSWORD: &str = "bench password";

fn main() -> Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("tocky.db");
    {
        let mut store = Store::open(&db)?;
        let (doc, _) = session_doc(&mut Rng(0x0915), 0, args.segments);
        store.ingest(&doc, &SessionMeta::default(), "bench")?;
        let hash = tocky_server::auth::hash_password(PASSWORD)?;
        store.add_user("steno", &hash, Role::Stenographer, "bench")?;
    }
    let mut config = ServerConfig {
        db,
        ..ServerConfig::default()
    };
    config.limits.api_requests_per_second = u32::MAX;
    config.limits.api_burst = u32::MAX;
    let state = AppState::new(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(tocky_server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        let client = Client::login(&base, "steno", PASSWORD).await?;
        let started = Instant::now();
        let mut timings = Timings::default();
        for round in 0..args.rounds {
            // Spread over the session; synthetic segments are ids 1..=N, 8 s apart.
            let id = 1 + (round * 37 % args.segments.saturating_sub(1).max(1)) as i64;
            one_round(&client, &mut timings, id).await?;
        }
        let seconds = started.elapsed().as_secs_f64();
        let (_, segments) = client
            .timed_get("/api/sessions/1/segments")
            .await
            .map(|ms| ((), ms))?;
        println!(
            "session of {} segments, {} rounds ({:.1} s; GET segments {segments:.1} ms)",
            args.segments, args.rounds, seconds
        );
        for (name, samples) in timings.all() {
            report(name, samples, seconds);
        }
        let _ = stop.send(());
        server.await??;
        Ok(())
    })
}

#[derive(Default)]
struct Timings {
    edit: Vec<f64>,
    split: Vec<f64>,
    merge: Vec<f64>,
    not_speech: Vec<f64>,
    speech: Vec<f64>,
    bounds: Vec<f64>,
    insert: Vec<f64>,
    undo: Vec<f64>,
}

impl Timings {
    fn all(&mut self) -> [(&'static str, &mut Vec<f64>); 8] {
        [
            ("PATCH (edit)", &mut self.edit),
            ("split", &mut self.split),
            ("merge", &mut self.merge),
            ("state: not speech", &mut self.not_speech),
            ("state: speech", &mut self.speech),
            ("bounds", &mut self.bounds),
            ("insert", &mut self.insert),
            ("undo (of the insert)", &mut self.undo),
        ]
    }
}

/// Sends one operation; its answer, with its latency pushed to `into`.
async fn op(
    client: &Client,
    into: &mut Vec<f64>,
    method: Method,
    path: &str,
    body: Value,
) -> Result<Value> {
    let (ms, status, answer) = client.timed_send(method, path, &body).await?;
    if !status.is_success() {
        bail!("{path} {body}: {status} {answer}");
    }
    into.push(ms);
    Ok(answer)
}

fn version(segment: &Value) -> i64 {
    segment["version"].as_i64().unwrap_or(0)
}

async fn one_round(client: &Client, t: &mut Timings, id: i64) -> Result<()> {
    let path = |what: &str| format!("/api/segments/{id}{what}");
    let seg = op(
        client,
        &mut t.edit,
        Method::PATCH,
        &path(""),
        json!({"version": 1, "text": "kính thưa Quốc hội, tôi xin phát biểu"}),
    )
    .await?;
    let split = op(
        client,
        &mut t.split,
        Method::POST,
        &path("/split"),
        json!({"version": version(&seg), "at": {"word": 3}}),
    )
    .await?;
    let (left, right) = (&split["segments"][0], &split["segments"][1]);
    let merged = op(
        client,
        &mut t.merge,
        Method::POST,
        &path("/merge"),
        json!({"version": version(left), "next_id": right["id"], "next_version": version(right)}),
    )
    .await?;
    let seg = &merged["segments"][0];
    let hidden = op(
        client,
        &mut t.not_speech,
        Method::POST,
        &path("/state"),
        json!({"version": version(seg), "state": "not_speech"}),
    )
    .await?;
    let shown = op(
        client,
        &mut t.speech,
        Method::POST,
        &path("/state"),
        json!({"version": version(&hidden["segments"][0]), "state": "speech"}),
    )
    .await?;
    let seg = &shown["segments"][0];
    let (start, end) = (
        seg["start_ms"].as_i64().unwrap_or(0),
        seg["end_ms"].as_i64().unwrap_or(0),
    );
    op(
        client,
        &mut t.bounds,
        Method::POST,
        &path("/bounds"),
        json!({"version": version(seg), "start_ms": start, "end_ms": end - 100}),
    )
    .await?;
    // The synthetic segments leave 500 ms between them.
    let inserted = op(
        client,
        &mut t.insert,
        Method::POST,
        "/api/sessions/1/segments",
        json!({"start_ms": end, "end_ms": end + 400, "text": "(vỗ tay)"}),
    )
    .await?;
    let operation = inserted["operation_id"].as_i64().unwrap_or(0);
    op(
        client,
        &mut t.undo,
        Method::POST,
        &format!("/api/operations/{operation}/undo"),
        json!({}),
    )
    .await?;
    Ok(())
}
