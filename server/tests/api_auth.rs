//! Who may do what through the review server's API: reading without a
//! login only when public, login, logout and `me`, request rates and
//! brute force slowed, users managed by admins only (who cannot demote
//! themselves). Driven with `oneshot` over a real store and index.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

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
