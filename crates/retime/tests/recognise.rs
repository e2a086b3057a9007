//! Recognition on request through the review server's API, with the real
//! model and a real fixture clip: `tocky serve`'s wiring (the re-timer as
//! the server's recogniser), a stretch recognised into text close to the
//! reference with words inside it, and an insert of that text that keeps
//! those words instead of re-timing them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// The model and the fixtures are found as the recognition tests find them.
mod clip;
#[path = "../../asr/tests/common/mod.rs"]
mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use clip::{CLIP, CLIP_MS};
use serde_json::{Value, json};
use tocky_asr::{AlignOptions, Engine, EngineOptions};
use tocky_core::Segment;
use tocky_core::document::TranscriptDocument;
use tocky_retime::{AudioLocator, Retimer};
use tocky_server::{AppState, ServerConfig};
use tocky_store::{Role, SessionMeta, Store};
use tower::ServiceExt;

/// The recording has one segment, a short one before the speech; the rest
/// is a gap to recognise and insert.
const GAP_MS: u64 = 250;
const PASSWORD: &str = "mật khẩu thử";

fn document() -> TranscriptDocument {
    clip::document(vec![Segment {
        start_ms: 0,
        end_ms: GAP_MS,
        text: "ừ".into(),
        ..Segment::default()
    }])
}

/// Sends `body` as `login` (cookie, CSRF token) and answers status and JSON.
async fn post(
    app: &axum::Router,
    login: &(String, String),
    uri: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let request = Request::post(uri)
        .header(header::COOKIE, &login.0)
        .header("x-csrf-token", &login.1)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn login(app: &axum::Router, user: &str) -> (String, String) {
    let request = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"username": user, "password": PASSWORD}).to_string(),
        ))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let me: Value = serde_json::from_slice(&bytes).unwrap();
    (cookie, me["csrf_token"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stretch_is_recognised_on_request_and_inserted_with_its_words() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    std::fs::create_dir(&media).unwrap();
    std::fs::copy(common::fixture(CLIP), media.join(CLIP)).unwrap();
    let db = dir.path().join("tocky.db");
    {
        let mut store = Store::open(&db).unwrap();
        store
            .ingest(&document(), &SessionMeta::default(), "test")
            .unwrap();
        let hash = tocky_server::auth::hash_password(PASSWORD).unwrap();
        store
            .add_user("lan", &hash, Role::Stenographer, "test")
            .unwrap();
        store.add_user("doc", &hash, Role::Reader, "test").unwrap();
    }
    let state = AppState::new(ServerConfig {
        db: db.clone(),
        media_dirs: vec![media.clone()],
        ..ServerConfig::default()
    })
    .unwrap();
    let engine = Arc::new(Engine::load(&common::model_path(), &EngineOptions::default()).unwrap());
    let locate: AudioLocator = Box::new(move |session| {
        tocky_server::audio::resolve(std::slice::from_ref(&media), session.audio_file.as_deref()?)
    });
    let options = AlignOptions {
        threads: 2,
        ..AlignOptions::default()
    };
    // As `tocky serve` wires it.
    let retimer = Arc::new(Retimer::new(engine, options, locate));
    assert!(state.set_recogniser(retimer));
    let app = tocky_server::app(state.clone());
    let lan = login(&app, "lan").await;
    let doc = login(&app, "doc").await;
    let range = json!({"start_ms": GAP_MS, "end_ms": CLIP_MS});

    let (status, _) = post(&app, &doc, "/api/sessions/1/recognise", &range).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Over the existing segment too: recognition saves nothing.
    let (status, whole) = post(
        &app,
        &lan,
        "/api/sessions/1/recognise",
        &json!({"start_ms": 0, "end_ms": CLIP_MS}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{whole}");

    let (status, heard) = post(&app, &lan, "/api/sessions/1/recognise", &range).await;
    assert_eq!(status, StatusCode::OK, "{heard}");
    let text = heard["text"].as_str().unwrap();
    let reference = std::fs::read_to_string(common::fixture("vivos_VIVOSDEV01_R003.txt")).unwrap();
    let wer = tocky_core::wer::score(reference.trim(), text).wer();
    assert!(wer <= 0.35, "WER {wer:.2}: {text:?}");
    let words = heard["words"].as_array().unwrap();
    assert_eq!(
        words
            .iter()
            .map(|w| w["text"].as_str().unwrap())
            .collect::<Vec<_>>()
            .join(" "),
        text
    );
    let mut last_end = GAP_MS;
    for w in words {
        let (start, end) = (
            w["start_ms"].as_u64().unwrap(),
            w["end_ms"].as_u64().unwrap(),
        );
        assert!(
            start >= last_end && end > start && end <= CLIP_MS,
            "{heard}"
        );
        last_end = end;
    }

    // Past the audio, or too long: a clear 400 before the model runs.
    for bad in [
        json!({"start_ms": 1_000, "end_ms": CLIP_MS + 1}),
        json!({"start_ms": 1_000, "end_ms": 1_000}),
    ] {
        let (status, v) = post(&app, &lan, "/api/sessions/1/recognise", &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }

    // The insert over the existing segment is still refused; into the gap,
    // the recognised text keeps its words (no re-timing).
    let (status, _) = post(
        &app,
        &lan,
        "/api/sessions/1/segments",
        &json!({"start_ms": 0, "end_ms": CLIP_MS, "text": whole["text"], "words": whole["words"]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, out) = post(
        &app,
        &lan,
        "/api/sessions/1/segments",
        &json!({"start_ms": GAP_MS, "end_ms": CLIP_MS, "text": text, "words": words}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let segment = &out["segments"][0];
    assert_eq!(segment["words_aligned"], true, "{segment}");
    assert_eq!(&segment["words"], &heard["words"]);
    let stored = Store::open(&db).unwrap().segments(1).unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored[1].words_aligned);
}
