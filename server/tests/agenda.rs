//! The sitting's record through the API: the agenda, "a new item starts
//! here", scene notes and the derived record; their conflicts, bad input,
//! roles and live updates. Session 1 holds "Kính thưa Quốc hội" (0–4 s),
//! "luật đất đai sửa đổi" (5–9 s) and "xin cảm ơn" (10–14 s), segments
//! 1–3; session 2 holds segment 4.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

async fn next_event(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let Message::Text(text) = socket.next().await.unwrap().unwrap() {
                break serde_json::from_str::<Value>(&text).unwrap();
            }
        }
    })
    .await
    .expect("an event arrives")
}

#[tokio::test]
async fn an_agenda_is_put_started_cleared_and_read_with_version_checks() {
    let f = fixture();
    let lan = f.login("lan").await;
    let (status, out) = f
        .json(lan.send_json(
            "PUT",
            "/api/sessions/1/agenda",
            &json!({"items": [
                {"title": "Khai mạc", "start_segment_id": 1},
                {"title": "Luật Đất đai", "reference": "Luật Đất đai (sửa đổi)"},
            ]}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["added"], 2);
    let items = out["items"].as_array().unwrap().clone();
    assert_eq!(items[0]["start_segment_id"], 1);
    assert!(items[1]["start_segment_id"].is_null());

    // The next item waiting starts at segment 2.
    let (status, out) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/agenda/start",
            &json!({"segment_id": 2}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["item_id"], items[1]["id"]);
    assert_eq!(out["items"][1]["start_segment_id"], 2);
    assert_eq!(out["items"][1]["version"], 2);

    // A stale version is a 409 with the item as it is now.
    let id = items[1]["id"].as_i64().unwrap();
    let (status, out) = f
        .json(lan.send_json(
            "DELETE",
            &format!("/api/agenda/{id}/start?version=1"),
            &json!(null),
        ))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    assert_eq!(out["current"]["id"], id);
    assert_eq!(out["current"]["version"], 2);
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("changed by someone else")
    );
    let (status, out) = f
        .json(lan.send_json(
            "DELETE",
            &format!("/api/agenda/{id}/start?version=2"),
            &json!(null),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert!(out["items"][1]["start_segment_id"].is_null());

    // A new titled item starts at segment 3; a reader reads the agenda.
    let (status, out) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/agenda/start",
            &json!({"segment_id": 3, "title": "Bế mạc"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let doc = f.login("doc").await;
    let (status, list) = f.json(doc.get("/api/sessions/1/agenda")).await;
    assert_eq!(status, StatusCode::OK);
    let titles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Khai mạc", "Bế mạc", "Luật Đất đai"]);

    // The same list again changes nothing.
    let (status, out) = f
        .json(lan.send_json(
            "PUT",
            "/api/sessions/1/agenda",
            &json!({"items": list.as_array().unwrap().iter().map(|i| json!({
                "id": i["id"], "version": i["version"], "title": i["title"],
                "reference": i["reference"],
            })).collect::<Vec<_>>()}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert!(out["operation_id"].is_null());
    assert_eq!(out["items"], list);
}

#[tokio::test]
async fn bad_agenda_and_note_requests_get_a_clear_400_and_readers_a_403() {
    let f = fixture();
    let lan = f.login("lan").await;
    let cases = [
        (
            "PUT",
            "/api/sessions/1/agenda",
            json!({"items": [{"title": " "}]}),
            "needs a title",
        ),
        (
            "PUT",
            "/api/sessions/1/agenda",
            json!({"items": [{"title": "A", "start_segment_id": 4}]}),
            "segment 4 is in session 2",
        ),
        (
            "PUT",
            "/api/sessions/1/agenda",
            json!({"items": [{"title": "A", "start_segment_id": 99}]}),
            "no segment 99",
        ),
        (
            "PUT",
            "/api/sessions/1/agenda",
            json!({"items": [
                {"title": "A", "start_segment_id": 2},
                {"title": "B", "start_segment_id": 1},
            ]}),
            "time order",
        ),
        (
            "PUT",
            "/api/sessions/1/agenda",
            json!({"items": [
                {"title": "A", "start_segment_id": 2},
                {"title": "B", "start_segment_id": 2},
            ]}),
            "both start at segment 2",
        ),
        (
            "POST",
            "/api/sessions/1/agenda/start",
            json!({"segment_id": 1, "item_id": 1, "title": "A"}),
            "not both",
        ),
        (
            "POST",
            "/api/sessions/1/agenda/start",
            json!({"segment_id": 1}),
            "no agenda item waits",
        ),
        (
            "POST",
            "/api/sessions/1/notes",
            json!({"at_ms": 4500, "kind": "other"}),
            "needs a text",
        ),
        (
            "POST",
            "/api/sessions/1/notes",
            json!({"at_ms": -5, "kind": "vote"}),
            "time",
        ),
        (
            "POST",
            "/api/sessions/1/notes",
            json!({"at_ms": 5, "kind": "cheering"}),
            "kind",
        ),
    ];
    for (method, uri, body, said) in cases {
        let (status, out) = f.json(lan.send_json(method, uri, &body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {out}");
        let error = out["error"].as_str().unwrap();
        assert!(
            error.contains(said),
            "{body}: {error:?} should say {said:?}"
        );
    }
    let (status, _) = f
        .json(lan.send_json(
            "PATCH",
            "/api/notes/77",
            &json!({"version": 1, "text": "x"}),
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f
        .json(lan.send_json("PUT", "/api/sessions/9/agenda", &json!({"items": []})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Readers read, and only read; nobody unknown reads at all.
    let doc = f.login("doc").await;
    let (status, _) = f
        .json(doc.send_json(
            "POST",
            "/api/sessions/1/notes",
            &json!({"at_ms": 4500, "kind": "applause"}),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = f
        .json(doc.send_json("PUT", "/api/sessions/1/agenda", &json!({"items": []})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        f.json(doc.get("/api/sessions/1/record")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        f.json(get("/api/sessions/1/record")).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn notes_and_the_record_reach_live_clients_and_undo() {
    let f = fixture();
    let (addr, stop, server) = listen(&f).await;
    let doc = f.login("doc").await;
    let mut watching = connect_ws(&addr, &doc.cookie, 1).await;
    let lan = f.login("lan").await;

    let (status, out) = f
        .json(lan.send_json(
            "PUT",
            "/api/sessions/1/agenda",
            &json!({"items": [{"title": "Luật Đất đai", "start_segment_id": 2}]}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let event = next_event(&mut watching).await;
    assert_eq!(event["type"], "agenda");
    assert_eq!(event["items"][0]["title"], "Luật Đất đai");
    assert_eq!(event["operation_id"], out["operation_id"]);

    let (status, out) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/notes",
            &json!({"at_ms": 4500, "kind": "applause", "text": "Hội trường vỗ tay"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let note = out["note"].clone();
    let event = next_event(&mut watching).await;
    assert_eq!(event["type"], "note");
    assert_eq!(event["deleted"], false);
    assert_eq!(event["note"], note);

    // The record: segment 1 before the first item, a note, then the item.
    let (status, record) = f.json(doc.get("/api/sessions/1/record")).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    let items = record["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items[0]["item"].is_null());
    assert_eq!(items[0]["entries"][0]["type"], "speech");
    assert_eq!(items[0]["entries"][0]["segment_ids"], json!([1]));
    assert_eq!(items[0]["entries"][1]["type"], "note");
    assert_eq!(items[0]["entries"][1]["text"], "Hội trường vỗ tay");
    assert_eq!(items[1]["item"]["title"], "Luật Đất đai");
    assert_eq!(items[1]["entries"][0]["segment_ids"], json!([2, 3]));
    assert_eq!(items[1]["entries"][0]["start_ms"], 5_000);
    assert_eq!(items[1]["entries"][0]["end_ms"], 14_000);

    // A stale edit is a 409 with the note; a current one is published.
    let id = note["id"].as_i64().unwrap();
    let (status, out) = f
        .json(lan.send_json(
            "PATCH",
            &format!("/api/notes/{id}"),
            &json!({"version": 0, "kind": "gavel"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    assert_eq!(out["current"], note);
    let (status, out) = f
        .json(lan.send_json(
            "PATCH",
            &format!("/api/notes/{id}"),
            &json!({"version": 1, "kind": "gavel", "text": ""}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(next_event(&mut watching).await["note"]["kind"], "gavel");

    let (status, out) = f
        .json(lan.send_json(
            "DELETE",
            &format!("/api/notes/{id}?version=2"),
            &json!(null),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let event = next_event(&mut watching).await;
    assert_eq!(
        (event["deleted"].clone(), event["note"]["id"].clone()),
        (json!(true), json!(id))
    );
    let (_, notes) = f.json(doc.get("/api/sessions/1/notes")).await;
    assert_eq!(notes, json!([]));

    // Undoing the deletion brings the note back.
    let op = out["operation_id"].as_i64().unwrap();
    let (status, out) = f
        .json(lan.send_json("POST", &format!("/api/operations/{op}/undo"), &json!(null)))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (_, notes) = f.json(doc.get("/api/sessions/1/notes")).await;
    assert_eq!(notes[0]["id"], id);
    assert_eq!(notes[0]["kind"], "gavel");
    let _ = stop.send(());
    server.await.unwrap();
}

#[tokio::test]
async fn an_undone_agenda_or_note_change_has_its_live_messages() {
    let f = fixture();
    let lan = f.login("lan").await;
    let (_, set) = f
        .json(lan.send_json(
            "PUT",
            "/api/sessions/1/agenda",
            &json!({"items": [{"title": "Luật Đất đai", "start_segment_id": 2}]}),
        ))
        .await;
    let (_, added) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/notes",
            &json!({"at_ms": 4500, "kind": "vote", "text": "Biểu quyết"}),
        ))
        .await;
    let messages = |op: i64| -> Vec<Value> {
        let store = Store::open(&f.root.join("tocky.db")).unwrap();
        tocky_server::agenda::operation_events(&store, op)
            .iter()
            .map(|e| {
                assert_eq!(e.session_id, 1);
                serde_json::from_str(&e.json).unwrap()
            })
            .collect()
    };
    for change in [&set, &added] {
        let op = change["operation_id"].as_i64().unwrap();
        let (status, out) = f
            .json(lan.send_json("POST", &format!("/api/operations/{op}/undo"), &json!(null)))
            .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        let undo = out["operation_id"].as_i64().unwrap();
        let events = messages(undo);
        assert_eq!(events.len(), 1, "{events:?}");
        if change == &set {
            assert_eq!(
                events[0],
                json!({"type": "agenda", "operation_id": undo, "items": []})
            );
        } else {
            assert_eq!(events[0]["type"], "note");
            assert_eq!(events[0]["deleted"], true);
            assert_eq!(events[0]["note"]["id"], added["note"]["id"]);
        }
    }
    assert!(messages(999).is_empty());
}
