//! The review server's live channel on a real socket: edits reach live
//! clients and shutdown closes them, a login is needed when reading is
//! private, a full house is told so and a burst of handshakes cannot
//! overshoot the limit.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

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
