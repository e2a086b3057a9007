//! The review server as a live sitting's output (tocky-core's
//! `LiveOutput`, which `tocky_live::run` reports to, so that the live
//! pipeline need not depend on the server): partials and stored finals
//! reach the session's WebSocket watchers, and latencies, speed and capture
//! health reach `/metrics`. A whole sitting through the real model is
//! tested in cli/tests/live.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use tocky_core::live::{CaptureHealth, LiveOutput, PartialText};
use tocky_store::StoredSegment;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The socket's next text message, as JSON.
async fn next_json(socket: &mut Socket) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Message::Text(text) = socket.next().await.unwrap().unwrap() {
                break serde_json::from_str(&text).unwrap();
            }
        }
    })
    .await
    .expect("a message arrives")
}

/// Waits until the server follows `n` sockets: a socket counts once it
/// is subscribed, so nothing published afterwards can miss it.
async fn watched_by(state: &AppState, n: i64) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while state.metrics().ws_clients() < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the sockets are followed");
}

/// The value of the metric line that starts with `name` (labels included).
fn metric(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} missing:\n{metrics}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn what_a_sitting_reports_reaches_its_watchers_and_the_metrics() {
    let f = fixture();
    let lan = f.login("lan").await;
    let (addr, stop, server) = listen(&f).await;
    let mut watching = connect_ws(&addr, &lan.cookie, 1).await;
    let mut elsewhere = connect_ws(&addr, &lan.cookie, 2).await;
    watched_by(&f.state, 2).await;
    let output: &dyn LiveOutput<StoredSegment> = &f.state;

    output.partial(
        1,
        &PartialText {
            channel: 3,
            speaker_id: Some(7),
            start_ms: 1500,
            text: "Kính thưa <Quốc hội>",
        },
    );
    let segment = Store::open(&f.root.join("tocky.db"))
        .unwrap()
        .segments(1)
        .unwrap()
        .remove(0);
    output.segment(1, &segment);
    // A time past what the wire carries is clamped, not wrapped negative.
    output.partial(
        2,
        &PartialText {
            channel: 0,
            speaker_id: None,
            start_ms: u64::MAX,
            text: "khác",
        },
    );

    // Session 1's watcher gets its two messages in order, the text as JSON
    // (escaped by the UI, not here), and not session 2's.
    assert_eq!(
        next_json(&mut watching).await,
        json!({
            "type": "partial",
            "channel": 3,
            "speaker_id": 7,
            "start_ms": 1500,
            "text": "Kính thưa <Quốc hội>",
        })
    );
    let message = next_json(&mut watching).await;
    assert_eq!(message["type"], "segment");
    assert_eq!(message["segment"]["id"], segment.id);
    assert_eq!(message["segment"]["text"], "Kính thưa Quốc hội");
    assert_eq!(
        next_json(&mut elsewhere).await,
        json!({
            "type": "partial",
            "channel": 0,
            "speaker_id": null,
            "start_ms": i64::MAX,
            "text": "khác",
        })
    );

    output.first_partial_latency(3, 0.25);
    output.final_latency(3, 1.5);
    output.final_latency(3, 0.5);
    output.channel_progress(3, 0.4, 2.0);
    output.channel_progress(3, 0.5, 1.0);
    // Capture reports totals so far: the counters follow them, never back.
    output.capture(&CaptureHealth {
        ring_fill: 0.5,
        overruns: 2,
        gaps: 1,
        missing_seconds: 0.75,
    });
    output.capture(&CaptureHealth {
        ring_fill: 0.25,
        overruns: 3,
        gaps: 1,
        missing_seconds: 1.0,
    });
    let (status, _, metrics) = f.send(get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    let metrics = String::from_utf8(metrics).unwrap();
    for (name, value) in [
        (
            "tocky_live_first_partial_latency_seconds_count{channel=\"3\"}",
            1.0,
        ),
        ("tocky_live_final_latency_seconds_count{channel=\"3\"}", 2.0),
        ("tocky_live_final_latency_seconds_sum{channel=\"3\"}", 2.0),
        ("tocky_live_realtime_factor{channel=\"3\"}", 0.5),
        ("tocky_live_audio_seconds_total{channel=\"3\"}", 3.0),
        ("tocky_live_ring_fill_ratio", 0.25),
        ("tocky_live_overruns_total", 3.0),
        ("tocky_live_gaps_total", 1.0),
        ("tocky_live_missing_audio_seconds_total", 1.0),
    ] {
        assert_eq!(metric(&metrics, name), value, "{name}");
    }

    stop.send(()).unwrap();
    server.await.unwrap();
}
