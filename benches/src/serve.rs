//! The review server under load: many WebSocket clients receiving live
//! updates while HTTP clients search, list segments and save edits.
//! Reports the latency of each request kind (p50/p95/p99) and how long an
//! edit takes to reach every live client.
//!
//! The server runs in this process on its own runtime threads; the load
//! comes over loopback TCP, as a browser's would.
//!
//! ```text
//! cargo run --release -p tocky-bench --bin bench-serve -- --ws-clients 200
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use futures_util::StreamExt;
use tocky_bench::http::{Client, report};
use tocky_bench::synthetic::{Rng, WORDS, session_doc};
use tocky_core::text::fold;
use tocky_server::{AppState, ServerConfig};
use tocky_store::{Role, SessionMeta, Store};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Debug, Parser)]
struct Args {
    /// WebSocket clients watching the edited session.
    #[arg(long, default_value_t = 200)]
    ws_clients: usize,
    /// HTTP clients running searches and segment reads at once.
    #[arg(long, default_value_t = 16)]
    http_clients: usize,
    /// Sessions in the record.
    #[arg(long, default_value_t = 50)]
    sessions: usize,
    /// Segments per session (2,000 is a long sitting).
    #[arg(long, default_value_t = 2000)]
    segments: usize,
    /// Edits per second, by one stenographer.
    #[arg(long, default_value_t = 5.0)]
    edits_per_second: f64,
    /// How long the load runs, in seconds.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
}

const PASSWORD: &str = "bench password";

fn main() -> Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("tocky.db");
    let started = Instant::now();
    {
        let mut store = Store::open(&db)?;
        let mut rng = Rng(0x5EED);
        for n in 0..args.sessions {
            let (doc, _) = session_doc(&mut rng, n, args.segments);
            let meta = SessionMeta {
                title: Some(format!("Phiên họp {n}")),
                sitting_date: Some(format!("2026-{:02}-{:02}", 1 + n % 12, 1 + n % 28)),
                agenda_item: None,
            };
            store.ingest(&doc, &meta, "bench")?;
        }
        let hash = tocky_server::auth::hash_password(PASSWORD)?;
        store.add_user("steno", &hash, Role::Stenographer, "bench")?;
        store.add_user("reader", &hash, Role::Reader, "bench")?;
    }
    let config = ServerConfig {
        db,
        ..ServerConfig::default()
    };
    let mut config = config;
    // The load logs in once per client; don't let the limiter refuse it.
    config.limits.login_burst_per_ip = 10_000;
    config.limits.ws_max_clients = args.ws_clients + 100;
    // All of them come from one address and one account.
    config.limits.ws_max_clients_per_client = args.ws_clients + 100;
    config.limits.max_connections = args.ws_clients + args.http_clients + 100;
    config.limits.max_connections_per_address = config.limits.max_connections;
    // The clients share one address and few accounts: measure the server's
    // capacity, not the per-client limiter.
    config.limits.api_requests_per_second = u32::MAX;
    config.limits.api_burst = u32::MAX;
    let state = AppState::new(config)?;
    println!(
        "record: {} sessions x {} segments, ready in {:.1} s",
        args.sessions,
        args.segments,
        started.elapsed().as_secs_f64()
    );

    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("server")
        .build()?;
    let listener = server_runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = server_runtime.spawn(tocky_server::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let load_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("load")
        .build()?;
    let base = format!("http://{addr}");
    println!("== baseline: one reader, no live clients");
    load_runtime.block_on(run_load(&args, &base, 0, 1, 1))?;
    println!(
        "== load: {} readers, {} live clients",
        args.http_clients, args.ws_clients
    );
    load_runtime.block_on(run_load(
        &args,
        &base,
        args.ws_clients,
        args.http_clients,
        101,
    ))?;
    let _ = stop.send(());
    server_runtime.block_on(server)??;
    Ok(())
}

/// One run: `ws_clients` watchers, `http_clients` readers, one editor.
async fn run_load(
    args: &Args,
    base: &str,
    ws_clients: usize,
    http_clients: usize,
    first_segment: i64,
) -> Result<()> {
    let reader = Arc::new(Client::login(base, "reader", PASSWORD).await?);
    let editor = Client::login(base, "steno", PASSWORD).await?;
    let ws_url = base.replacen("http", "ws", 1);

    // The watchers: each records when each edit arrives.
    let epoch = Instant::now();
    let received = Arc::new(AtomicU64::new(0));
    let delivery = Arc::new(Mutex::new(Vec::<f64>::new()));
    let mut watchers = Vec::new();
    for _ in 0..ws_clients {
        let mut request = format!("{ws_url}/api/sessions/1/live").into_client_request()?;
        request
            .headers_mut()
            .insert("cookie", reader.cookie.parse()?);
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .context("connecting a live client")?;
        let received = Arc::clone(&received);
        let delivery = Arc::clone(&delivery);
        watchers.push(tokio::spawn(async move {
            while let Some(Ok(message)) = socket.next().await {
                if let Message::Text(text) = message {
                    // Edits carry the microsecond they were sent at: "… t123456".
                    if let Some(sent) = text
                        .split(" t")
                        .nth(1)
                        .and_then(|s| s.split('"').next())
                        .and_then(|s| s.parse::<u64>().ok())
                    {
                        let now = epoch.elapsed().as_micros() as u64;
                        let ms = now.saturating_sub(sent) as f64 / 1000.0;
                        delivery
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(ms);
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let duration = Duration::from_secs(args.seconds);
    let mut readers = Vec::new();
    for worker in 0..http_clients {
        let client = Arc::clone(&reader);
        let stop = Arc::clone(&stop);
        let sessions = args.sessions;
        readers.push(tokio::spawn(async move {
            let mut rng = Rng(0xC0FFEE + worker as u64);
            let mut search = Vec::new();
            let mut segments = Vec::new();
            let mut errors = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let word = fold(WORDS[rng.below(WORDS.len())]).replace(' ', "+");
                match client
                    .timed_get(&format!("/api/search?q={word}&limit=20"))
                    .await
                {
                    Ok(ms) => search.push(ms),
                    Err(_) => errors += 1,
                }
                let session = 1 + rng.below(sessions);
                match client
                    .timed_get(&format!("/api/sessions/{session}/segments"))
                    .await
                {
                    Ok(ms) => segments.push(ms),
                    Err(_) => errors += 1,
                }
            }
            (search, segments, errors)
        }));
    }

    // The stenographer: edits session 1's segments at a steady pace.
    let mut edits = Vec::new();
    let mut conflicts = 0;
    let period = Duration::from_secs_f64(1.0 / args.edits_per_second.max(0.1));
    let mut ticker = tokio::time::interval(period);
    let load_started = Instant::now();
    let mut versions = std::collections::HashMap::<i64, i64>::new();
    let mut k = 0i64;
    while load_started.elapsed() < duration {
        ticker.tick().await;
        let segment = first_segment + k % 100;
        k += 1;
        let version = *versions.get(&segment).unwrap_or(&1);
        let sent = epoch.elapsed().as_micros();
        let body = serde_json::json!({"version": version, "text": format!("sửa {k} t{sent}")});
        let started = Instant::now();
        let response = editor
            .http
            .patch(format!("{}/api/segments/{segment}", editor.base))
            .header("cookie", &editor.cookie)
            .header("x-csrf-token", &editor.csrf)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        if status.is_success() {
            edits.push(started.elapsed().as_secs_f64() * 1000.0);
            versions.insert(segment, version + 1);
        } else {
            conflicts += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let seconds = load_started.elapsed().as_secs_f64();
    let mut search = Vec::new();
    let mut segments = Vec::new();
    let mut errors = 0;
    for r in readers {
        let (s, g, e) = r.await?;
        search.extend(s);
        segments.extend(g);
        errors += e;
    }
    // Let the last edits arrive, then close the watchers.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let expected = edits.len() as u64 * ws_clients as u64;
    let got = received.load(Ordering::Relaxed);
    for w in &watchers {
        w.abort();
    }
    for w in watchers {
        let _ = w.await;
    }
    let mut delivery =
        std::mem::take(&mut *delivery.lock().unwrap_or_else(PoisonError::into_inner));

    println!(
        "load: {:.1} s, {} HTTP clients, {} live clients, {} errors, {} failed edits",
        seconds, http_clients, ws_clients, errors, conflicts
    );
    report("GET /api/search", &mut search, seconds);
    report("GET /api/sessions/{id}/segments", &mut segments, seconds);
    report("PATCH /api/segments/{id}", &mut edits, seconds);
    println!(
        "live updates: {got} of {expected} delivered ({:.2} %)",
        100.0 * got as f64 / expected.max(1) as f64
    );
    report("edit -> every live client", &mut delivery, seconds);
    Ok(())
}
