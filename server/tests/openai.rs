//! The OpenAI-compatible API (`/v1`) around the model: API keys (none,
//! wrong, revoked, too many wrong, a reader's), error shapes, the upload
//! limit, bad forms, `GET /v1/models`, and each `response_format`. A fixed
//! transcriber stands in for the model (this crate cannot load one); the
//! real model answers the official `openai` SDK in
//! cli/tests/openai_sdk.rs.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use common::*;
use tocky_core::transcribe::{ServedModel, TranscribeAudio, TranscribeError, TranscribeRequest};

const BOUNDARY: &str = "tockyboundary7MA4YWxkTrZu0gW";

/// Stands in for the model: a file that starts with `RIFF` "says" two
/// words; anything else is not audio. It records what it was asked.
struct Fixed {
    asked: std::sync::Mutex<Vec<TranscribeRequest>>,
}

impl TranscribeAudio for Fixed {
    fn models(&self) -> Vec<ServedModel> {
        vec![ServedModel {
            id: "base".into(),
            created: 1_700_000_000,
        }]
    }

    fn transcribe(&self, r: &TranscribeRequest) -> Result<TranscriptDocument, TranscribeError> {
        self.asked.lock().unwrap().push(r.clone());
        let bytes = std::fs::read(&r.audio).map_err(|e| TranscribeError::Failed(e.to_string()))?;
        if !bytes.starts_with(b"RIFF") {
            return Err(TranscribeError::NotAudio("no known container".into()));
        }
        let word = |text: &str, start_ms, end_ms| Word {
            text: text.into(),
            start_ms,
            end_ms,
            probability: 0.9,
        };
        let mut d = doc(&r.file_name, 'c', &["Xin chào"]);
        d.transcript.segments[0].words = vec![word("Xin", 0, 400), word("chào", 400, 900)];
        Ok(d)
    }
}

/// A server with a fixed transcriber, and keys for a stenographer, a
/// reader and a revoked one.
struct Api {
    f: Fixture,
    steno: String,
    reader: String,
    revoked: String,
    fixed: Arc<Fixed>,
}

fn api_with(model: bool, configure: impl FnOnce(&mut ServerConfig)) -> Api {
    let f = fixture_with(configure);
    let mut store = Store::open(&f.state.config().db).unwrap();
    let (_, steno) = store
        .add_api_token("subtitles", Role::Stenographer, Some("test"))
        .unwrap();
    let (_, reader) = store
        .add_api_token("reader-pc", Role::Reader, None)
        .unwrap();
    let (_, revoked) = store.add_api_token("old", Role::Admin, None).unwrap();
    assert!(store.revoke_api_token("old", Some("test")).unwrap());
    let fixed = Arc::new(Fixed {
        asked: std::sync::Mutex::new(Vec::new()),
    });
    if model {
        assert!(f.state.set_transcriber(Arc::clone(&fixed) as _));
    }
    Api {
        f,
        steno,
        reader,
        revoked,
        fixed,
    }
}

fn api() -> Api {
    api_with(true, |_| {})
}

fn from(peer: &str, mut request: Request<Body>) -> Request<Body> {
    let addr: SocketAddr = format!("{peer}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    request
}

/// A multipart body: text fields, then a file (when given).
fn form(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn transcribe(key: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut r = Request::post("/v1/audio/transcriptions").header(
        header::CONTENT_TYPE,
        format!("multipart/form-data; boundary={BOUNDARY}"),
    );
    if let Some(key) = key {
        r = r.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    r.body(Body::from(body)).unwrap()
}

fn get_with(key: &str, uri: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap()
}

const WAV: &[u8] = b"RIFF....WAVEfmt pretend audio";

/// The error's OpenAI shape: message, type, param and code, all present.
fn error_of(v: &Value) -> (&str, &str, Value, Value) {
    let e = &v["error"];
    let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["code", "message", "param", "type"], "{v}");
    (
        e["message"].as_str().unwrap(),
        e["type"].as_str().unwrap(),
        e["param"].clone(),
        e["code"].clone(),
    )
}

#[tokio::test]
async fn keys_are_required_checked_and_audited() {
    let a = api();
    let ok = form(&[("model", "base")], Some(("a.wav", WAV)));
    // None.
    let (status, headers, body) = a.f.send(transcribe(None, ok.clone())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let v: Value = serde_json::from_slice(&body).unwrap();
    let (message, kind, _, code) = error_of(&v);
    assert!(message.contains("tocky token add"), "{message}");
    assert_eq!(
        (kind, code),
        ("invalid_request_error", json!("invalid_api_key"))
    );
    // Wrong, and revoked.
    for key in ["tocky_0123456789abcdef", a.revoked.as_str()] {
        let (status, v) =
            a.f.json(from("203.0.113.9", transcribe(Some(key), ok.clone())))
                .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
        assert_eq!(error_of(&v).3, json!("invalid_api_key"));
    }
    // A reader may list models, not transcribe.
    let (status, v) = a.f.json(transcribe(Some(&a.reader), ok.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(error_of(&v).1, "permission_error");
    let (status, _) = a.f.json(get_with(&a.reader, "/v1/models")).await;
    assert_eq!(status, StatusCode::OK);
    // A stenographer's key transcribes; the work is audited under its name.
    let (status, v) = a.f.json(transcribe(Some(&a.steno), ok)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"text": "Xin chào"}));

    let store = Store::open(&a.f.state.config().db).unwrap();
    let log = store.audit_log(20).unwrap();
    let failed = log.iter().filter(|e| e.action == "api_key_failed").count();
    assert_eq!(failed, 2, "{log:?}");
    let done: Vec<_> = log.iter().filter(|e| e.action == "transcribe").collect();
    assert_eq!(done.len(), 1, "{log:?}");
    assert_eq!(done[0].actor, "token:subtitles");
    // The key was marked used.
    let tokens = store.api_tokens().unwrap();
    let used = tokens.iter().find(|t| t.name == "subtitles").unwrap();
    assert!(used.last_used_at.is_some());
}

#[tokio::test]
async fn wrong_keys_are_rate_limited_like_logins() {
    let a = api_with(true, |c| {
        c.limits.login_burst_per_user = 3;
        c.limits.login_refill_secs_per_user = 60;
    });
    let mut answers = Vec::new();
    for i in 0..5 {
        let (status, headers, _) =
            a.f.send(from(
                "198.51.100.4",
                get_with(&format!("tocky_guess{i}"), "/v1/models"),
            ))
            .await;
        answers.push(status);
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(headers.contains_key(header::RETRY_AFTER));
        }
    }
    assert_eq!(&answers[..3], [StatusCode::UNAUTHORIZED; 3], "{answers:?}");
    assert_eq!(
        &answers[3..],
        [StatusCode::TOO_MANY_REQUESTS; 2],
        "{answers:?}"
    );
    let (_, v) =
        a.f.json(from("198.51.100.4", get_with("tocky_guess", "/v1/models")))
            .await;
    assert_eq!(error_of(&v).1, "rate_limit_error");
    // Another address is not slowed, and a right key still works.
    let (status, _) =
        a.f.json(from("198.51.100.5", get_with("tocky_x", "/v1/models")))
            .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) =
        a.f.json(from("198.51.100.5", get_with(&a.steno, "/v1/models")))
            .await;
    assert_eq!(status, StatusCode::OK);
    let store = Store::open(&a.f.state.config().db).unwrap();
    let log = store.audit_log(50).unwrap();
    assert_eq!(
        log.iter().filter(|e| e.action == "api_key_refused").count(),
        1,
        "{log:?}"
    );
}

#[tokio::test]
async fn models_are_listed_as_openai_lists_them() {
    let a = api();
    let (status, v) = a.f.json(get_with(&a.steno, "/v1/models")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v,
        json!({"object": "list", "data": [
            {"id": "base", "object": "model", "created": 1_700_000_000, "owned_by": "tocky"}
        ]})
    );
    let (status, v) = a.f.json(get_with(&a.steno, "/v1/models/whisper-1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["id"], "whisper-1");
    let (status, v) = a.f.json(get_with(&a.steno, "/v1/models/large-v3")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_of(&v).3, json!("model_not_found"));
    let (status, v) = a.f.json(get_with(&a.steno, "/v1/chat/completions")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    error_of(&v);

    // Without a model: an empty list, and transcriptions are unavailable.
    let none = api_with(false, |_| {});
    let (status, v) = none.f.json(get_with(&none.steno, "/v1/models")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["data"], json!([]));
    let ok = form(&[("model", "base")], Some(("a.wav", WAV)));
    let (status, v) = none.f.json(transcribe(Some(&none.steno), ok)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (_, kind, _, code) = error_of(&v);
    assert_eq!((kind, code), ("server_error", json!("model_not_loaded")));
}

#[tokio::test]
async fn bad_forms_name_the_parameter() {
    let a = api();
    let key = Some(a.steno.as_str());
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (form(&[("model", "base")], None), "file", "no file"),
        (
            form(&[("model", "base")], Some(("a.wav", b""))),
            "file",
            "empty",
        ),
        (
            form(&[("model", "base")], Some(("notes.txt", b"hello"))),
            "file",
            "decoded",
        ),
        (form(&[], Some(("a.wav", WAV))), "model", "no model"),
        (
            form(&[("model", "large-v3")], Some(("a.wav", WAV))),
            "model",
            "not loaded",
        ),
        (
            form(
                &[("model", "base"), ("response_format", "xml")],
                Some(("a.wav", WAV)),
            ),
            "response_format",
            "xml",
        ),
        (
            form(
                &[("model", "base"), ("temperature", "3")],
                Some(("a.wav", WAV)),
            ),
            "temperature",
            "0 to 1",
        ),
        (
            form(
                &[("model", "base"), ("language", "Vietnamese!")],
                Some(("a.wav", WAV)),
            ),
            "language",
            "ISO-639-1",
        ),
        (
            form(
                &[("model", "base"), ("timestamp_granularities[]", "word")],
                Some(("a.wav", WAV)),
            ),
            "timestamp_granularities",
            "verbose_json",
        ),
        (
            form(
                &[
                    ("model", "base"),
                    ("response_format", "verbose_json"),
                    ("timestamp_granularities[]", "char"),
                ],
                Some(("a.wav", WAV)),
            ),
            "timestamp_granularities",
            "char",
        ),
    ];
    for (body, param, says) in cases {
        let (status, v) = a.f.json(transcribe(key, body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{param}: {v}");
        let (message, kind, p, _) = error_of(&v);
        assert_eq!((kind, p), ("invalid_request_error", json!(param)), "{v}");
        assert!(message.contains(says), "{param}: {message}");
    }
    // Not a form at all.
    let r = Request::post("/v1/audio/transcriptions")
        .header(header::AUTHORIZATION, format!("Bearer {}", a.steno))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"file\": 1}"))
        .unwrap();
    let (status, v) = a.f.json(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(error_of(&v).0.contains("multipart/form-data"));
    // A cut-off form.
    let mut cut = form(&[("model", "base")], Some(("a.wav", WAV)));
    cut.truncate(cut.len() - 20);
    let (status, v) = a.f.json(transcribe(key, cut)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    // Only the one good request reached the model's door: the .txt one.
    assert_eq!(a.fixed.asked.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn files_over_the_limit_are_413_with_a_pointer_to_jobs() {
    let a = api_with(true, |c| c.limits.transcription_max_bytes = 4096);
    let big = vec![b'R'; 5000];
    // Read to the limit (no length announced) …
    let (status, v) =
        a.f.json(transcribe(
            Some(&a.steno),
            form(&[("model", "base")], Some(("a.wav", &big))),
        ))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    let (message, kind, param, code) = error_of(&v);
    assert!(message.contains("/api/jobs"), "{message}");
    assert_eq!(
        (kind, param, code),
        (
            "invalid_request_error",
            json!("file"),
            json!("file_too_large")
        )
    );
    // … or refused on its announced length, unread.
    let huge = form(&[("model", "base")], Some(("a.wav", &vec![b'R'; 300_000])));
    let mut r = transcribe(Some(&a.steno), huge.clone());
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, huge.len().into());
    let (status, _) = a.f.json(r).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A file under the limit passes.
    let (status, _) =
        a.f.json(transcribe(
            Some(&a.steno),
            form(&[("model", "base")], Some(("a.wav", WAV))),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn each_response_format_answers_as_openai() {
    let a = api();
    let key = Some(a.steno.as_str());
    let fields = |format: &'static str| {
        vec![
            ("model", "whisper-1"),
            ("response_format", format),
            ("language", "vi"),
            ("prompt", "Quốc hội"),
            ("temperature", "0.2"),
        ]
    };
    let (status, headers, body) =
        a.f.send(transcribe(
            key,
            form(&fields("text"), Some(("phien họp.wav", WAV))),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(body, "Xin chào\n".as_bytes());
    for format in ["srt", "vtt"] {
        let (status, _, body) =
            a.f.send(transcribe(key, form(&fields(format), Some(("a.wav", WAV)))))
                .await;
        assert_eq!(status, StatusCode::OK);
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains("Xin chào"), "{text}");
        assert_eq!(text.starts_with("WEBVTT"), format == "vtt", "{text}");
    }
    let mut verbose = fields("verbose_json");
    verbose.push(("timestamp_granularities[]", "word"));
    verbose.push(("timestamp_granularities[]", "segment"));
    let (status, v) =
        a.f.json(transcribe(key, form(&verbose, Some(("a.wav", WAV)))))
            .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["task"], "transcribe");
    assert_eq!(v["language"], "vietnamese");
    assert_eq!(v["text"], "Xin chào");
    assert_eq!(v["segments"][0]["temperature"], 0.2);
    assert_eq!(
        v["words"],
        json!([
            {"word": "Xin", "start": 0.0, "end": 0.4},
            {"word": "chào", "start": 0.4, "end": 0.9},
        ])
    );
    // What the model was asked: the client's language, prompt and the
    // loaded model for `whisper-1`; the file's name without its path.
    let asked = a.fixed.asked.lock().unwrap();
    let first = &asked[0];
    assert_eq!(first.model, "base");
    assert_eq!(first.language.as_deref(), Some("vi"));
    assert_eq!(first.prompt.as_deref(), Some("Quốc hội"));
    assert_eq!(first.file_name, "phien họp.wav");
    assert!(
        !first.audio.exists(),
        "the upload's temporary file is removed"
    );
    assert!(asked.last().unwrap().word_timestamps);
}

/// Stands in for a model that takes its time.
struct Slow;

impl TranscribeAudio for Slow {
    fn models(&self) -> Vec<ServedModel> {
        vec![ServedModel {
            id: "base".into(),
            created: 0,
        }]
    }

    fn transcribe(&self, r: &TranscribeRequest) -> Result<TranscriptDocument, TranscribeError> {
        std::thread::sleep(std::time::Duration::from_millis(2500));
        Ok(doc(&r.file_name, 'd', &["Chậm mà chắc"]))
    }
}

#[tokio::test]
async fn a_transcription_longer_than_the_idle_timeout_is_answered() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let f = fixture_with(|c| c.limits.idle_timeout_secs = 1);
    let mut store = Store::open(&f.state.config().db).unwrap();
    let (_, key) = store
        .add_api_token("slow", Role::Stenographer, None)
        .unwrap();
    assert!(f.state.set_transcriber(Arc::new(Slow)));
    let (addr, stop, server) = listen(&f).await;
    let body = form(&[("model", "base")], Some(("a.wav", WAV)));
    let head = format!(
        "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        s.read_to_end(&mut answer),
    )
    .await
    .unwrap()
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("Chậm mà chắc"), "{answer}");
    stop.send(()).unwrap();
    server.await.unwrap();
}

/// Holds each transcription until the test lets it go.
struct Gated {
    gate: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl TranscribeAudio for Gated {
    fn models(&self) -> Vec<ServedModel> {
        vec![ServedModel {
            id: "base".into(),
            created: 0,
        }]
    }

    fn transcribe(&self, r: &TranscribeRequest) -> Result<TranscriptDocument, TranscribeError> {
        self.gate.lock().unwrap().recv().unwrap();
        Ok(doc(&r.file_name, 'e', &["xong"]))
    }
}

#[tokio::test]
async fn one_runs_two_wait_and_the_next_is_told_to_retry() {
    let f = fixture();
    let mut store = Store::open(&f.state.config().db).unwrap();
    let (_, key) = store
        .add_api_token("busy", Role::Stenographer, None)
        .unwrap();
    let (open, gate) = std::sync::mpsc::channel();
    assert!(f.state.set_transcriber(Arc::new(Gated {
        gate: std::sync::Mutex::new(gate),
    })));
    let request = || transcribe(Some(&key), form(&[("model", "base")], Some(("a.wav", WAV))));
    let mut held = Vec::new();
    for _ in 0..1 + tocky_server::openai::MAX_WAITING {
        let app = f.app();
        let r = request();
        held.push(tokio::spawn(async move {
            app.oneshot(r).await.unwrap().status()
        }));
    }
    // Let the three take their places.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (status, headers, body) = f.send(request()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.contains_key(header::RETRY_AFTER));
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error_of(&v).3, json!("server_busy"));
    for _ in 0..held.len() {
        open.send(()).unwrap();
    }
    for h in held {
        assert_eq!(h.await.unwrap(), StatusCode::OK);
    }
    // The places are free again.
    open.send(()).unwrap();
    let (status, _) = f.json(request()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn paths_outside_v1_are_not_asked_for_a_key() {
    let a = api();
    let (status, _, body) = a.f.send(get("/no/such/page")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (status, v) = a.f.json(get("/v1/no/such/route")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
}

/// The worker routes take the same keys as `/v1` (their handlers need the
/// caller the key check hands on): a stenographer's key claims (204: no job
/// waits), a reader's is refused, no key is 401.
#[tokio::test]
async fn worker_routes_take_api_keys() {
    let a = api();
    let claim = |key: Option<&str>| {
        let mut request = post_json(
            "/api/worker/claim",
            &json!({"worker": "w1", "lease_ms": 60_000}),
        );
        if let Some(key) = key {
            request.headers_mut().insert(
                header::AUTHORIZATION,
                format!("Bearer {key}").parse().unwrap(),
            );
        }
        request
    };
    let (status, _, body) = a.f.send(claim(Some(&a.steno))).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (status, _, _) = a.f.send(claim(Some(&a.reader))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = a.f.send(claim(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = a.f.send(claim(Some(&a.revoked))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
