//! The defects of issue 14 that the router alone shows, through `oneshot`:
//! who may log in when someone guesses, forwarded addresses, the hash cap,
//! the audit log, exports, caching, ranges and field limits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use common::*;

/// `request` as if it came over TCP from `peer`.
fn from(peer: &str, mut request: Request<Body>) -> Request<Body> {
    let addr: SocketAddr = format!("{peer}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    request
}

fn login_as(user: &str, password: &str) -> Request<Body> {
    post_json(
        "/api/login",
        &json!({"username": user, "password": password}),
    )
}

#[tokio::test]
async fn someone_guessing_cannot_keep_the_owner_out() {
    let f = fixture_with(|c| {
        c.limits.login_burst_per_user = 3;
        c.limits.login_refill_secs_per_user = 60;
    });
    // The attacker spends their tries at "admin", and more.
    for _ in 0..3 {
        let (status, _) = f
            .json(from("198.51.100.66", login_as("admin", "guess guess")))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = f
        .json(from("198.51.100.66", login_as("admin", PASSWORD)))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the guesser waits");
    // The owner, elsewhere, gets in with the right password.
    let (status, me) = f
        .json(from("203.0.113.5", login_as("admin", PASSWORD)))
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    // Many guessers, each within their own limits, cannot lock the owner
    // out of an address they logged in from.
    let f = fixture_with(|c| c.limits.login_failures_per_user = 10);
    let (status, _) = f
        .json(from("203.0.113.5", login_as("admin", PASSWORD)))
        .await;
    assert_eq!(status, StatusCode::OK);
    for i in 0..20 {
        let _ = f
            .json(from(&format!("198.51.100.{i}"), login_as("admin", "guess")))
            .await;
    }
    let (status, _) = f.json(from("192.0.2.1", login_as("admin", "guess"))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the budget is spent");
    let (status, _) = f
        .json(from("203.0.113.5", login_as("admin", PASSWORD)))
        .await;
    assert_eq!(status, StatusCode::OK, "the owner's address still gets in");
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let f = fixture_with(|c| {
        c.trusted_proxies = vec!["10.0.0.0/8".into()];
        c.limits.login_burst_per_ip = 1;
        c.limits.login_refill_secs_per_ip = 60;
    });
    let via = |client: &str| {
        let mut r = login_as("lan", "wrong password");
        r.headers_mut()
            .insert("x-forwarded-for", client.parse().unwrap());
        r
    };
    // Two clients behind the proxy: each has its own bucket.
    for client in ["203.0.113.1", "203.0.113.2"] {
        let (status, _) = f.json(from("10.0.0.1", via(client))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{client}");
    }
    let (status, _) = f.json(from("10.0.0.1", via("203.0.113.1"))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // From outside the proxy list the header is ignored: one bucket.
    let (status, _) = f.json(from("198.51.100.9", via("203.0.113.3"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = f.json(from("198.51.100.9", via("203.0.113.4"))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // A proxy list entry that is not an address is a configuration error.
    let bad = ServerConfig {
        trusted_proxies: vec!["proxy.example".into()],
        ..ServerConfig::default()
    };
    assert!(bad.validate().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_hashes_are_capped_and_the_rest_answered_at_once() {
    let f = fixture_with(|c| c.limits.login_max_concurrent_hashes = 1);
    let started = std::time::Instant::now();
    let answers = futures_util::future::join_all((0..12).map(|i| {
        let app = f.app();
        async move {
            let r = app
                .oneshot(from(
                    &format!("192.0.2.{i}"),
                    login_as("lan", "wrong password"),
                ))
                .await
                .unwrap();
            (r.status(), r.headers().get(header::RETRY_AFTER).cloned())
        }
    }))
    .await;
    let busy: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!busy.is_empty(), "{answers:?}");
    assert!(busy.iter().all(|(_, retry)| retry.is_some()));
    assert!(
        answers
            .iter()
            .all(|(s, _)| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{answers:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // Once the burst is over, logins work again.
    f.login("lan").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_guesses_leaves_a_place_for_the_owners_address() {
    let f = fixture_with(|c| c.limits.login_max_concurrent_hashes = 1);
    let (status, _) = f
        .json(from("203.0.113.5", login_as("admin", PASSWORD)))
        .await;
    assert_eq!(status, StatusCode::OK);
    // Guesses from many addresses fill the place; the owner, from an
    // address the account logged in from, comes last and still gets in.
    let mut requests: Vec<Request<Body>> = (0..8)
        .map(|i| {
            from(
                &format!("198.51.100.{i}"),
                login_as(&format!("guess{i}"), "guess"),
            )
        })
        .collect();
    requests.push(from("203.0.113.5", login_as("admin", PASSWORD)));
    let answers = futures_util::future::join_all(requests.into_iter().map(|r| {
        let app = f.app();
        async move { app.oneshot(r).await.unwrap().status() }
    }))
    .await;
    assert!(
        answers[..8].contains(&StatusCode::SERVICE_UNAVAILABLE),
        "{answers:?}"
    );
    assert_eq!(answers[8], StatusCode::OK, "{answers:?}");
}

#[tokio::test]
async fn the_audit_log_records_refusals_and_escapes_typed_names() {
    let f = fixture_with(|c| {
        c.limits.login_burst_per_user = 1;
        c.limits.login_refill_secs_per_user = 60;
    });
    let typed = "admin\nlogin ok\u{202E}\0";
    let (status, _) = f
        .json(from("198.51.100.7", login_as(typed, "guess guess")))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for _ in 0..3 {
        let (status, _) = f
            .json(from("198.51.100.7", login_as(typed, "guess guess")))
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
    let store = Store::open(&f.state.config().db).unwrap();
    let log = store.audit_log(10).unwrap();
    let failed: Vec<_> = log.iter().filter(|e| e.action == "login_failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].actor, "admin\\u{a}login ok\\u{202e}\\u{0}");
    // The refusals are recorded, once a minute per address and name.
    let refused: Vec<_> = log.iter().filter(|e| e.action == "login_refused").collect();
    assert_eq!(refused.len(), 1, "{log:?}");
    assert!(!refused[0].actor.contains(['\n', '\u{202E}', '\0']));

    // A speaker added and a revision restored are logged as what they are.
    let lan = f.login("lan").await;
    let (status, _) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/speakers",
            &json!({"name": "Chủ tọa", "seat": "1"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/1",
            &json!({"version": 1, "text": "mới"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, revisions) = f.json(lan.get("/api/segments/1/revisions")).await;
    let (status, _) = f
        .json(lan.send_json(
            "POST",
            "/api/segments/1/restore",
            &json!({"revision_id": revisions[0]["id"], "version": 2}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<String> = store
        .audit_log(4)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions[..3],
        ["restore", "edit", "speaker_add"],
        "{actions:?}"
    );
}

#[tokio::test]
async fn anonymous_readers_never_see_revisions() {
    // Revisions hold the drafts: with public reading too, only a login
    // reads them (and so the names of who edited).
    let f = fixture_with(|c| c.public_read = true);
    let lan = f.login("lan").await;
    let (status, _) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/1",
            &json!({"version": 1, "text": "mới"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, anonymous) = f.json(get("/api/segments/1/revisions")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!anonymous.to_string().contains("lan"));
    let (_, logged_in) = f.json(lan.get("/api/segments/1/revisions")).await;
    assert_eq!(logged_in[0]["author"], "lan");
}

/// The text of an export of session 1.
async fn export(f: &Fixture, login: &Login, format: &str) -> String {
    let (status, _, body) = f
        .send(login.get(&format!("/api/sessions/1/export/{format}")))
        .await;
    assert_eq!(status, StatusCode::OK);
    String::from_utf8(body).unwrap()
}

#[tokio::test]
async fn exports_neutralise_cue_syntax_and_control_characters() {
    let f = fixture();
    let lan = f.login("lan").await;
    let forged = "Kính thưa\n99\n00:00:00,000 --> 09:59:59,000\nX\0\u{1b}[2J\u{7}";
    let (status, _) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/1",
            &json!({"version": 1, "text": forged}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let srt = export(&f, &lan, "srt").await;
    assert_eq!(srt.matches("-->").count(), 3, "three cues, no more:\n{srt}");
    assert!(
        srt.contains("Kính thưa 99 00:00:00,000 -- > 09:59:59,000 X"),
        "{srt}"
    );
    let vtt = export(&f, &lan, "vtt").await;
    assert_eq!(vtt.matches("-->").count(), 3, "{vtt}");
    let txt = export(&f, &lan, "txt").await;
    // Title, sitting, a blank, the speech's time, the speech on one line.
    assert_eq!(txt.lines().count(), 5, "one line a speech:\n{txt}");
    assert!(
        txt.lines()
            .any(|l| l.starts_with("Kính thưa 99 00:00:00,000 -- > 09:59:59,000 X")),
        "{txt}"
    );
    for text in [&srt, &vtt, &txt] {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
    }
    // The record itself keeps what was typed.
    let (_, json) = f.json(lan.get("/api/sessions/1/export/json")).await;
    assert!(
        json["segments"][0]["text"]
            .as_str()
            .unwrap()
            .contains("-->")
    );
}

#[tokio::test]
async fn private_answers_are_not_cached() {
    let f = fixture();
    let doc = f.login("doc").await;
    for uri in [
        "/api/sessions",
        "/api/sessions/1/segments",
        "/api/sessions/1/export/srt",
        "/api/segments/1/revisions",
        "/api/search?q=quoc",
        "/api/me",
    ] {
        let (status, headers, _) = f.send(doc.get(uri)).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(headers[header::CACHE_CONTROL], "private, no-store", "{uri}");
    }
    let (status, headers, _) = f.send(doc.get("/api/sessions/1/audio")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "private");
}

#[tokio::test]
async fn a_suffix_range_longer_than_the_file_gives_the_whole_file() {
    let f = fixture();
    let doc = f.login("doc").await;
    let mut request = doc.get("/api/sessions/1/audio");
    request.headers_mut().insert(
        header::RANGE,
        format!("bytes=-{}", AUDIO_BYTES * 3).parse().unwrap(),
    );
    let (status, headers, body) = f.send(request).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body.len(), AUDIO_BYTES);
    assert_eq!(
        headers[header::CONTENT_RANGE],
        format!("bytes 0-{}/{AUDIO_BYTES}", AUDIO_BYTES - 1).as_str()
    );
    // A suffix inside the file is still the file's end.
    let mut request = doc.get("/api/sessions/1/audio");
    request
        .headers_mut()
        .insert(header::RANGE, "bytes=-10".parse().unwrap());
    let (status, _, body) = f.send(request).await;
    assert_eq!((status, body.len()), (StatusCode::PARTIAL_CONTENT, 10));
}

#[tokio::test]
async fn free_text_fields_and_user_names_are_checked() {
    let f = fixture();
    let lan = f.login("lan").await;
    for body in [
        json!({"name": "A", "seat": "1".repeat(65)}),
        json!({"name": "B", "seat": "1\u{202E}2"}),
        json!({"name": "x".repeat(201)}),
        json!({"name": "C\u{0}"}),
    ] {
        let (status, answer) = f
            .json(lan.send_json("POST", "/api/sessions/1/speakers", &body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} {answer}");
    }
    let (status, _) = f
        .json(lan.get(&format!("/api/search?q={}", "a".repeat(2000))))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let admin = f.login("admin").await;
    for name in ["hoa\u{202E}", "h\u{200B}oa", "\u{3164}"] {
        let (status, _) = f
            .json(admin.send_json(
                "POST",
                "/api/users",
                &json!({"username": name, "password": PASSWORD, "role": "reader"}),
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name:?}");
    }
    // A name typed with combining accents is stored, and logs in, as NFC.
    let (status, user) = f
        .json(admin.send_json(
            "POST",
            "/api/users",
            &json!({"username": "Le\u{0302}", "password": PASSWORD, "role": "reader"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(user["name"], "L\u{ea}");
    let (status, _) = f.json(login_as("L\u{ea}", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK);
}
