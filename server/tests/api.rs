//! The review server's API through its router, driven with `oneshot` as
//! axum's examples do, over a real SQLite store and tantivy index: health,
//! metrics and their token, the store's path, odd methods, malformed and
//! oversized requests. (Logins and roles are in api_auth.rs, the record's
//! edits, audio and search in api_segments.rs, the live channel in
//! api_live.rs.)

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
