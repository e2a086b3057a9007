//! The jobs API through the router: a finished upload becomes a queued
//! job (title and date from the upload's metadata), listed and read;
//! the same audio again is the same job, audio in the record its session;
//! a file that is not audio and an unfinished upload are refused; cancel
//! and retry by the submitter or an admin only; roles, CSRF, audit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

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

fn wav(n: usize, seed: u8) -> Vec<u8> {
    let mut bytes = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    bytes.extend((0..n).map(|i| (i as u8).wrapping_mul(17).wrapping_add(seed)));
    bytes
}

/// Uploads `bytes` as `name` (with a title and a date in the metadata)
/// in one PATCH, or only its first `sent` bytes; returns the upload id.
async fn upload(f: &Fixture, login: &Login, bytes: &[u8], name: &str, sent: usize) -> String {
    let create = Request::post("/api/uploads")
        .header(header::COOKIE, &login.cookie)
        .header("x-csrf-token", &login.csrf)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", bytes.len().to_string())
        .header(
            "upload-metadata",
            format!(
                "filename {},title {},date {}",
                base64(name),
                base64("Phiên họp sáng"),
                base64("2026-10-21")
            ),
        )
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = f.send(create).await;
    assert_eq!(status, StatusCode::CREATED);
    let location = headers["location"].to_str().unwrap().to_owned();
    let patch = Request::patch(&location)
        .header(header::COOKIE, &login.cookie)
        .header("x-csrf-token", &login.csrf)
        .header("tus-resumable", "1.0.0")
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body(Body::from(bytes[..sent].to_vec()))
        .unwrap();
    assert_eq!(f.send(patch).await.0, StatusCode::NO_CONTENT);
    if sent == bytes.len() {
        for _ in 0..200 {
            let (_, info) = f.json(login.get(&location)).await;
            if info["state"] == "done" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    location.rsplit('/').next().unwrap().to_owned()
}

fn submit(login: &Login, upload_id: &str) -> Request<Body> {
    login.send_json("POST", "/api/jobs", &json!({ "upload_id": upload_id }))
}

#[tokio::test]
async fn a_finished_upload_becomes_a_queued_job_once() {
    let f = fixture();
    let lan = f.login("lan").await;
    let audio = wav(4000, 3);
    let id = upload(
        &f,
        &lan,
        &audio,
        "2026-10-21 Phiên họp sáng.wav",
        audio.len(),
    )
    .await;

    let (status, body) = f.json(submit(&lan, &id)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "added");
    let job = &body["job"];
    assert_eq!(job["state"], "queued");
    assert_eq!(job["title"], "Phiên họp sáng");
    assert_eq!(job["sitting_date"], "2026-10-21");
    assert_eq!(job["submitted_by"], "lan");
    assert_eq!(job["audio"]["name"], "2026-10-21 Phiên họp sáng.wav");
    assert_eq!(job["audio"]["bytes"], audio.len());
    assert_eq!(job["settings"]["model"], tocky_server::jobs::DEFAULT_MODEL);
    let sha = job["audio"]["sha256"].as_str().unwrap().to_owned();
    assert_eq!(job["audio"]["path"], format!("{sha}.wav"));
    assert!(f.root.join("media").join(format!("{sha}.wav")).exists());
    let job_id = job["id"].as_i64().unwrap();

    // Read back, listed, filtered.
    let (status, one) = f.json(lan.get(&format!("/api/jobs/{job_id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["id"], job_id);
    let (_, all) = f.json(lan.get("/api/jobs")).await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    let (_, queued) = f.json(lan.get("/api/jobs?state=queued&mine=true")).await;
    assert_eq!(queued.as_array().unwrap().len(), 1);
    let minh = f.login("minh").await;
    let (_, none) = f.json(minh.get("/api/jobs?mine=true")).await;
    assert_eq!(none.as_array().unwrap().len(), 0);
    let (status, _) = f.json(lan.get("/api/jobs?state=sleeping")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The same upload, or the same file uploaded again: the existing job.
    let (status, again) = f.json(submit(&lan, &id)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["status"], "duplicate");
    assert_eq!(again["job"]["id"], job_id);
    let copy = upload(&f, &minh, &audio, "copy.wav", audio.len()).await;
    let (status, again) = f.json(submit(&minh, &copy)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["job"]["id"], job_id);

    // A queued job stays queued: no worker here.
    let (_, one) = f.json(lan.get(&format!("/api/jobs/{job_id}"))).await;
    assert_eq!(one["state"], "queued");
}

#[tokio::test]
async fn audio_already_in_the_record_is_offered_its_session() {
    let f = fixture();
    let lan = f.login("lan").await;
    let audio = wav(700, 8);
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&audio))
    };
    let mut document = doc("da-co.wav", 'c', &["một câu"]);
    document.source.sha256 = sha;
    let outcome = f
        .state
        .with_store(move |store, _| Ok(store.ingest(&document, &SessionMeta::default(), "test")?))
        .await
        .unwrap();
    let tocky_store::IngestOutcome::Created { session_id, .. } = outcome else {
        panic!("not ingested: {outcome:?}");
    };
    let id = upload(&f, &lan, &audio, "da-co.wav", audio.len()).await;
    let (status, body) = f.json(submit(&lan, &id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "in_record");
    assert_eq!(body["session_id"], session_id);
    let (_, all) = f.json(lan.get("/api/jobs")).await;
    assert!(all.as_array().unwrap().is_empty(), "no job added");
}

#[tokio::test]
async fn bad_submissions_are_refused_clearly() {
    let f = fixture();
    let lan = f.login("lan").await;

    // Not audio.
    let text = "Biên bản phiên họp, không phải âm thanh.".as_bytes();
    let id = upload(&f, &lan, text, "bien-ban.txt", text.len()).await;
    let (status, body) = f.json(submit(&lan, &id)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("bien-ban.txt") && message.contains("not an audio file"),
        "{message}"
    );

    // Not finished.
    let audio = wav(1000, 5);
    let half = upload(&f, &lan, &audio, "nua.wav", 400).await;
    let (status, body) = f.json(submit(&lan, &half)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["error"].as_str().unwrap().contains("not finished"),
        "{body}"
    );

    // Unknown or someone else's upload; unknown job; bad body.
    let (status, _) = f
        .json(submit(&lan, "0123456789abcdef0123456789abcdef"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let minh = f.login("minh").await;
    let (status, _) = f.json(submit(&minh, &half)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f.json(lan.get("/api/jobs/999")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f
        .json(lan.send_json("POST", "/api/jobs/999/cancel", &json!({})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f
        .json(lan.send_json("POST", "/api/jobs", &json!({"upload": "x"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A date that is not YYYY-MM-DD: the store's check, answered 400.
    let w = wav(900, 6);
    let done = upload(&f, &lan, &w, "x.wav", w.len()).await;
    let (status, body) = f
        .json(lan.send_json(
            "POST",
            "/api/jobs",
            &json!({"upload_id": done, "sitting_date": "21/10/2026"}),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn cancel_and_retry_by_the_submitter_or_an_admin_with_roles_and_csrf() {
    let f = fixture();
    let lan = f.login("lan").await;
    let audio = wav(2000, 7);
    let id = upload(&f, &lan, &audio, "a.wav", audio.len()).await;
    let (_, body) = f.json(submit(&lan, &id)).await;
    let job_id = body["job"]["id"].as_i64().unwrap();
    let cancel = format!("/api/jobs/{job_id}/cancel");
    let retry = format!("/api/jobs/{job_id}/retry");

    // No login, a reader, no CSRF token.
    assert_eq!(f.send(get("/api/jobs")).await.0, StatusCode::UNAUTHORIZED);
    let doc = f.login("doc").await;
    assert_eq!(f.send(doc.get("/api/jobs")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(f.send(submit(&doc, &id)).await.0, StatusCode::FORBIDDEN);
    let no_csrf = Request::post(&cancel)
        .header(header::COOKIE, &lan.cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(f.send(no_csrf).await.0, StatusCode::FORBIDDEN);

    // Another stenographer may not; the submitter may.
    let minh = f.login("minh").await;
    let (status, _) = f.json(minh.send_json("POST", &cancel, &json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, job) = f.json(lan.send_json("POST", &cancel, &json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["state"], "cancelled");
    // Retrying a queued job is refused; a cancelled one is queued again.
    let (status, job) = f.json(lan.send_json("POST", &retry, &json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["state"], "queued");
    let (status, _) = f.json(lan.send_json("POST", &retry, &json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // An admin may change anyone's job.
    let admin = f.login("admin").await;
    let (status, job) = f.json(admin.send_json("POST", &cancel, &json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(job["state"], "cancelled");

    let entries = f
        .state
        .with_store(|store, _| Ok(store.audit_log(50)?))
        .await
        .unwrap();
    let actions: Vec<_> = entries
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    for expected in [
        ("lan", "job_submit"),
        ("lan", "job_cancel"),
        ("lan", "job_retry"),
        ("admin", "job_cancel"),
    ] {
        assert!(actions.contains(&expected), "{expected:?} in {actions:?}");
    }
}
