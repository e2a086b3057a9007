//! Resumable uploads (tus 1.0) through the router: creation, HEAD, PATCH
//! in chunks and resumed, termination, and every refusal (wrong offset,
//! wrong content type, too large, wrong role, no login, no CSRF token,
//! unknown upload); a finished upload stored by hash, a duplicate found.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

/// A small WAV file: a real RIFF header, then `n` bytes of samples.
fn wav(n: usize, seed: u8) -> Vec<u8> {
    let mut bytes = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    bytes.extend((0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    bytes
}

fn base64(text: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in text.as_bytes().chunks(3) {
        let n = c.iter().fold(0u32, |a, &x| (a << 8) | u32::from(x)) << (8 * (3 - c.len()));
        for k in 0..=c.len() {
            s.push(T[((n >> (18 - 6 * k)) & 63) as usize] as char);
        }
        s.extend(std::iter::repeat_n('=', 3 - c.len()));
    }
    s
}

fn tus(login: &Login, method: &str, uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, &login.cookie)
        .header("x-csrf-token", &login.csrf)
        .header("tus-resumable", "1.0.0")
}

fn create(login: &Login, length: usize, name: &str) -> Request<Body> {
    tus(login, "POST", "/api/uploads")
        .header("upload-length", length.to_string())
        .header(
            "upload-metadata",
            format!("filename {},filetype YXVkaW8vd2F2", base64(name)),
        )
        .body(Body::empty())
        .unwrap()
}

fn patch(login: &Login, location: &str, offset: usize, bytes: &[u8]) -> Request<Body> {
    tus(login, "PATCH", location)
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .header("upload-offset", offset.to_string())
        .body(Body::from(bytes.to_vec()))
        .unwrap()
}

fn head(login: &Login, location: &str) -> Request<Body> {
    tus(login, "HEAD", location).body(Body::empty()).unwrap()
}

fn header_str<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

/// Creates an upload; returns its location.
async fn created(f: &Fixture, login: &Login, length: usize, name: &str) -> String {
    let (status, headers, body) = f.send(create(login, length, name)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(header_str(&headers, "tus-resumable"), "1.0.0");
    assert_eq!(header_str(&headers, "upload-offset"), "0");
    header_str(&headers, "location").to_owned()
}

/// Waits until the upload is stored; returns what `GET` says of it.
async fn stored(f: &Fixture, login: &Login, location: &str) -> Value {
    for _ in 0..500 {
        let (status, info) = f.json(login.get(location)).await;
        assert_eq!(status, StatusCode::OK, "{info}");
        if info["state"] == "done" {
            return info;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the upload at {location} was never stored");
}

#[tokio::test]
async fn options_announce_the_protocol_and_limits() {
    let f = fixture();
    let lan = f.login("lan").await;
    let (status, headers, _) = f
        .send(
            tus(&lan, "OPTIONS", "/api/uploads")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(header_str(&headers, "tus-version"), "1.0.0");
    assert_eq!(
        header_str(&headers, "tus-extension"),
        "creation,termination"
    );
    assert_eq!(
        header_str(&headers, "tus-max-size"),
        Limits::default().max_upload_bytes.to_string()
    );
}

#[tokio::test]
async fn an_upload_in_chunks_resumes_from_head_and_is_stored_by_hash() {
    let f = fixture();
    let lan = f.login("lan").await;
    // Bigger than the API's body limit (64 KiB): PATCH bodies are streamed, not held.
    let audio = wav(300_000, 1);
    let loc = created(&f, &lan, audio.len(), "2026-10-21 Phiên họp sáng.wav").await;
    assert!(loc.starts_with("/api/uploads/"), "{loc}");

    // First chunk.
    let (status, headers, _) = f.send(patch(&lan, &loc, 0, &audio[..1000])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(header_str(&headers, "upload-offset"), "1000");

    // A 0-byte chunk is harmless.
    let (status, headers, _) = f.send(patch(&lan, &loc, 1000, &[])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(header_str(&headers, "upload-offset"), "1000");

    // The client "lost" its place: HEAD says where to resume.
    let (status, headers, _) = f.send(head(&lan, &loc)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_str(&headers, "upload-offset"), "1000");
    assert_eq!(
        header_str(&headers, "upload-length"),
        audio.len().to_string()
    );
    assert_eq!(header_str(&headers, "cache-control"), "no-store");

    // An offset that does not match is refused, with the right one.
    let (status, headers, _) = f.send(patch(&lan, &loc, 500, &audio[500..900])).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(header_str(&headers, "upload-offset"), "1000");
    let (status, _, _) = f.send(patch(&lan, &loc, 2000, &audio[2000..])).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The rest.
    let (status, headers, _) = f.send(patch(&lan, &loc, 1000, &audio[1000..])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        header_str(&headers, "upload-offset"),
        audio.len().to_string()
    );

    let info = stored(&f, &lan, &loc).await;
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&audio))
    };
    assert_eq!(info["sha256"], sha.as_str());
    assert_eq!(info["format"], "wav");
    assert_eq!(info["duplicate"], false);
    assert_eq!(info["offset"], audio.len());
    assert_eq!(
        info["metadata"]["filename"],
        "2026-10-21 Phiên họp sáng.wav"
    );
    assert_eq!(info["owner"], "lan");
    let kept = f.root.join("media").join(format!("{sha}.wav"));
    assert_eq!(std::fs::read(&kept).unwrap(), audio, "stored by hash");
    // No partial file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(f.root.join("tocky.db.uploads"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Another PATCH at the end changes nothing; past it, a conflict.
    let (status, _, _) = f.send(patch(&lan, &loc, audio.len(), &[])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // The same file again: stored once, the second one says duplicate.
    let again = created(&f, &lan, audio.len(), "copy.wav").await;
    let (status, _, _) = f.send(patch(&lan, &again, 0, &audio)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let info = stored(&f, &lan, &again).await;
    assert_eq!(info["duplicate"], true);
    assert_eq!(info["sha256"], sha.as_str());

    // Created, finished and the duplicate are in the audit log.
    let entries = f
        .state
        .with_store(|store, _| Ok(store.audit_log(50)?))
        .await
        .unwrap();
    let actions: Vec<_> = entries.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"upload_created"), "{actions:?}");
    assert!(actions.contains(&"upload_finished"), "{actions:?}");
}

#[tokio::test]
async fn a_file_of_the_records_audio_names_its_session() {
    let f = fixture();
    let lan = f.login("lan").await;
    let audio = wav(300, 9);
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&audio))
    };
    // A session of exactly this audio is in the record.
    let mut document = doc("same.wav", 'c', &["một câu"]);
    document.source.sha256 = sha.clone();
    let outcome = f
        .state
        .with_store(move |store, _| Ok(store.ingest(&document, &SessionMeta::default(), "test")?))
        .await
        .unwrap();
    let tocky_store::IngestOutcome::Created { session_id, .. } = outcome else {
        panic!("not ingested: {outcome:?}");
    };
    let loc = created(&f, &lan, audio.len(), "same.wav").await;
    f.send(patch(&lan, &loc, 0, &audio)).await;
    let info = stored(&f, &lan, &loc).await;
    assert_eq!(info["session_id"], json!(session_id));
}

#[tokio::test]
async fn a_file_that_is_not_audio_is_stored_but_marked() {
    let f = fixture();
    let lan = f.login("lan").await;
    let text = "Đây không phải âm thanh.".as_bytes();
    let loc = created(&f, &lan, text.len(), "ghi chú.txt").await;
    f.send(patch(&lan, &loc, 0, text)).await;
    let info = stored(&f, &lan, &loc).await;
    assert_eq!(info["format"], Value::Null);
}

#[tokio::test]
async fn bad_requests_are_refused_clearly() {
    let f = fixture_with(|c| {
        c.limits.max_upload_bytes = 10_000;
        c.limits.max_open_uploads_per_user = 2;
    });
    let lan = f.login("lan").await;

    // Too large: 413 before a byte is sent.
    let (status, headers, body) = f.send(create(&lan, 10_001, "big.wav")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(header_str(&headers, "tus-max-size"), "10000");
    assert!(String::from_utf8_lossy(&body).contains("10000"));

    // Empty: nothing to transcribe.
    let (status, body) = f.json(create(&lan, 0, "empty.wav")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("empty"), "{body}");

    // No length, a bad length, bad metadata, a deferred length.
    let no_length = tus(&lan, "POST", "/api/uploads")
        .body(Body::empty())
        .unwrap();
    assert_eq!(f.send(no_length).await.0, StatusCode::BAD_REQUEST);
    let bad_length = tus(&lan, "POST", "/api/uploads")
        .header("upload-length", "-5")
        .body(Body::empty())
        .unwrap();
    assert_eq!(f.send(bad_length).await.0, StatusCode::BAD_REQUEST);
    let bad_meta = tus(&lan, "POST", "/api/uploads")
        .header("upload-length", "10")
        .header("upload-metadata", "filename ***")
        .body(Body::empty())
        .unwrap();
    assert_eq!(f.send(bad_meta).await.0, StatusCode::BAD_REQUEST);
    let deferred = tus(&lan, "POST", "/api/uploads")
        .header("upload-defer-length", "1")
        .body(Body::empty())
        .unwrap();
    assert_eq!(f.send(deferred).await.0, StatusCode::BAD_REQUEST);

    // Another protocol version: 412, with ours.
    let old = Request::post("/api/uploads")
        .header(header::COOKIE, &lan.cookie)
        .header("x-csrf-token", &lan.csrf)
        .header("tus-resumable", "0.2.2")
        .header("upload-length", "10")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = f.send(old).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(header_str(&headers, "tus-version"), "1.0.0");

    let loc = created(&f, &lan, 100, "a.wav").await;
    // The wrong content type: 415.
    let wrong_type = tus(&lan, "PATCH", &loc)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header("upload-offset", "0")
        .body(Body::from(vec![0u8; 10]))
        .unwrap();
    assert_eq!(
        f.send(wrong_type).await.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    // No offset.
    let no_offset = tus(&lan, "PATCH", &loc)
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .body(Body::from(vec![0u8; 10]))
        .unwrap();
    assert_eq!(f.send(no_offset).await.0, StatusCode::BAD_REQUEST);
    // Past the announced length: what fits is kept, the rest refused.
    let (status, _, _) = f.send(patch(&lan, &loc, 0, &[7u8; 150])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, headers, _) = f.send(head(&lan, &loc)).await;
    assert_eq!(header_str(&headers, "upload-offset"), "100");

    // Unknown uploads (and ids that are not ids) are 404.
    for unknown in [
        "/api/uploads/0123456789abcdef0123456789abcdef",
        "/api/uploads/..%2F..%2Fsecret",
        "/api/uploads/nope",
    ] {
        assert_eq!(
            f.send(head(&lan, unknown)).await.0,
            StatusCode::NOT_FOUND,
            "{unknown}"
        );
        assert_eq!(
            f.send(patch(&lan, unknown, 0, b"x")).await.0,
            StatusCode::NOT_FOUND
        );
    }

    // Too many unfinished uploads for one account (the finished one does
    // not count).
    stored(&f, &lan, &loc).await;
    created(&f, &lan, 10, "b.wav").await;
    created(&f, &lan, 10, "c.wav").await;
    let (status, body) = f.json(create(&lan, 10, "d.wav")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("unfinished"),
        "{body}"
    );
    // Another account has its own count.
    let minh = f.login("minh").await;
    created(&f, &minh, 10, "e.wav").await;
}

#[tokio::test]
async fn only_stenographers_and_up_with_csrf_and_only_the_owner() {
    let f = fixture();
    let lan = f.login("lan").await;
    let loc = created(&f, &lan, 100, "a.wav").await;

    // No login: 401 on every method.
    let anonymous = |method: &str, uri: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("tus-resumable", "1.0.0")
            .header("upload-length", "10")
            .body(Body::empty())
            .unwrap()
    };
    for (method, uri) in [
        ("POST", "/api/uploads"),
        ("HEAD", loc.as_str()),
        ("GET", loc.as_str()),
        ("OPTIONS", "/api/uploads"),
        ("DELETE", loc.as_str()),
    ] {
        assert_eq!(
            f.send(anonymous(method, uri)).await.0,
            StatusCode::UNAUTHORIZED,
            "{method} {uri}"
        );
    }

    // A reader: 403.
    let doc = f.login("doc").await;
    assert_eq!(
        f.send(create(&doc, 10, "x.wav")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(f.send(head(&doc, &loc)).await.0, StatusCode::FORBIDDEN);

    // Without the CSRF token: 403, nothing written.
    let no_csrf = Request::patch(&loc)
        .header(header::COOKIE, &lan.cookie)
        .header("tus-resumable", "1.0.0")
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body(Body::from(vec![1u8; 10]))
        .unwrap();
    assert_eq!(f.send(no_csrf).await.0, StatusCode::FORBIDDEN);
    let (_, headers, _) = f.send(head(&lan, &loc)).await;
    assert_eq!(header_str(&headers, "upload-offset"), "0");

    // Another stenographer does not see lan's upload; an admin does.
    let minh = f.login("minh").await;
    assert_eq!(f.send(head(&minh, &loc)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        f.send(patch(&minh, &loc, 0, b"x")).await.0,
        StatusCode::NOT_FOUND
    );
    let admin = f.login("admin").await;
    assert_eq!(f.send(head(&admin, &loc)).await.0, StatusCode::OK);

    // Termination: gone, then 404.
    let delete = tus(&lan, "DELETE", &loc).body(Body::empty()).unwrap();
    assert_eq!(f.send(delete).await.0, StatusCode::NO_CONTENT);
    assert_eq!(f.send(head(&lan, &loc)).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn acknowledged_bytes_survive_a_new_server() {
    // A second AppState over the same files stands for a restarted server.
    let f = fixture();
    let lan = f.login("lan").await;
    let audio = wav(3000, 4);
    let loc = created(&f, &lan, audio.len(), "a.wav").await;
    let (status, _, _) = f.send(patch(&lan, &loc, 0, &audio[..1234])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Its own index: the first state holds the index's writer lock.
    let mut config = f.state.config().clone();
    config.index_dir = Some(f.root.join("second-index"));
    let restarted = AppState::new(config).unwrap();
    let app = tocky_server::app(restarted);
    let response = app.clone().oneshot(head(&lan, &loc)).await.unwrap();
    assert_eq!(response.headers()["upload-offset"], "1234");
    let response = app
        .oneshot(patch(&lan, &loc, 1234, &audio[1234..]))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let info = stored(&f, &lan, &loc).await;
    assert_eq!(info["offset"], audio.len());
}

#[tokio::test]
async fn a_patch_cut_by_the_request_timeout_still_lands_whole_before_another_writes() {
    let f = fixture_with(|c| c.limits.request_timeout_secs = 1);
    let lan = f.login("lan").await;
    let audio = wav(2000, 2);
    let loc = created(&f, &lan, audio.len(), "slow.wav").await;
    // Half now, the rest after the request timeout has answered.
    let (first, rest) = (audio[..1000].to_vec(), audio[1000..].to_vec());
    let slow = futures_util::stream::unfold(0, move |step| {
        let (first, rest) = (first.clone(), rest.clone());
        async move {
            match step {
                0 => Some((Ok::<_, std::io::Error>(first), 1)),
                1 => {
                    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
                    Some((Ok(rest), 2))
                }
                _ => None,
            }
        }
    });
    let request = tus(&lan, "PATCH", &loc)
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body(Body::from_stream(slow))
        .unwrap();
    assert_eq!(f.send(request).await.0, StatusCode::REQUEST_TIMEOUT);
    // The first request still writes: a resumed PATCH waits its turn.
    let (status, _, _) = f.send(patch(&lan, &loc, 1000, &audio[1000..])).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Then every byte is in, once, in order.
    let info = stored(&f, &lan, &loc).await;
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&audio))
    };
    assert_eq!(info["sha256"], sha.as_str());
}
