//! What the public record's tests (public.rs, public_versions.rs) share:
//! the fixture with an editor, pages fetched as a visitor or a login, and
//! segments edited and sessions published through the API. Session 1
//! holds "Kính thưa Quốc hội", "luật đất đai sửa đổi" and "xin cảm ơn"
//! (segments 1–3); session 2 holds segment 4 and is never published.

// Test helpers panic on failure by design; each test binary uses some.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use crate::common::*;

/// The fixture with an editor, `thu`; `public` turns `public_read` on.
pub(crate) fn fixture_for(public: bool) -> Fixture {
    let f = fixture_with(|c| c.public_read = public);
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    store.add_user("thu", &hash, Role::Editor, "test").unwrap();
    f
}

/// The body of a GET (with `login`, or none), its status and headers.
pub(crate) async fn page(
    f: &Fixture,
    login: Option<&Login>,
    uri: &str,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let request = match login {
        Some(login) => login.get(uri),
        None => get(uri),
    };
    let (status, headers, body) = f.send(request).await;
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// Edits segment `id`'s text (and marks it reviewed) as `who`.
pub(crate) async fn edit(f: &Fixture, who: &Login, id: i64, text: &str) {
    let (_, segments) = f.json(who.get("/api/sessions/1/segments")).await;
    let current = segments
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap()
        .clone();
    let (status, out) = f
        .json(who.send_json(
            "PATCH",
            &format!("/api/segments/{id}"),
            &json!({"version": current["version"], "text": text, "review_status": "reviewed"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
}

/// Reviews every segment of session 1 and publishes it as `thu`, with
/// `reasons` by segment id; returns the version's number.
pub(crate) async fn publish(f: &Fixture, lan: &Login, thu: &Login, reasons: Value) -> i64 {
    let (_, segments) = f.json(lan.get("/api/sessions/1/segments")).await;
    for s in segments.as_array().unwrap() {
        if s["review_status"] != "reviewed" {
            let (status, out) = f
                .json(lan.send_json(
                    "PATCH",
                    &format!("/api/segments/{}", s["id"]),
                    &json!({"version": s["version"], "review_status": "reviewed"}),
                ))
                .await;
            assert_eq!(status, StatusCode::OK, "{out}");
        }
    }
    for (who, to) in [(lan, "checked"), (thu, "approved")] {
        let (status, out) = f
            .json(who.send_json("POST", "/api/sessions/1/workflow", &json!({"to": to})))
            .await;
        assert_eq!(status, StatusCode::OK, "{to}: {out}");
    }
    let (status, out) = f
        .json(thu.send_json(
            "POST",
            "/api/sessions/1/workflow",
            &json!({"to": "published", "note": "bản tạm thời", "reasons": reasons}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out["version"]["number"].as_i64().unwrap()
}
