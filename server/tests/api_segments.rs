//! The record through the review server's API: edits need a stenographer
//! and the CSRF token, a stale edit gets 409, a save stands when the index
//! fails, speakers and exports (control characters included), audio by
//! range and never outside the media folders, search with or without
//! diacritics. Driven with `oneshot` over a real store and index.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

#[tokio::test]
async fn edits_need_a_stenographer_and_the_csrf_token() {
    let f = fixture();
    let body = json!({"version": 1, "text": "Kính thưa Quốc hội."});
    let reader = f.login("doc").await;
    let (status, err) = f
        .json(reader.send_json("PATCH", "/api/segments/1", &body))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        err["error"].as_str().unwrap().contains("stenographer"),
        "{err}"
    );

    let lan = f.login("lan").await;
    let no_token = Request::patch("/api/segments/1")
        .header(header::COOKIE, &lan.cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, err) = f.json(no_token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(err["error"].as_str().unwrap().contains("CSRF"));
    let wrong_token = Login {
        cookie: lan.cookie.clone(),
        csrf: "0".repeat(64),
    };
    let (status, _) = f
        .json(wrong_token.send_json("PATCH", "/api/segments/1", &body))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Someone else's token does not do either.
    let minh = f.login("minh").await;
    let crossed = Login {
        cookie: lan.cookie.clone(),
        csrf: minh.csrf.clone(),
    };
    let (status, _) = f
        .json(crossed.send_json("PATCH", "/api/segments/1", &body))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, seg) = f
        .json(lan.send_json("PATCH", "/api/segments/1", &body))
        .await;
    assert_eq!(status, StatusCode::OK, "{seg}");
    assert_eq!(seg["version"], 2);
    assert_eq!(seg["text"], "Kính thưa Quốc hội.");
}

#[tokio::test]
async fn a_stale_edit_gets_409_with_the_current_text() {
    let f = fixture();
    let lan = f.login("lan").await;
    let minh = f.login("minh").await;
    let (status, _) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/2",
            &json!({"version": 1, "text": "bản của Lan"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, conflict) = f
        .json(minh.send_json(
            "PATCH",
            "/api/segments/2",
            &json!({"version": 1, "text": "bản của Minh"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(conflict["current"]["text"], "bản của Lan");
    assert_eq!(conflict["current"]["version"], 2);
    assert!(
        conflict["error"]
            .as_str()
            .unwrap()
            .contains("changed by someone else")
    );
    // Merged against the current version, it saves.
    let (status, merged) = f
        .json(minh.send_json(
            "PATCH",
            "/api/segments/2",
            &json!({"version": 2, "text": "bản hợp nhất", "review_status": "reviewed"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(merged["review_status"], "reviewed");

    let (status, revisions) = f.json(lan.get("/api/segments/2/revisions")).await;
    assert_eq!(status, StatusCode::OK);
    let revisions = revisions.as_array().unwrap();
    assert_eq!(revisions.len(), 2);
    assert_eq!(revisions[0]["author"], "lan");
    assert_eq!(revisions[1]["author"], "minh");
    // Restoring Lan's revision is a new edit, by whoever restores it.
    let (status, restored) = f
        .json(lan.send_json(
            "POST",
            "/api/segments/2/restore",
            &json!({"revision_id": revisions[0]["id"], "version": 3}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(restored["text"], "bản của Lan");
    assert_eq!(restored["version"], 4);
    let (status, _) = f
        .json(lan.send_json(
            "POST",
            "/api/segments/2/restore",
            &json!({"revision_id": 999, "version": 4}),
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn audio_supports_range_requests() {
    let f = fixture();
    let doc = f.login("doc").await;
    let (status, headers, body) = f.send(doc.get("/api/sessions/1/audio")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.len(), AUDIO_BYTES);
    assert_eq!(headers[header::ACCEPT_RANGES], "bytes");
    assert_eq!(headers[header::CONTENT_TYPE], "audio/wav");
    let ranged = |range: &str| {
        Request::get("/api/sessions/1/audio")
            .header(header::COOKIE, &doc.cookie)
            .header(header::RANGE, range)
            .body(Body::empty())
            .unwrap()
    };
    let (status, headers, body) = f.send(ranged("bytes=100-199")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        headers[header::CONTENT_RANGE],
        format!("bytes 100-199/{AUDIO_BYTES}").as_str()
    );
    let expected: Vec<u8> = (100..200).map(|i| (i % 251) as u8).collect();
    assert_eq!(body, expected);
    let (status, _, body) = f.send(ranged("bytes=-10")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body.len(), 10);
    let (status, _, _) = f.send(ranged("bytes=20000-30000")).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
}

#[tokio::test]
async fn path_traversal_in_the_audio_route_fails() {
    let f = fixture();
    let doc = f.login("doc").await;
    // Session 2's stored audio name climbs out of the media directory.
    assert!(f.root.join("secret.wav").exists());
    let (status, headers, body) = f.send(doc.get("/api/sessions/2/audio")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        !String::from_utf8_lossy(&body).contains("secret\""),
        "no file content"
    );
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    for uri in [
        "/api/sessions/..%2F..%2Fsecret.wav/audio",
        "/api/sessions/1%2F..%2F2/audio",
        "/api/sessions/../../secret.wav",
        "/ui/../secret.wav",
        "/ui/..%2F..%2FCargo.toml",
        "/ui/%2e%2e/%2e%2e/Cargo.toml",
    ] {
        let (status, _, body) = f.send(doc.get(uri)).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
            "{uri}: {status}"
        );
        assert!(
            !String::from_utf8_lossy(&body).contains("[workspace]"),
            "{uri}"
        );
        assert_ne!(body, b"secret", "{uri}");
    }
}

#[tokio::test]
async fn search_with_or_without_diacritics_jumps_to_the_moment() {
    let f = fixture();
    let doc = f.login("doc").await;
    let (status, found) = f.json(doc.get("/api/search?q=dat+dai")).await;
    assert_eq!(status, StatusCode::OK);
    let hits = found["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{found}");
    assert_eq!(hits[0]["start_ms"], 5000);
    // "luật đất đai": the jump lands on "đất", the second word.
    assert_eq!(hits[0]["jump_ms"], 5400);
    assert_eq!(hits[0]["session_title"], "Phiên họp thứ nhất");
    assert_eq!(hits[0]["sitting_date"], "2026-10-21");
    assert!(
        hits[0]["snippet_html"]
            .as_str()
            .unwrap()
            .contains("<b>đất</b>")
    );
    let (_, found) = f
        .json(doc.get("/api/search?q=%22quoc+hoi%22&from=2026-10-01&to=2026-10-31"))
        .await;
    assert_eq!(found["hits"].as_array().unwrap().len(), 1);
    // "Kính thưa Quốc hội": the third word.
    assert_eq!(found["hits"][0]["jump_ms"], 800);
    let (_, found) = f
        .json(doc.get("/api/search?q=quoc+hoi&from=2026-11-01"))
        .await;
    assert_eq!(found["hits"].as_array().unwrap().len(), 0);
    let (_, found) = f.json(doc.get("/api/search?q=quoc+hoi&session=2")).await;
    assert_eq!(found["hits"].as_array().unwrap().len(), 0);

    // An edit is searchable at once, and markup in it comes back escaped.
    let lan = f.login("lan").await;
    let (status, _) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/3",
            &json!({"version": 1, "text": "<script>alert(1)</script> ngân sách <img src=x onerror=alert(2)>"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, found) = f.json(doc.get("/api/search?q=ngan+sach")).await;
    let snippet = found["hits"][0]["snippet_html"].as_str().unwrap();
    assert!(
        !snippet.contains("<script") && !snippet.contains("<img"),
        "{snippet}"
    );
    assert!(snippet.contains("&lt;script&gt;"), "{snippet}");
    assert_eq!(
        found["hits"][0]["text"].as_str().unwrap(),
        "<script>alert(1)</script> ngân sách <img src=x onerror=alert(2)>"
    );
}

#[tokio::test]
async fn speakers_and_exports() {
    let f = fixture();
    let lan = f.login("lan").await;
    let (status, speaker) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/speakers",
            &json!({"name": "Chủ tịch Quốc hội", "seat": "chủ toạ"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/speakers",
            &json!({"name": "Chủ tịch Quốc hội"}),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the same name twice");
    let (status, seg) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/1",
            &json!({"version": 1, "speaker_id": speaker["id"]}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seg["speaker_id"], speaker["id"]);
    assert_eq!(seg["text"], "Kính thưa Quốc hội", "text untouched");
    let (_, detail) = f.json(lan.get("/api/sessions/1")).await;
    assert_eq!(detail["speakers"][0]["name"], "Chủ tịch Quốc hội");
    let (_, segments) = f.json(lan.get("/api/sessions/1/segments")).await;
    assert_eq!(segments.as_array().unwrap().len(), 3);
    assert!(segments[0]["words"][0]["probability"].as_f64().unwrap() < 0.5);
    let (_, sessions) = f.json(lan.get("/api/sessions")).await;
    let first = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == 1)
        .unwrap();
    assert_eq!(first["segment_count"], 3);

    let (status, headers, srt) = f.send(lan.get("/api/sessions/1/export/srt")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("session-1.srt")
    );
    let srt = String::from_utf8(srt).unwrap();
    assert!(
        srt.contains("00:00:00,000 --> 00:00:04,000\nChủ tịch Quốc hội: Kính thưa Quốc hội"),
        "{srt}"
    );
    let (_, _, vtt) = f.send(lan.get("/api/sessions/1/export/vtt")).await;
    assert!(String::from_utf8(vtt).unwrap().starts_with("WEBVTT"));
    let (_, _, txt) = f.send(lan.get("/api/sessions/1/export/txt")).await;
    assert!(
        String::from_utf8(txt)
            .unwrap()
            .contains("luật đất đai sửa đổi")
    );
    let (_, json) = f.json(lan.get("/api/sessions/1/export/json")).await;
    assert_eq!(json["schema"], "tocky.session");
    assert_eq!(json["segments"].as_array().unwrap().len(), 3);
    let (status, headers, docx) = f.send(lan.get("/api/sessions/1/export/docx")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("wordprocessingml")
    );
    assert_eq!(&docx[..2], b"PK", "a DOCX is a zip");
    let needle = b"word/document.xml";
    assert!(docx.windows(needle.len()).any(|w| w == needle));
}

#[tokio::test]
async fn a_saved_edit_is_answered_as_saved_when_the_index_fails() {
    let f = fixture();
    let lan = f.login("lan").await;
    // The derived index breaks under the server (a full or lost disk).
    std::fs::remove_dir_all(f.state.config().index_dir()).unwrap();
    let (status, seg) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/1",
            &json!({"version": 1, "text": "Kính thưa toàn thể Quốc hội"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{seg}");
    assert_eq!(seg["version"], 2);
    let store = Store::open(&f.state.config().db).unwrap();
    assert_eq!(
        store.segment(1).unwrap().text,
        "Kính thưa toàn thể Quốc hội"
    );
    // The index did miss it: this is the case under test.
    let (_, found) = f.json(lan.get("/api/search?q=toan+the")).await;
    assert_eq!(found["hits"].as_array().unwrap().len(), 0, "{found}");
    // Restoring is answered the same way.
    let (_, revisions) = f.json(lan.get("/api/segments/1/revisions")).await;
    let (status, restored) = f
        .json(lan.send_json(
            "POST",
            "/api/segments/1/restore",
            &json!({"revision_id": revisions[0]["id"], "version": 2}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(restored["version"], 3);
}

#[tokio::test]
async fn control_characters_do_not_break_the_docx() {
    let f = fixture();
    let lan = f.login("lan").await;
    // A vertical tab is what a line break pasted from Word can bring.
    let text = "một\u{b}hai\u{1}ba\u{ffff}bốn";
    let (status, _) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/1",
            &json!({"version": 1, "text": text}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, docx) = f.send(lan.get("/api/sessions/1/export/docx")).await;
    assert_eq!(status, StatusCode::OK);
    let read = docx_rs::read_docx(&docx);
    assert!(read.is_ok(), "{:?}", read.err());
    // docx-rs stores its parts uncompressed: the XML can be looked at.
    let has = |needle: &str| docx.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(!has("một\u{b}hai") && !has("hai\u{1}ba") && !has("ba\u{ffff}"));
    assert!(has("một hai ba bốn"), "spaces stand in for them");
    // The record itself keeps the text as typed.
    let (_, json) = f.json(lan.get("/api/sessions/1/export/json")).await;
    assert_eq!(json["segments"][0]["text"], text);
}
