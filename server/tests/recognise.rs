//! Recognition on request (`POST /api/sessions/{id}/recognise`) and an
//! insert that carries recognised words, without a model: roles, ranges,
//! the "no model" answer, the bound on recognitions at once, and which
//! words an insert keeps. Recognition with the real model is tested in
//! crates/retime/tests/recognise.rs (this crate cannot load one).

// The test recogniser panics on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use tocky_server::recognise::{MAX_WAITING, Recognise, RecogniseError, Recognised};
use tocky_store::Session;
use tokio_tungstenite::tungstenite::Message;

/// A recogniser for what the server does around the model: it hears one
/// word per second of the stretch ("một" each), after `gate` lets it go
/// (when there is one).
struct Counting {
    gate: Option<Mutex<Receiver<()>>>,
    started: Mutex<Option<Sender<()>>>,
}

impl Counting {
    fn open() -> Self {
        Self {
            gate: None,
            started: Mutex::new(None),
        }
    }
}

impl Recognise<Session> for Counting {
    fn recognise(
        &self,
        _session: &Session,
        start_ms: u64,
        end_ms: u64,
    ) -> Result<Recognised, RecogniseError> {
        if let Some(started) = self
            .started
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            // Only the first is waited for.
            let _ = started.send(());
        }
        if let Some(gate) = &self.gate {
            gate.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .recv()
                .unwrap();
        }
        let words: Vec<Word> = (start_ms..end_ms)
            .step_by(1000)
            .map(|s| Word {
                text: "một".into(),
                start_ms: s,
                end_ms: (s + 800).min(end_ms),
                probability: 0.9,
            })
            .collect();
        let text = vec!["một"; words.len()].join(" ");
        Ok(Recognised { text, words })
    }
}

/// The lines of `/metrics` about recognitions on request.
async fn recognition_metrics(f: &Fixture) -> Vec<String> {
    let (status, _, body) = f.send(get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    String::from_utf8(body)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("tocky_recognition"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn without_a_model_recognition_is_refused_clearly_after_checking_the_request() {
    let f = fixture();
    let lan = f.login("lan").await;
    let doc = f.login("doc").await;
    let body = json!({"start_ms": 4_000, "end_ms": 5_000});

    let (status, v) = f
        .json(doc.send_json("POST", "/api/sessions/1/recognise", &body))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");

    for (bad, says) in [
        (
            json!({"start_ms": 5_000, "end_ms": 5_000}),
            "not a time range",
        ),
        (json!({"start_ms": -1, "end_ms": 5_000}), "not a time range"),
        (json!({"start_ms": 0, "end_ms": 30_001}), "at most 30 s"),
        (
            json!({"start_ms": 14_000, "end_ms": 15_001}),
            "past the end",
        ),
    ] {
        let (status, v) = f
            .json(lan.send_json("POST", "/api/sessions/1/recognise", &bad))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert!(v["error"].as_str().unwrap().contains(says), "{bad}: {v}");
    }
    let (status, _) = f
        .json(lan.send_json("POST", "/api/sessions/99/recognise", &body))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, v) = f
        .json(lan.send_json("POST", "/api/sessions/1/recognise", &body))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("no recognition model"),
        "{v}"
    );
    // Only the request that reached the model's door is a recognition.
    let lines = recognition_metrics(&f).await;
    assert!(
        lines.contains(&r#"tocky_recognitions_total{outcome="no_model"} 1"#.to_owned()),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains(r#"outcome="ok""#)),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"tocky_recognition_duration_seconds_count 0".to_owned()),
        "{lines:?}"
    );
}

#[tokio::test]
async fn recognised_words_are_kept_by_an_insert_of_their_text_and_dropped_for_a_corrected_one() {
    let f = fixture();
    assert!(f.state.set_recogniser(Arc::new(Counting::open())));
    assert!(!f.state.set_recogniser(Arc::new(Counting::open())));
    let lan = f.login("lan").await;

    // Over existing segments is fine for recognition, which saves nothing.
    let (status, heard) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/recognise",
            &json!({"start_ms": 3_000, "end_ms": 6_000}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{heard}");
    assert_eq!(heard["text"], "một một một");
    // The insert still refuses that range.
    let (status, v) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/segments",
            &json!({"start_ms": 3_000, "end_ms": 6_000, "text": heard["text"], "words": heard["words"]}),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().unwrap().contains("overlaps"), "{v}");
    let audit = f.state.clone();
    let entries = audit
        .with_store(|store, _| Ok(store.audit_log(10)?))
        .await
        .unwrap();
    assert!(
        entries.iter().any(|e| e.action == "recognise"
            && e.actor == "lan"
            && e.subject.as_deref() == Some("session 1")),
        "{entries:?}"
    );

    // Into the gap 4000–5000: its text unchanged keeps its words.
    let (_, heard) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/recognise",
            &json!({"start_ms": 4_000, "end_ms": 5_000}),
        ))
        .await;
    let (status, out) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/segments",
            &json!({"start_ms": 4_000, "end_ms": 5_000, "text": heard["text"], "words": heard["words"]}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let seg = &out["segments"][0];
    assert_eq!(seg["words_aligned"], true, "{seg}");
    assert_eq!(seg["words"], heard["words"]);

    // Corrected: the words are not the text's, and wait for the re-timer.
    let (_, heard) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/recognise",
            &json!({"start_ms": 14_000, "end_ms": 15_000}),
        ))
        .await;
    let (status, out) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/segments",
            &json!({"start_ms": 14_000, "end_ms": 15_000, "text": "hai", "words": heard["words"]}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let seg = &out["segments"][0];
    assert_eq!(seg["words_aligned"], false, "{seg}");
    assert_eq!(seg["words"], json!([]));
}

#[tokio::test]
async fn an_inserts_recognised_words_reach_live_clients_with_the_insert() {
    let f = fixture();
    assert!(f.state.set_recogniser(Arc::new(Counting::open())));
    let (addr, stop, server) = listen(&f).await;
    let doc = f.login("doc").await;
    let mut watching = connect_ws(&addr, &doc.cookie, 1).await;
    let lan = f.login("lan").await;
    let (_, heard) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/recognise",
            &json!({"start_ms": 4_000, "end_ms": 5_000}),
        ))
        .await;
    let (status, out) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/segments",
            &json!({"start_ms": 4_000, "end_ms": 5_000, "text": heard["text"], "words": heard["words"]}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    // The one message of the insert already has the words: they were
    // saved with it, not after it.
    let event = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Message::Text(text) = watching.next().await.unwrap().unwrap() {
                break serde_json::from_str::<Value>(&text).unwrap();
            }
        }
    })
    .await
    .expect("the insert arrives");
    assert_eq!(event["kind"], "insert", "{event}");
    assert_eq!(event["segments"][0]["words"], heard["words"], "{event}");
    assert_eq!(event["segments"][0]["words_aligned"], true, "{event}");
    assert_eq!(event["segments"][0]["version"], 1, "{event}");
    let _ = stop.send(());
    server.await.unwrap();
}

#[tokio::test]
async fn words_outside_the_range_are_refused() {
    let f = fixture();
    let lan = f.login("lan").await;
    for words in [
        json!([{"text": "một", "start_ms": 3_900, "end_ms": 4_200, "probability": 0.9}]),
        json!([{"text": "một", "start_ms": 4_100, "end_ms": 5_100, "probability": 0.9}]),
        json!([{"text": "một", "start_ms": 4_300, "end_ms": 4_300, "probability": 0.9}]),
        json!([
            {"text": "một", "start_ms": 4_500, "end_ms": 4_600, "probability": 0.9},
            {"text": "một", "start_ms": 4_100, "end_ms": 4_200, "probability": 0.9}
        ]),
    ] {
        let (status, v) = f
            .json(lan.send_json(
                "POST",
                "/api/sessions/1/segments",
                &json!({"start_ms": 4_000, "end_ms": 5_000, "text": "một một", "words": words}),
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{words}: {v}");
        assert!(v["error"].as_str().unwrap().contains("not inside"), "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_recognition_runs_a_few_wait_and_more_are_told_to_come_back() {
    let f = fixture();
    let (open, gate) = channel();
    let (started_tx, started) = channel();
    assert!(f.state.set_recogniser(Arc::new(Counting {
        gate: Some(Mutex::new(gate)),
        started: Mutex::new(Some(started_tx)),
    })));
    let lan = Arc::new(f.login("lan").await);
    let app = f.app();
    let body = json!({"start_ms": 4_000, "end_ms": 5_000});
    let mut waiting = Vec::new();
    for _ in 0..=MAX_WAITING {
        let request = lan.send_json("POST", "/api/sessions/1/recognise", &body);
        let app = app.clone();
        waiting.push(tokio::spawn(async move {
            app.oneshot(request).await.unwrap().status()
        }));
    }
    // One on the model …
    tokio::task::spawn_blocking(move || started.recv_timeout(Duration::from_secs(10)).unwrap())
        .await
        .unwrap();
    // … and, once the others have had time to queue, no more.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, headers, body_bytes) = f
        .send(lan.send_json("POST", "/api/sessions/1/recognise", &body))
        .await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        String::from_utf8_lossy(&body_bytes)
    );
    assert!(headers.contains_key(header::RETRY_AFTER));
    for _ in 0..=MAX_WAITING {
        open.send(()).unwrap();
    }
    for task in waiting {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    let lines = recognition_metrics(&f).await;
    for line in [
        format!(
            r#"tocky_recognitions_total{{outcome="ok"}} {}"#,
            MAX_WAITING + 1
        ),
        r#"tocky_recognitions_total{outcome="busy"} 1"#.to_owned(),
        format!(
            "tocky_recognition_duration_seconds_count {}",
            MAX_WAITING + 1
        ),
    ] {
        assert!(lines.contains(&line), "{line} in {lines:?}");
    }
}
