//! Segment operations through the API: split, merge, insert, not speech,
//! bounds and undo; their conflicts, bad input, roles, search and live
//! updates. Session 1 holds "Kính thưa Quốc hội" (0–4 s), "luật đất đai
//! sửa đổi" (5–9 s) and "xin cảm ơn" (10–14 s), segments 1–3.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

async fn texts(f: &Fixture, login: &Login) -> Vec<String> {
    let (status, list) = f.json(login.get("/api/sessions/1/segments")).await;
    assert_eq!(status, StatusCode::OK);
    list.as_array()
        .unwrap()
        .iter()
        .filter(|s| s["state"] == "speech")
        .map(|s| s["text"].as_str().unwrap().to_owned())
        .collect()
}

async fn search_count(f: &Fixture, login: &Login, q: &str) -> usize {
    let (status, body) = f.json(login.get(&format!("/api/search?q={q}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["hits"].as_array().unwrap().len()
}

#[tokio::test]
async fn split_merge_and_undo_keep_the_record_search_and_history_straight() {
    let f = fixture();
    let lan = f.login("lan").await;
    let (status, out) = f
        .json(lan.send_json(
            "POST",
            "/api/segments/2/split",
            &json!({"version": 1, "at": {"word": 2}}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let segs = out["segments"].as_array().unwrap();
    assert_eq!(segs[0]["text"], "luật đất");
    assert_eq!(segs[1]["text"], "đai sửa đổi");
    // The right half starts where its first word was said.
    assert_eq!(segs[1]["start_ms"], 5_800);
    let right = segs[1]["id"].as_i64().unwrap();
    assert_eq!(
        texts(&f, &lan).await,
        [
            "Kính thưa Quốc hội",
            "luật đất",
            "đai sửa đổi",
            "xin cảm ơn"
        ]
    );
    // Search finds the halves, each on its own.
    assert_eq!(search_count(&f, &lan, "%22dat+dai%22").await, 0);
    assert_eq!(search_count(&f, &lan, "sua+doi").await, 1);

    // A merge joins them again.
    let (status, merged) = f
        .json(lan.send_json(
            "POST",
            "/api/segments/2/merge",
            &json!({"version": 2, "next_id": right, "next_version": 1}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    assert_eq!(merged["segments"][0]["text"], "luật đất đai sửa đổi");
    assert_eq!(merged["segments"][1]["state"], "removed");
    assert_eq!(search_count(&f, &lan, "%22dat+dai%22").await, 1);

    // Undoing the merge gives the halves back; the history shows both operations.
    let op = merged["operation_id"].as_i64().unwrap();
    let (status, undone) = f
        .json(lan.send_json("POST", &format!("/api/operations/{op}/undo"), &json!({})))
        .await;
    assert_eq!(status, StatusCode::OK, "{undone}");
    assert_eq!(texts(&f, &lan).await.len(), 4);
    let (status, again) = f
        .json(lan.send_json("POST", &format!("/api/operations/{op}/undo"), &json!({})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert!(again["error"].as_str().unwrap().contains("undone already"));
    let (_, ops) = f.json(lan.get("/api/sessions/1/operations")).await;
    let kinds: Vec<_> = ops
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["undo", "merge", "split"]);

    // Restoring the split's revision of segment 2 undoes the split itself.
    let (_, revisions) = f.json(lan.get("/api/segments/2/revisions")).await;
    let split_revision = revisions
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["version"] == 2)
        .unwrap()
        .clone();
    assert!(split_revision["operation_id"].is_i64());
    let (_, now) = f.json(lan.get("/api/sessions/1/segments")).await;
    let version = now[1]["version"].as_i64().unwrap();
    let (status, restored) = f
        .json(lan.send_json(
            "POST",
            "/api/segments/2/restore",
            &json!({"revision_id": split_revision["id"], "version": version}),
        ))
        .await;
    // The undo of the merge moved both halves on, so the split's rows are
    // not as it left them: refused, saying which segment changed.
    assert_eq!(status, StatusCode::CONFLICT, "{restored}");
    assert!(
        restored["error"]
            .as_str()
            .unwrap()
            .contains("changed since"),
        "{restored}"
    );
}

#[tokio::test]
async fn one_editor_splits_while_another_edits_the_same_segment() {
    let f = fixture();
    let lan = f.login("lan").await;
    let minh = f.login("minh").await;
    let (status, _) = f
        .json(lan.send_json(
            "POST",
            "/api/segments/1/split",
            &json!({"version": 1, "at": {"char": 9}}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    // Minh still has version 1: his edit is a 409 with the split's left half.
    let (status, body) = f
        .json(minh.send_json(
            "PATCH",
            "/api/segments/1",
            &json!({"version": 1, "text": "Kính thưa Quốc hội ạ"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["current"]["text"], "Kính thưa");
    // And the other way round: an edit first, then a stale split.
    let (status, _) = f
        .json(minh.send_json(
            "PATCH",
            "/api/segments/3",
            &json!({"version": 1, "text": "xin trân trọng cảm ơn"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = f
        .json(lan.send_json(
            "POST",
            "/api/segments/3/split",
            &json!({"version": 1, "at": {"word": 1}}),
        ))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["current"]["text"], "xin trân trọng cảm ơn");
}

#[tokio::test]
async fn bad_operations_get_a_clear_400_and_readers_get_403() {
    let f = fixture();
    let lan = f.login("lan").await;
    for (uri, body, why) in [
        (
            "/api/segments/1/split",
            json!({"version": 1, "at": {"char": 400}}),
            "outside the text",
        ),
        (
            "/api/segments/1/split",
            json!({"version": 1, "at": {"word": 0}}),
            "outside the text",
        ),
        (
            "/api/segments/3/merge",
            json!({"version": 1, "next_id": 4, "next_version": 1}),
            "within one session",
        ),
        (
            "/api/segments/1/merge",
            json!({"version": 1, "next_id": 3, "next_version": 1}),
            "not the one after",
        ),
        (
            "/api/sessions/1/segments",
            json!({"start_ms": 3_000, "end_ms": 6_000, "text": "x"}),
            "overlaps segment",
        ),
        (
            "/api/segments/2/bounds",
            json!({"version": 1, "start_ms": 3_000, "end_ms": 9_000}),
            "crosses segment",
        ),
        (
            "/api/segments/2/bounds",
            json!({"version": 1, "start_ms": 5_000, "end_ms": 10_500}),
            "crosses segment",
        ),
        (
            "/api/segments/2/state",
            json!({"version": 1, "state": "removed"}),
            "by a merge",
        ),
        (
            "/api/sessions/1/segments",
            json!({"start_ms": 4_100, "end_ms": 4_900, "text": "x", "speaker_id": 99}),
            "not in session",
        ),
    ] {
        let (status, answer) = f.json(lan.send_json("POST", uri, &body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} {body}: {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(why), "{uri} {body}: {message}");
    }
    assert_eq!(texts(&f, &lan).await.len(), 3, "nothing changed");
    let doc = f.login("doc").await;
    let (status, _) = f
        .json(doc.send_json(
            "POST",
            "/api/segments/1/split",
            &json!({"version": 1, "at": {"word": 1}}),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = f
        .json(post_json("/api/operations/1/undo", &json!({})))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn insert_not_speech_and_bounds_reach_search_and_live_clients() {
    let f = fixture();
    let (addr, stop, server) = listen(&f).await;
    let doc = f.login("doc").await;
    let mut watching = connect_ws(&addr, &doc.cookie, 1).await;
    let lan = f.login("lan").await;
    let (status, out) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/segments",
            &json!({"start_ms": 4_000, "end_ms": 5_000, "text": "hoan hô"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let inserted = out["segments"][0]["id"].as_i64().unwrap();
    assert_eq!(out["segments"][0]["words_aligned"], false);
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let Message::Text(text) = watching.next().await.unwrap().unwrap() {
                break serde_json::from_str::<Value>(&text).unwrap();
            }
        }
    })
    .await
    .expect("the insert arrives");
    assert_eq!(event["type"], "operation");
    assert_eq!(event["kind"], "insert");
    assert_eq!(event["segments"][0]["id"], inserted);
    assert_eq!(search_count(&f, &lan, "hoan+ho").await, 1);

    let (status, out) = f
        .json(lan.send_json(
            "POST",
            &format!("/api/segments/{inserted}/state"),
            &json!({"version": 1, "state": "not_speech"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(search_count(&f, &lan, "hoan+ho").await, 0);
    // Still listed, to be restored.
    let (_, list) = f.json(lan.get("/api/sessions/1/segments")).await;
    assert_eq!(list[1]["state"], "not_speech");

    let (status, out) = f
        .json(lan.send_json(
            "POST",
            "/api/segments/3/bounds",
            &json!({"version": 1, "start_ms": 10_200, "end_ms": 14_500}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["segments"][0]["start_ms"], 10_200);
    assert_eq!(out["segments"][0]["words_aligned"], false);
    let _ = stop.send(());
    server.await.unwrap();
}

#[tokio::test]
async fn saves_that_leave_words_behind_wake_the_re_timer_and_others_do_not() {
    let f = fixture();
    let lan = f.login("lan").await;
    let wanted = f.state.retime_wanted();
    let woken = || async {
        tokio::time::timeout(std::time::Duration::from_millis(300), wanted.notified())
            .await
            .is_ok()
    };
    // A review status alone leaves the words as they were.
    let (status, _) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/1",
            &json!({"version": 1, "review_status": "reviewed"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!woken().await);
    // New text does not.
    let (status, saved) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/1",
            &json!({"version": 2, "text": "Kính thưa toàn thể Quốc hội"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(saved["words_aligned"], false);
    assert!(woken().await);
    // Nor do new bounds.
    let (status, _) = f
        .json(lan.send_json(
            "POST",
            "/api/segments/2/bounds",
            &json!({"version": 1, "start_ms": 5_100, "end_ms": 9_000}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(woken().await);
}

#[tokio::test]
async fn undoing_an_agenda_change_reaches_live_clients() {
    let f = fixture();
    let (addr, stop, server) = listen(&f).await;
    let doc = f.login("doc").await;
    let mut watching = connect_ws(&addr, &doc.cookie, 1).await;
    let lan = f.login("lan").await;
    let (status, out) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/agenda/start",
            &json!({"segment_id": 2, "title": "Luật Đất đai"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let operation = out["operation_id"].as_i64().expect("an operation id");
    let (status, undone) = f
        .json(lan.send_json(
            "POST",
            &format!("/api/operations/{operation}/undo"),
            &json!({}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{undone}");
    // The watcher hears the start, then the agenda as the undo left it.
    let agendas = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut seen = Vec::new();
        while seen.len() < 2 {
            if let Message::Text(text) = watching.next().await.unwrap().unwrap() {
                let event: Value = serde_json::from_str(&text).unwrap();
                if event["type"] == "agenda" {
                    seen.push(event);
                }
            }
        }
        seen
    })
    .await
    .expect("both agenda messages arrive");
    assert_eq!(agendas[0]["items"].as_array().unwrap().len(), 1);
    assert!(agendas[1]["items"].as_array().unwrap().is_empty());
    let _ = stop.send(());
    server.await.unwrap();
}

#[tokio::test]
async fn a_search_hit_jumps_to_the_corrected_word_once_re_timed() {
    let f = fixture();
    let lan = f.login("lan").await;
    let (status, saved) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/2",
            &json!({"version": 1, "text": "dự thảo luật đất đai sửa đổi"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    // Before re-timing, no stale word time: the letters before "đất" (10
    // of 22) into the segment's 5–9 s.
    assert_eq!(jump_ms(&f, &lan).await, 5_000 + 4_000 * 10 / 22);
    // Once the words follow the text, the jump is the word's own time.
    let words: Vec<Word> = "dự thảo luật đất đai sửa đổi"
        .split_whitespace()
        .enumerate()
        .map(|(k, w)| Word {
            text: w.into(),
            start_ms: 5_000 + k as u64 * 550,
            end_ms: 5_000 + k as u64 * 550 + 500,
            probability: 0.9,
        })
        .collect();
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    let version = saved["version"].as_i64().unwrap();
    assert!(store.set_words(2, version, &words).unwrap());
    assert_eq!(jump_ms(&f, &lan).await, 5_000 + 3 * 550);
}

async fn jump_ms(f: &Fixture, login: &Login) -> i64 {
    let (_, found) = f.json(login.get("/api/search?q=dat+dai")).await;
    found["hits"][0]["jump_ms"].as_i64().unwrap()
}
