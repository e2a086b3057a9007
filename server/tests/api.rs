//! The review server's API through its router, driven with `oneshot` as
//! axum's examples do, over a real SQLite store and tantivy index.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

#[tokio::test]
async fn health_metrics_and_the_page_answer() {
    let f = fixture();
    let (status, health) = f.json(get("/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");
    let (status, headers, page) = f.send(get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&page).contains("<html"));
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let (status, _, metrics) = f.send(get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains(
            "tocky_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("tocky_http_request_duration_seconds_bucket"));
    let (status, _, _) = f.send(get("/no/such/page")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = f.json(get("/api/no/such")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].is_string());
}

/// A `metrics_token` for the tests (any 16 or more visible ASCII bytes).
const METRICS_TOKEN: &str = "scrape-me-0123456789abcdef";

fn get_with_bearer(uri: &str, token: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn with_a_metrics_token_metrics_need_it_or_an_admin() {
    let f = fixture_with(|c| c.metrics_token = Some(METRICS_TOKEN.into()));
    let is_metrics =
        |body: &[u8]| String::from_utf8_lossy(body).contains("tocky_http_request_duration_seconds");

    // Nobody: 401, the API's JSON error, naming the scheme.
    let (status, headers, body) = f.send(get("/metrics")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let err: Value = serde_json::from_slice(&body).unwrap();
    assert!(err["error"].is_string(), "{err}");
    assert!(!is_metrics(&body));

    // A wrong token, one a byte short, or another scheme: 401.
    let wrong = "scrape-me-0123456789abcdeX";
    let short = &METRICS_TOKEN[..METRICS_TOKEN.len() - 1];
    for request in [
        get_with_bearer("/metrics", wrong),
        get_with_bearer("/metrics", short),
        get_with_bearer("/metrics", ""),
        Request::get("/metrics")
            .header(header::AUTHORIZATION, format!("Basic {METRICS_TOKEN}"))
            .body(Body::empty())
            .unwrap(),
    ] {
        let (status, _, body) = f.send(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(!is_metrics(&body));
    }

    // The right token (the scheme in any case): the metrics.
    for scheme in ["Bearer", "bearer"] {
        let request = Request::get("/metrics")
            .header(header::AUTHORIZATION, format!("{scheme} {METRICS_TOKEN}"))
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = f.send(request).await;
        assert_eq!(status, StatusCode::OK, "{scheme}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/openmetrics-text")
        );
        assert!(is_metrics(&body), "{}", String::from_utf8_lossy(&body));
    }

    // An admin's login cookie: the metrics.
    let admin = f.login("admin").await;
    let (status, _, body) = f.send(admin.get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(is_metrics(&body));

    // Logged in below admin: 403, as everywhere in the API.
    for user in ["lan", "doc"] {
        let login = f.login(user).await;
        let (status, err) = f.json(login.get("/metrics")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
        assert!(err["error"].as_str().unwrap().contains("admin"), "{err}");
    }

    // Logged out, the cookie is worth nothing.
    let (status, _) = f
        .json(admin.send_json("POST", "/api/logout", &json!({})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = f.send(admin.get("/metrics")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[test]
fn a_short_metrics_token_is_refused_without_being_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        db: dir.path().join("tocky.db"),
        metrics_token: Some("too-short-123".into()),
        ..ServerConfig::default()
    };
    let e = AppState::new(config).err().expect("refused").to_string();
    assert!(e.contains("metrics_token") && e.contains("16"), "{e}");
    assert!(!e.contains("too-short-123"), "{e}");
}

#[tokio::test]
async fn reading_needs_a_login_unless_public() {
    let f = fixture();
    for uri in [
        "/api/sessions",
        "/api/sessions/1",
        "/api/sessions/1/segments",
        "/api/sessions/1/audio",
        "/api/sessions/1/export/json",
        "/api/segments/1/revisions",
        "/api/search?q=quoc",
        "/api/sessions/1/live",
    ] {
        let (status, body) = f.json(get(uri)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(body["error"], "log in first", "{uri}");
    }
    let (_, me) = f.json(get("/api/me")).await;
    assert_eq!(me["user"], Value::Null);
    assert_eq!(me["public_read"], false);

    // Public reading opens published versions only (tests/public.rs):
    // nothing is published here, and drafts need a login.
    let public = fixture_with(|c| c.public_read = true);
    let (status, sessions) = public.json(get("/api/sessions")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sessions, json!([]));
    let (status, _) = public.json(get("/api/sessions/1/segments")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = public.json(get("/api/search?q=quoc+hoi")).await;
    assert_eq!(status, StatusCode::OK);
    // Public reading does not open editing.
    let (status, _) = public
        .json(
            Request::patch("/api/segments/1")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({"version": 1, "text": "x"}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_logout_and_me() {
    let f = fixture();
    let (status, body) = f
        .json(post_json(
            "/api/login",
            &json!({"username": "lan", "password": "wrong password"}),
        ))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].is_string());
    let (status, _) = f
        .json(post_json(
            "/api/login",
            &json!({"username": "nobody", "password": PASSWORD}),
        ))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = f
        .json(post_json("/api/login", &json!({"username": "lan"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let lan = f.login("lan").await;
    let (_, me) = f.json(lan.get("/api/me")).await;
    assert_eq!(me["user"]["name"], "lan");
    assert_eq!(me["user"]["role"], "stenographer");
    assert_eq!(me["csrf_token"], lan.csrf.as_str());
    let (status, _) = f
        .json(lan.send_json("POST", "/api/logout", &json!({})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = f.json(lan.get("/api/sessions")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the login ended");

    let store = Store::open(&f.state.config().db).unwrap();
    let actions: Vec<String> = store
        .audit_log(20)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in ["login_failed", "login", "logout"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    // Neither the password nor its hash reaches the log or the audit.
    let dump = format!("{:?}", store.audit_log(100).unwrap());
    assert!(!dump.contains(PASSWORD) && !dump.contains("argon2"));
}

#[tokio::test]
async fn a_client_over_its_request_rate_waits_and_others_do_not() {
    let f = fixture_with(|c| {
        c.limits = Limits {
            api_requests_per_second: 1,
            api_burst: 4,
            ..Limits::default()
        }
    });
    // Logging in is one request of the address; then the account counts.
    let doc = f.login("doc").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(f.send(doc.get("/api/search?q=quoc")).await);
    }
    let (status, headers, body) = statuses.pop().unwrap();
    assert!(
        statuses.iter().all(|(s, _, _)| *s == StatusCode::OK),
        "the burst is served"
    );
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key(header::RETRY_AFTER));
    assert!(String::from_utf8_lossy(&body).contains("too many requests"));
    // Another account is not slowed by it.
    let lan = f.login("lan").await;
    let (status, _) = f.json(lan.get("/api/sessions")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn brute_force_login_is_slowed() {
    let f = fixture_with(|c| {
        c.limits = Limits {
            login_burst_per_user: 3,
            login_refill_secs_per_user: 60,
            ..Limits::default()
        }
    });
    for _ in 0..3 {
        let (status, _) = f
            .json(post_json(
                "/api/login",
                &json!({"username": "lan", "password": "guess guess"}),
            ))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, headers, body) = f
        .send(post_json(
            "/api/login",
            &json!({"username": "lan", "password": PASSWORD}),
        ))
        .await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry: u64 = headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(String::from_utf8_lossy(&body).contains("too many login attempts"));
    // Other accounts are not locked out by it.
    f.login("minh").await;
}

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
async fn malformed_and_oversized_requests_get_clear_errors() {
    let f = fixture_with(|c| c.limits.max_body_bytes = 4096);
    let lan = f.login("lan").await;
    let huge = json!({"version": 1, "text": "a".repeat(10_000)});
    let (status, err) = f
        .json(lan.send_json("PATCH", "/api/segments/1", &huge))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(err["error"].as_str().unwrap().contains("size limit"));
    let long_text = json!({"version": 1, "text": "a".repeat(3_000)});
    let f2 = fixture_with(|c| c.limits.max_text_bytes = 1000);
    let lan2 = f2.login("lan").await;
    let (status, _) = f2
        .json(lan2.send_json("PATCH", "/api/segments/1", &long_text))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let cases = [
        (
            "PATCH",
            "/api/segments/1",
            json!({"text": "no version"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PATCH",
            "/api/segments/1",
            json!({"version": 1, "bogus": 1}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PATCH",
            "/api/segments/1",
            json!({"version": 1, "review_status": "done"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PATCH",
            "/api/segments/abc",
            json!({"version": 1}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PATCH",
            "/api/segments/999",
            json!({"version": 1, "text": "x"}),
            StatusCode::NOT_FOUND,
        ),
        (
            "PATCH",
            "/api/segments/1",
            json!({"version": 1, "speaker_id": 999}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/sessions/999/speakers",
            json!({"name": "X"}),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (method, uri, body, expected) in cases {
        let (status, err) = f.json(lan.send_json(method, uri, &body)).await;
        assert_eq!(status, expected, "{method} {uri} {body}");
        assert!(
            err["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{err}"
        );
    }
    let not_json = Request::patch("/api/segments/1")
        .header(header::COOKIE, &lan.cookie)
        .header("x-csrf-token", &lan.csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let (status, _) = f.json(not_json).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for uri in [
        "/api/sessions/999",
        "/api/sessions/999/segments",
        "/api/sessions/999/audio",
        "/api/sessions/999/export/json",
        "/api/sessions/999/live",
        "/api/segments/999/revisions",
    ] {
        let (status, err) = f.json(lan.get(uri)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(
            err["error"].as_str().unwrap().contains("999"),
            "{uri}: {err}"
        );
    }
    for uri in [
        "/api/sessions/1/export/pdf",
        "/api/search?q=",
        "/api/search?q=x&from=21-10-2026",
        "/api/search?q=x&session=abc",
    ] {
        let (status, _) = f.json(lan.get(uri)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
    }
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
async fn only_admins_manage_users() {
    let f = fixture();
    let lan = f.login("lan").await;
    let (status, _) = f.json(lan.get("/api/users")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let new = json!({"username": "hoa", "password": "một mật khẩu", "role": "reader"});
    let (status, _) = f.json(lan.send_json("POST", "/api/users", &new)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let admin = f.login("admin").await;
    let (status, user) = f.json(admin.send_json("POST", "/api/users", &new)).await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["role"], "reader");
    assert!(user.get("password_hash").is_none());
    let (status, _) = f.json(admin.send_json("POST", "/api/users", &new)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = f
        .json(admin.send_json(
            "POST",
            "/api/users",
            &json!({"username": "x", "password": "short", "role": "reader"}),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = f
        .json(admin.send_json(
            "PUT",
            "/api/users/hoa",
            &json!({"role": "stenographer", "password": "mật khẩu mới"}),
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, users) = f.json(admin.get("/api/users")).await;
    let hoa = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "hoa")
        .unwrap()
        .clone();
    assert_eq!(hoa["role"], "stenographer");
    let (status, _) = f
        .json(admin.send_json("DELETE", "/api/users/hoa", &json!({})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = f
        .json(admin.send_json("DELETE", "/api/users/hoa", &json!({})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f
        .json(admin.send_json("DELETE", "/api/users/admin", &json!({})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn edits_reach_live_clients_and_shutdown_closes_them() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let f = fixture();
    let (addr, stop, server) = listen(&f).await;
    let doc = f.login("doc").await;
    let mut watching = connect_ws(&addr, &doc.cookie, 1).await;
    let mut elsewhere = connect_ws(&addr, &doc.cookie, 2).await;

    let lan = f.login("lan").await;
    let (status, _) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/2",
            &json!({"version": 1, "text": "sửa trực tiếp"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let message = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            match watching.next().await.unwrap().unwrap() {
                Message::Text(text) => break text.to_string(),
                _ => continue,
            }
        }
    })
    .await
    .expect("the edit arrives");
    let event: Value = serde_json::from_str(&message).unwrap();
    assert_eq!(event["type"], "segment");
    assert_eq!(event["segment"]["text"], "sửa trực tiếp");
    assert_eq!(event["segment"]["version"], 2);
    // The other session's watcher hears nothing of it.
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(300), elsewhere.next()).await;
    assert!(quiet.is_err(), "{quiet:?}");

    // Shutting down closes the sockets and the server returns.
    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("graceful shutdown finishes")
        .unwrap();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match watching.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the live socket was closed");
}

#[tokio::test]
async fn live_needs_a_login_when_reading_is_private() {
    let f = fixture();
    let (addr, stop, server) = listen(&f).await;
    let request = format!("ws://{addr}/api/sessions/1/live");
    let refused = tokio_tungstenite::connect_async(request).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        other => panic!("expected 401, got {other:?}"),
    }
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn the_store_path_is_what_the_config_names() {
    let f = fixture();
    assert!(Path::new(&f.state.config().db).exists());
    assert!(f.state.config().index_dir().exists());
}

#[tokio::test]
async fn odd_methods_get_json_405_and_do_not_grow_the_metrics() {
    let f = fixture();
    for method in ["BOGUS1", "BOGUS2", "PROPFIND"] {
        let request = Request::builder()
            .method(method)
            .uri("/health")
            .body(Body::empty())
            .unwrap();
        let (status, _, _) = f.send(request).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    let (_, _, metrics) = f.send(get("/metrics")).await;
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        !metrics.contains("BOGUS") && !metrics.contains("PROPFIND"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "tocky_http_requests_total{method=\"OTHER\",route=\"/health\",status=\"405\"} 3"
        ),
        "{metrics}"
    );
    // Under /api the answer is the usual JSON error.
    let lan = f.login("lan").await;
    let (status, err) = f
        .json(lan.send_json("DELETE", "/api/sessions/1", &json!({})))
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(err["error"].as_str().unwrap().contains("method"), "{err}");
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
async fn an_admin_cannot_demote_themselves() {
    let f = fixture();
    let admin = f.login("admin").await;
    let (status, err) = f
        .json(admin.send_json("PUT", "/api/users/admin", &json!({"role": "reader"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["error"].as_str().unwrap().contains("own role"), "{err}");
    let (status, _) = f.json(admin.get("/api/users")).await;
    assert_eq!(status, StatusCode::OK, "still an admin");
    let (status, _) = f
        .json(admin.send_json("PUT", "/api/users/admin", &json!({"role": "admin"})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Another admin's role can still be changed.
    let (status, _) = f
        .json(admin.send_json("PUT", "/api/users/lan", &json!({"role": "admin"})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = f
        .json(admin.send_json("PUT", "/api/users/lan", &json!({"role": "reader"})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
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

#[tokio::test]
async fn a_full_house_of_live_clients_is_told_so() {
    let f = fixture_with(|c| c.limits.ws_max_clients = 0);
    let (addr, stop, server) = listen(&f).await;
    let doc = f.login("doc").await;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{addr}/api/sessions/1/live")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert(header::COOKIE, doc.cookie.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(response.headers().contains_key(header::RETRY_AFTER));
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                .into_owned();
            assert!(
                body.contains("live clients") && !body.contains("login"),
                "{body}"
            );
        }
        other => panic!("expected 503, got {other:?}"),
    }
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_live_handshakes_cannot_overshoot_the_limit() {
    let f = fixture_with(|c| c.limits.ws_max_clients = 2);
    let (addr, stop, server) = listen(&f).await;
    let doc = f.login("doc").await;
    // All at once: each passes the login and session checks before any
    // upgrade completes, which is where a count kept after the upgrade
    // let every one of them in.
    let results = futures_util::future::join_all((0..8).map(|_| try_ws(&addr, &doc.cookie))).await;
    let mut open = Vec::new();
    for result in results {
        match result {
            Ok(socket) => open.push(socket),
            Err(status) => assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE),
        }
    }
    assert_eq!(open.len(), 2, "exactly the limit gets in");
    // Full: one more is refused until someone leaves.
    assert_eq!(
        try_ws(&addr, &doc.cookie).await.err(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );

    // One leaves; its place frees once the server has seen the close.
    let mut leaving = open.pop().unwrap();
    leaving.close(None).await.unwrap();
    drop(leaving);
    let mut joined = None;
    for _ in 0..100 {
        match try_ws(&addr, &doc.cookie).await {
            Ok(socket) => {
                joined = Some(socket);
                break;
            }
            Err(status) => {
                assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
    assert!(joined.is_some(), "a freed place is taken within 5 s");
    // And the house is full again.
    assert_eq!(
        try_ws(&addr, &doc.cookie).await.err(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );

    stop.send(()).unwrap();
    server.await.unwrap();
}
