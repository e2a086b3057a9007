//! The workflow of a sitting through the API: steps and refusals with
//! their reasons, roles, frozen versions served byte for byte, corrections
//! and bad input. Session 1 holds "Kính thưa Quốc hội", "luật đất đai sửa
//! đổi" and "xin cảm ơn" (segments 1–3); session 2 holds segment 4.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

/// The fixture with an editor, `thu`.
fn fixture_with_editor() -> Fixture {
    let f = fixture();
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    store.add_user("thu", &hash, Role::Editor, "test").unwrap();
    f
}

async fn step(f: &Fixture, who: &Login, session: i64, body: Value) -> (StatusCode, Value) {
    f.json(who.send_json("POST", &format!("/api/sessions/{session}/workflow"), &body))
        .await
}

/// Marks every segment of session 1 reviewed.
async fn review_all(f: &Fixture, who: &Login) {
    let (_, segments) = f.json(who.get("/api/sessions/1/segments")).await;
    for s in segments.as_array().unwrap() {
        let (status, out) = f
            .json(who.send_json(
                "PATCH",
                &format!("/api/segments/{}", s["id"]),
                &json!({"version": s["version"], "review_status": "reviewed"}),
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{out}");
    }
}

async fn publish_session_1(f: &Fixture, lan: &Login, thu: &Login, note: &str) -> Value {
    let (status, out) = step(f, lan, 1, json!({"to": "checked"})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, out) = step(f, thu, 1, json!({"to": "approved"})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, out) = step(f, thu, 1, json!({"to": "published", "note": note})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out
}

#[tokio::test]
async fn a_sitting_is_checked_approved_published_and_made_final() {
    let f = fixture_with_editor();
    let (lan, thu) = (f.login("lan").await, f.login("thu").await);

    let (status, out) = step(&f, &lan, 1, json!({"to": "checked"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(out["error"], "3 segments are not reviewed yet");
    let (status, out) = step(&f, &thu, 1, json!({"to": "approved"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(out["error"], "3 segments are not reviewed yet");

    review_all(&f, &lan).await;
    let (status, out) = step(&f, &thu, 1, json!({"to": "published"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        out["error"],
        "only an approved sitting can be published (it is draft)"
    );
    let out = publish_session_1(&f, &lan, &thu, "bản tạm thời").await;
    assert_eq!(out["from"], "approved");
    assert_eq!(out["to"], "published");
    assert_eq!(out["version"]["number"], 1);
    assert_eq!(out["version"]["state"], "provisional");
    assert_eq!(out["version"]["published_by"], "thu");

    let (status, out) = step(&f, &thu, 1, json!({"to": "final"})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["version"]["state"], "final");

    let (status, workflow) = f.json(lan.get("/api/sessions/1/workflow")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(workflow["state"], "final");
    let steps: Vec<_> = workflow["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{} {}→{}", s["actor"].as_str().unwrap(), s["from"], s["to"]))
        .collect();
    assert_eq!(
        steps,
        [
            "lan \"draft\"→\"checked\"",
            "thu \"checked\"→\"approved\"",
            "thu \"approved\"→\"published\"",
            "thu \"published\"→\"final\"",
        ]
    );
    let (_, session) = f.json(lan.get("/api/sessions/1")).await;
    assert_eq!(session["session"]["workflow"], "final");
}

#[tokio::test]
async fn only_an_editor_approves_publishes_and_finalises() {
    let f = fixture_with_editor();
    let (lan, doc, admin) = (
        f.login("lan").await,
        f.login("doc").await,
        f.login("admin").await,
    );
    review_all(&f, &lan).await;
    let (status, _) = step(&f, &doc, 1, json!({"to": "checked"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = step(&f, &lan, 1, json!({"to": "checked"})).await;
    assert_eq!(status, StatusCode::OK);
    for who in [&doc, &lan] {
        for to in ["approved", "published", "final"] {
            let (status, out) = step(&f, who, 1, json!({"to": to})).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{to}: {out}");
        }
    }
    // Nobody logged in.
    let (status, _) = f
        .json(post_json(
            "/api/sessions/1/workflow",
            &json!({"to": "approved"}),
        ))
        .await;
    assert!(status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN);
    // An admin is an editor too.
    let (status, out) = step(&f, &admin, 1, json!({"to": "approved"})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    // The editor role is given like any other.
    let (status, out) = f
        .json(admin.send_json(
            "POST",
            "/api/users",
            &json!({"username": "hoa", "password": PASSWORD, "role": "editor"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    assert_eq!(out["role"], "editor");
}

#[tokio::test]
async fn a_published_version_is_served_byte_for_byte_after_corrections() {
    let f = fixture_with_editor();
    let (lan, thu, doc) = (
        f.login("lan").await,
        f.login("thu").await,
        f.login("doc").await,
    );
    review_all(&f, &lan).await;
    publish_session_1(&f, &lan, &thu, "bản tạm thời").await;
    let (status, headers, v1) = f.send(doc.get("/api/sessions/1/versions/1")).await;
    assert_eq!(status, StatusCode::OK);
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    let (_, versions) = f.json(doc.get("/api/sessions/1/versions")).await;
    assert_eq!(
        etag,
        format!("\"{}\"", versions[0]["sha256"].as_str().unwrap())
    );
    assert_eq!(headers["x-tocky-version"], "1");
    let published: Value = serde_json::from_slice(&v1).unwrap();
    assert_eq!(published["segments"][1]["text"], "luật đất đai sửa đổi");

    // A correction: the sitting is a draft of version 2; version 1 stays.
    let (_, segment) = f.json(lan.get("/api/sessions/1/segments")).await;
    let second = segment[1].clone();
    let (status, out) = f
        .json(lan.send_json(
            "PATCH",
            &format!("/api/segments/{}", second["id"]),
            &json!({"version": second["version"], "text": "Luật Đất đai (sửa đổi)"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (_, workflow) = f.json(lan.get("/api/sessions/1/workflow")).await;
    assert_eq!(workflow["state"], "draft");
    assert_eq!(workflow["published"]["number"], 1);
    let (_, _, again) = f.send(doc.get("/api/sessions/1/versions/1")).await;
    assert_eq!(again, v1);

    let (status, out) = step(&f, &lan, 1, json!({"to": "checked"})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, out) = step(&f, &thu, 1, json!({"to": "approved"})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let reasons = json!({ second["id"].to_string(): "theo đề nghị của đại biểu" });
    let (status, out) = step(
        &f,
        &thu,
        1,
        json!({"to": "published", "note": "bản sửa", "reasons": reasons}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["version"]["number"], 2);
    assert_eq!(out["version"]["previous"], 1);

    let (_, _, after) = f.send(doc.get("/api/sessions/1/versions/1")).await;
    assert_eq!(after, v1, "version 1 is byte-identical after version 2");
    let (_, versions) = f.json(doc.get("/api/sessions/1/versions")).await;
    assert_eq!(versions[0]["next"], 2);
    assert_eq!(versions[1]["corrections"], 1);

    let (status, out) = f
        .json(doc.get("/api/sessions/1/versions/2/corrections"))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["version"]["number"], 2);
    let c = &out["corrections"][0];
    assert_eq!(c["target"], "segment");
    assert_eq!(c["target_id"], second["id"]);
    assert_eq!(c["change"], "text");
    assert_eq!(c["before"], "luật đất đai sửa đổi");
    assert_eq!(c["after"], "Luật Đất đai (sửa đổi)");
    assert_eq!(c["reason"], "theo đề nghị của đại biểu");
    assert_eq!(c["previous_version"], 1);
    let (_, back) = f
        .json(doc.get(&format!("/api/segments/{}/corrections", second["id"])))
        .await;
    assert_eq!(back[0]["id"], c["id"]);

    // A client with the version cached gets 304.
    let request = Request::get("/api/sessions/1/versions/1")
        .header(header::COOKIE, &doc.cookie)
        .header(header::IF_NONE_MATCH, &etag)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = f.send(request).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
}

#[tokio::test]
async fn bad_input_is_refused_clearly() {
    let f = fixture_with_editor();
    let (thu, lan) = (f.login("thu").await, f.login("lan").await);
    let (status, out) = f.json(thu.get("/api/sessions/1/versions/1")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{out}");
    assert_eq!(out["error"], "session 1 has no published version 1");
    let (status, _) = f.json(thu.get("/api/sessions/99/versions")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f
        .json(thu.get("/api/sessions/1/versions/7/corrections"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = step(&f, &thu, 99, json!({"to": "approved"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = step(&f, &thu, 1, json!({"to": "done"})).await;
    assert!(status.is_client_error() && status != StatusCode::NOT_FOUND);
    let (status, _) = step(&f, &thu, 1, json!({"to": "approved", "extra": 1})).await;
    assert!(status.is_client_error() && status != StatusCode::NOT_FOUND);
    let long = "x".repeat(5000);
    let (status, _) = step(&f, &thu, 1, json!({"to": "approved", "note": long})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // An empty sitting cannot be published: session 2 loses its one
    // segment from the record.
    let (_, segments) = f.json(lan.get("/api/sessions/2/segments")).await;
    let s = &segments[0];
    let (status, out) = f
        .json(lan.send_json(
            "POST",
            &format!("/api/segments/{}/state", s["id"]),
            &json!({"version": s["version"], "state": "not_speech"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, out) = step(&f, &thu, 2, json!({"to": "published"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(out["error"], "an empty sitting cannot be published");
    let (_, versions) = f.json(thu.get("/api/sessions/2/versions")).await;
    assert_eq!(versions, json!([]));
}

#[tokio::test]
async fn each_step_reaches_live_clients() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let f = fixture_with_editor();
    let (addr, stop, server) = listen(&f).await;
    let doc = f.login("doc").await;
    let mut watching = connect_ws(&addr, &doc.cookie, 1).await;
    let lan = f.login("lan").await;
    review_all(&f, &lan).await;
    let (status, out) = step(&f, &lan, 1, json!({"to": "checked", "note": "xong"})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let Message::Text(text) = watching.next().await.unwrap().unwrap() {
                let event: Value = serde_json::from_str(&text).unwrap();
                if event["type"] == "workflow" {
                    break event;
                }
            }
        }
    })
    .await
    .expect("a workflow event arrives");
    assert_eq!(event["actor"], "lan");
    assert_eq!(event["session_id"], 1);
    assert_eq!(
        (event["from"].clone(), event["to"].clone()),
        (json!("draft"), json!("checked"))
    );
    assert!(event["version"].is_null());
    drop(watching);
    let _ = stop.send(());
    server.await.unwrap();
}
