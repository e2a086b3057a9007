//! The workflow as the review desk sees it: the corrections pending
//! publication (for the publisher's reasons), and a sitting sent back to
//! draft by a change to its record reaching every live client. Session 1
//! holds "Kính thưa Quốc hội", "luật đất đai sửa đổi" and "xin cảm ơn"
//! (segments 1–3); session 2 holds segment 4.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The fixture with an editor, `thu`.
fn fixture_with_editor() -> Fixture {
    let f = fixture();
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    store.add_user("thu", &hash, Role::Editor, "test").unwrap();
    f
}

async fn step(f: &Fixture, who: &Login, body: Value) -> (StatusCode, Value) {
    f.json(who.send_json("POST", "/api/sessions/1/workflow", &body))
        .await
}

/// Edits segment `id` of session 1 with `body` (its version added).
async fn edit(f: &Fixture, who: &Login, id: i64, body: Value) -> Value {
    let (_, segments) = f.json(who.get("/api/sessions/1/segments")).await;
    let seg = segments
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap()
        .clone();
    let mut body = body;
    body["version"] = seg["version"].clone();
    let (status, out) = f
        .json(who.send_json("PATCH", &format!("/api/segments/{id}"), &body))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out
}

/// Reviews every segment of session 1, then lan checks, thu approves and
/// publishes (with `body` merged into the publishing step).
async fn publish(f: &Fixture, lan: &Login, thu: &Login, body: Value) -> Value {
    for id in 1..=3 {
        edit(f, lan, id, json!({"review_status": "reviewed"})).await;
    }
    let (status, out) = step(f, lan, json!({"to": "checked"})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, out) = step(f, thu, json!({"to": "approved"})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let mut body = body;
    body["to"] = json!("published");
    let (status, out) = step(f, thu, body).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out
}

/// The next message of type `kind`, skipping others.
async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let Message::Text(text) = socket.next().await.unwrap().unwrap() {
                let event: Value = serde_json::from_str(&text).unwrap();
                if event["type"] == kind {
                    break event;
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("a {kind} message arrives"))
}

#[tokio::test]
async fn pending_corrections_are_listed_before_publication_with_their_reasons_after() {
    let f = fixture_with_editor();
    let (lan, thu, doc) = (
        f.login("lan").await,
        f.login("thu").await,
        f.login("doc").await,
    );
    let (status, pending) = f.json(doc.get("/api/sessions/1/workflow/pending")).await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    assert_eq!(pending["previous"], Value::Null);
    assert_eq!(pending["next"], 1);
    assert_eq!(pending["corrections"], json!([]));

    publish(&f, &lan, &thu, json!({"note": "bản tạm thời"})).await;
    let (_, pending) = f.json(doc.get("/api/sessions/1/workflow/pending")).await;
    assert_eq!(
        (pending["previous"].clone(), pending["next"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(pending["unchanged"], true);

    // Hostile text stays text: the API gives it back as it was typed.
    let typed = "luật đất đai <b>sửa đổi</b> & \"bổ sung\"";
    edit(&f, &lan, 2, json!({"text": typed})).await;
    let (_, pending) = f.json(doc.get("/api/sessions/1/workflow/pending")).await;
    assert_eq!(pending["unchanged"], false);
    let corrections = pending["corrections"].as_array().unwrap();
    assert_eq!(corrections.len(), 1, "{pending}");
    let c = &corrections[0];
    assert_eq!(
        (c["target"].clone(), c["target_id"].clone()),
        (json!("segment"), json!(2))
    );
    assert_eq!(c["change"], "text");
    assert_eq!(c["before"], "luật đất đai sửa đổi");
    assert_eq!(c["after"], typed);
    assert_eq!(c["at_ms"], 5_000);
    assert_eq!(
        (c["version"].clone(), c["previous_version"].clone()),
        (json!(2), json!(1))
    );
    assert!(c["reason"].is_null());

    // Published with a reason for segment 2: version 2 lists it with it.
    let out = publish(
        &f,
        &lan,
        &thu,
        json!({"note": "bản sửa", "reasons": {"2": "theo đề nghị của đại biểu"}}),
    )
    .await;
    assert_eq!(out["version"]["number"], 2);
    let (_, listed) = f
        .json(doc.get("/api/sessions/1/versions/2/corrections"))
        .await;
    let stored = &listed["corrections"][0];
    assert_eq!(stored["after"], typed);
    assert_eq!(stored["reason"], "theo đề nghị của đại biểu");
    let (_, pending) = f.json(doc.get("/api/sessions/1/workflow/pending")).await;
    assert_eq!(pending["corrections"], json!([]));
    assert_eq!(pending["next"], 3);
}

#[tokio::test]
async fn pending_corrections_need_a_login_even_when_public_and_a_known_session() {
    let f = fixture_with_editor();
    let (status, _) = f.json(get("/api/sessions/1/workflow/pending")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let doc = f.login("doc").await;
    let (status, out) = f.json(doc.get("/api/sessions/99/workflow/pending")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{out}");
    let (status, _) = f.json(doc.get("/api/sessions/x/workflow/pending")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Read-only: nothing else answers there.
    let (status, _) = f
        .json(doc.send_json("POST", "/api/sessions/1/workflow/pending", &json!({})))
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    // What is pending is draft text: the public never sees it.
    let open = fixture_with(|c| c.public_read = true);
    let (status, _) = open.json(get("/api/sessions/1/workflow/pending")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_change_after_publication_reaches_live_clients_as_a_step_back_to_draft() {
    let f = fixture_with_editor();
    let (addr, stop, server) = listen(&f).await;
    let (lan, thu, doc) = (
        f.login("lan").await,
        f.login("thu").await,
        f.login("doc").await,
    );
    let mut watching = connect_ws(&addr, &doc.cookie, 1).await;
    let mut elsewhere = connect_ws(&addr, &doc.cookie, 2).await;

    // In draft, an edit is only an edit.
    edit(&f, &lan, 1, json!({"text": "Kính thưa Quốc hội!"})).await;
    let event = next_of(&mut watching, "segment").await;
    assert_eq!(event["segment"]["id"], 1);

    publish(&f, &lan, &thu, json!({})).await;
    let event = next_of(&mut watching, "workflow").await;
    assert_eq!(
        (event["actor"].clone(), event["to"].clone()),
        (json!("lan"), json!("checked"))
    );
    let event = next_of(&mut watching, "workflow").await;
    assert_eq!(event["to"], "approved");
    let event = next_of(&mut watching, "workflow").await;
    assert_eq!(event["to"], "published");
    assert_eq!(event["version"]["number"], 1);

    // A correction: the triggers send it back to draft, and the page is told.
    edit(&f, &lan, 2, json!({"text": "luật đất đai (sửa đổi)"})).await;
    let event = next_of(&mut watching, "workflow").await;
    assert_eq!(event["actor"], "tocky");
    assert_eq!(event["session_id"], 1);
    assert_eq!(
        (event["from"].clone(), event["to"].clone()),
        (json!("published"), json!("draft"))
    );
    assert!(event["version"].is_null());
    let (_, workflow) = f.json(doc.get("/api/sessions/1/workflow")).await;
    assert_eq!(workflow["state"], "draft");

    // Once: the next write that reopens nothing says nothing, and the
    // next message is that write's own.
    edit(&f, &lan, 3, json!({"text": "xin cảm ơn."})).await;
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let Message::Text(text) = watching.next().await.unwrap().unwrap() {
                break serde_json::from_str::<Value>(&text).unwrap();
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(event["type"], "segment", "{event}");

    // A scene note (another write path) on a checked sitting reopens it too.
    for id in 1..=3 {
        edit(&f, &lan, id, json!({"review_status": "reviewed"})).await;
    }
    let (status, out) = step(&f, &lan, json!({"to": "checked"})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, out) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/notes",
            &json!({"at_ms": 4500, "kind": "applause", "text": "Hội trường vỗ tay"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    loop {
        let event = next_of(&mut watching, "workflow").await;
        if event["actor"] == "tocky" {
            assert_eq!(
                (event["from"].clone(), event["to"].clone()),
                (json!("checked"), json!("draft"))
            );
            break;
        }
    }

    // Session 2's page heard none of session 1's steps.
    let (status, out) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/4",
            &json!({"version": 1, "text": "khác nữa"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let Message::Text(text) = elsewhere.next().await.unwrap().unwrap() {
                break serde_json::from_str::<Value>(&text).unwrap();
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(event["type"], "segment", "{event}");
    assert_eq!(event["segment"]["id"], 4);

    drop((watching, elsewhere));
    let _ = stop.send(());
    server.await.unwrap();
}
