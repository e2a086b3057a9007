//! The workflow as the review desk sees it: a sitting sent back to draft
//! by a change to its record reaching every live client. Session 1
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
