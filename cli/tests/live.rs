//! `tocky live` as a rehearsal runs it: a file played at real-time pace
//! through the real model, into a real record, index, archive and
//! WebSocket (watched by a logged-in reader: a live sitting is not
//! published material, so `--public-read` does not open it); and killed
//! with SIGKILL in the middle of a speech.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tocky_index::{SearchIndex, SearchQuery};
use tocky_store::Store;

mod support;

use support::{Live, archive_seconds, reference, sitting};

/// `GET path` over plain HTTP/1.1; the body.
fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

/// The reader's password.
const PASSWORD: &str = "a long enough password";

/// Adds the reader `doc` to the record at `db`, as `tocky user add` does.
fn add_reader(db: &std::path::Path) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("--db")
        .arg(db)
        .args(["user", "add", "doc", "--role", "reader"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Logs `doc` in over plain HTTP/1.1; the login cookie (`name=value`).
fn login(addr: &str) -> String {
    let body = format!(r#"{{"username":"doc","password":"{PASSWORD}"}}"#);
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST /api/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("set-cookie")
                .then(|| value.trim().split(';').next().unwrap_or("").to_owned())
        })
        .unwrap_or_else(|| panic!("no cookie: {response}"))
}

#[test]
fn a_file_played_in_real_time_reaches_the_record_the_index_and_the_websocket_in_order() {
    let _alone = support::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("sitting.wav");
    let clips = ["vivos_VIVOSDEV01_R003", "vivos_VIVOSDEV01_R012"];
    let seconds = sitting(
        &input,
        &[None, None, Some(clips[0]), None, Some(clips[1]), None, None],
    );
    add_reader(&dir.path().join("record.db"));
    let mut live = Live::start(dir.path(), &live_args(&input), &[]);
    let url = format!("ws://{}/api/sessions/{}/live", live.addr, live.session);
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(url).unwrap();
    request
        .headers_mut()
        .insert("cookie", login(&live.addr).parse().unwrap());
    let (mut socket, _) = tungstenite::connect(request).unwrap();
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = socket.get_mut() {
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    }

    // Everything the UI receives, until the server closes at the end.
    let mut messages: Vec<Value> = Vec::new();
    let mut metrics = None;
    while let Ok(message) = socket.read() {
        match message {
            tungstenite::Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "segment" && metrics.is_none() {
                    metrics = Some(http_get(&live.addr, "/metrics"));
                }
                messages.push(value);
            }
            tungstenite::Message::Close(_) => break,
            _ => {}
        }
    }
    let stdout = live.wait(dir.path());
    assert!(stdout.contains("segment(s)"), "{stdout}");

    // Partials first, grey on screen; then finals, in the order they were stored.
    let kinds: Vec<&str> = messages
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    let first_partial = kinds.iter().position(|&k| k == "partial");
    let first_segment = kinds.iter().position(|&k| k == "segment");
    assert!(
        first_partial.is_some() && first_partial < first_segment,
        "{kinds:?}"
    );
    let segments: Vec<&Value> = messages
        .iter()
        .filter(|m| m["type"] == "segment")
        .map(|m| &m["segment"])
        .collect();
    assert!(segments.len() >= 2, "one final per utterance: {kinds:?}");
    let seqs: Vec<i64> = segments
        .iter()
        .map(|s| s["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // The second utterance was shown as partial text before its final.
    let second_final = kinds
        .iter()
        .enumerate()
        .filter(|(_, k)| **k == "segment")
        .map(|(i, _)| i)
        .find(|&i| segments.len() > 1 && messages[i]["segment"]["start_ms"].as_i64() > Some(5000))
        .unwrap();
    assert!(
        kinds[first_segment.unwrap() + 1..second_final].contains(&"partial"),
        "{kinds:?}"
    );

    // The live metrics were served while the sitting ran.
    let metrics = metrics.unwrap();
    for name in [
        "tocky_live_final_latency_seconds_count{channel=\"0\"}",
        "tocky_live_first_partial_latency_seconds_count{channel=\"0\"}",
        "tocky_live_realtime_factor{channel=\"0\"}",
        "tocky_live_ring_fill_ratio",
        "tocky_live_overruns_total",
    ] {
        assert!(metrics.contains(name), "{name} missing:\n{metrics}");
    }

    // The record holds exactly what the UI was sent, and the session is closed.
    let db = dir.path().join("record.db");
    let store = Store::open(&db).unwrap();
    let session = store.session(live_session(&stdout)).unwrap();
    assert_eq!(session.status, "draft");
    assert_eq!(session.title, "Phiên thử");
    let stored = store.segments(session.id).unwrap();
    let stored_ids: Vec<i64> = stored.iter().map(|s| s.id).collect();
    let sent_ids: Vec<i64> = segments.iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(stored_ids, sent_ids);
    let text: Vec<&str> = stored.iter().map(|s| s.text.as_str()).collect();
    let heard = text.join(" ");
    let expected = format!("{} {}", reference(clips[0]), reference(clips[1]));
    let wer = tocky_core::wer::score(&expected, &heard).wer();
    assert!(wer < 0.5, "WER {wer:.2}: {heard:?} for {expected:?}");

    // Indexed as it was stored (not rebuilt afterwards), and found without diacritics.
    let index = SearchIndex::open(&tocky_index::default_dir(&db)).unwrap();
    assert_eq!(
        index.generation().unwrap(),
        Some(store.generation().unwrap())
    );
    let hits = index
        .search(&SearchQuery {
            text: "ung ho".into(),
            session_id: Some(session.id),
            speaker_id: None,
            from: None,
            to: None,
            limit: 10,
            published: false,
        })
        .unwrap();
    if heard.contains("ủng hộ") {
        assert!(!hits.is_empty(), "\"ung ho\" not found in {heard:?}");
    }
    assert_eq!(index.len(), stored.len() as u64);

    // The archive holds the whole input, sample for sample.
    let archived = archive_seconds(dir.path());
    assert!(
        (archived - seconds).abs() < 0.11,
        "archive {archived:.2} s, input {seconds:.2} s"
    );
}

fn live_args(input: &std::path::Path) -> Vec<std::ffi::OsString> {
    vec![
        "--realtime".into(),
        "--input".into(),
        input.into(),
        "--title".into(),
        "Phiên thử".into(),
    ]
}

fn live_session(stdout: &str) -> i64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("live session "))
        .and_then(|rest| rest.split(':').next())
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn sigkill_mid_speech_loses_under_two_seconds_of_audio_and_no_stored_segment() {
    let _alone = support::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("long.wav");
    let clip = Some("vivos_VIVOSDEV01_R027");
    // Long enough that the kill comes while it is still playing, even on
    // a slow machine: 20 speeches of ~4.7 s.
    let parts: Vec<Option<&str>> = std::iter::repeat_n([None, clip], 20).flatten().collect();
    let seconds = sitting(&input, &parts);
    let mut live = Live::start(dir.path(), &live_args(&input), &[]);
    let db = dir.path().join("record.db");

    // Wait for a stored final, then kill while the speeches go on.
    let deadline = Instant::now() + Duration::from_secs(80);
    let before = loop {
        let segments = Store::open(&db).unwrap().segments(live.session).unwrap();
        if !segments.is_empty() {
            break segments;
        }
        assert!(
            Instant::now() < deadline,
            "no finals: {}",
            live.stderr(dir.path())
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    std::thread::sleep(Duration::from_millis(2500));
    live.child.kill().unwrap();
    let captured = live.capturing.elapsed().as_secs_f64();
    live.child.wait().unwrap();
    assert!(captured < seconds - 1.0, "the input ended before the kill");

    // Every stored segment survived, unchanged; the record passes its
    // integrity check (a backup runs it).
    let store = Store::open(&db).unwrap();
    let after = store.segments(live.session).unwrap();
    assert!(after.len() >= before.len());
    assert_eq!(&after[..before.len()], &before[..]);
    let backup = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("--db")
        .arg(&db)
        .arg("backup")
        .arg(dir.path().join("check.db"))
        .output()
        .unwrap();
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    // The archive is a valid WAV holding all but the last moments.
    let archived = archive_seconds(dir.path());
    let lost = captured - archived;
    assert!(
        (-0.3..2.0).contains(&lost),
        "archive {archived:.2} s after {captured:.2} s of capture: {lost:.2} s lost"
    );
}

/// A bad `--duration` is refused before the sitting begins: found after,
/// it left a session `live` for ever in the record.
#[test]
fn a_bad_duration_is_refused_before_a_session_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("sitting.wav");
    sitting(&input, &[None]);
    let db = dir.path().join("record.db");
    let o = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("--db")
        .arg(&db)
        .args(["live", "--bind", "127.0.0.1:0", "--duration=-5", "--input"])
        .arg(&input)
        .arg("--archive-dir")
        .arg(dir.path().join("audio"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(stderr.contains("--duration"), "{stderr}");
    if db.exists() {
        let sessions = Store::open(&db).unwrap().sessions().unwrap();
        assert!(sessions.is_empty(), "{sessions:?}");
    }
}
