//! The defects of issue 14 that need a real socket: half-sent requests,
//! connection caps, idle connections, and live WebSockets that outlive
//! their login, come from elsewhere, or crowd out everyone else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// Whether the server closes `stream` within `within` (reading gives EOF
/// or an error; bytes it answers first are skipped).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn half_sent_requests_are_closed_after_the_header_timeout() {
    let f = fixture_with(|c| c.limits.header_read_timeout_secs = 1);
    let (addr, stop, server) = listen(&f).await;
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    assert!(
        closed_within(&mut slow, Duration::from_secs(5)).await,
        "a request whose headers never end is closed"
    );
    // An idle keep-alive connection is closed the same way.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    assert!(closed_within(&mut idle, Duration::from_secs(5)).await);
    // A whole request is answered.
    let mut ok = TcpStream::connect(&addr).await.unwrap();
    ok.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    ok.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn a_body_that_stops_coming_is_closed_after_the_idle_timeout() {
    let f = fixture_with(|c| {
        c.limits.idle_timeout_secs = 1;
        c.limits.request_timeout_secs = 60;
    });
    let (addr, stop, server) = listen(&f).await;
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(
        b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user",
    )
    .await
    .unwrap();
    assert!(closed_within(&mut slow, Duration::from_secs(5)).await);
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn connections_beyond_the_caps_are_closed_at_once() {
    let f = fixture_with(|c| {
        c.limits.max_connections_per_address = 3;
        c.limits.header_read_timeout_secs = 30;
    });
    let (addr, stop, server) = listen(&f).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        held.push(s);
    }
    // Let the server accept them before the fourth comes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fourth = TcpStream::connect(&addr).await.unwrap();
    assert!(closed_within(&mut fourth, Duration::from_secs(2)).await);
    // Once one leaves, a new one is served.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = TcpStream::connect(&addr).await.unwrap();
    again
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    again.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(held);
    stop.send(()).unwrap();
    server.await.unwrap();

    // The total cap too.
    let f = fixture_with(|c| c.limits.max_connections = 2);
    let (addr, stop, server) = listen(&f).await;
    let _a = TcpStream::connect(&addr).await.unwrap();
    let _b = TcpStream::connect(&addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(&addr).await.unwrap();
    assert!(closed_within(&mut third, Duration::from_secs(2)).await);
    drop((_a, _b));
    stop.send(()).unwrap();
    server.await.unwrap();
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Whether the server closes `socket` within `within`.
async fn ws_closed_within(socket: &mut Socket, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn a_live_socket_closes_when_its_login_ends_or_changes() {
    let f = fixture_with(|c| c.limits.ws_recheck_secs = 1);
    let (addr, stop, server) = listen(&f).await;

    // Logout.
    let doc = f.login("doc").await;
    let mut socket = connect_ws(&addr, &doc.cookie, 1).await;
    let (status, _) = f
        .json(doc.send_json("POST", "/api/logout", &json!({})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        ws_closed_within(&mut socket, Duration::from_secs(3)).await,
        "logout"
    );

    let admin = f.login("admin").await;
    // A password change, a role change and a removal by an admin.
    for change in [
        ("PUT", json!({"password": "một mật khẩu mới"})),
        ("PUT", json!({"role": "reader"})),
        ("DELETE", json!({})),
    ] {
        let minh = f.login("minh").await;
        let mut socket = connect_ws(&addr, &minh.cookie, 1).await;
        let (status, _) = f
            .json(admin.send_json(change.0, "/api/users/minh", &change.1))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{change:?}");
        assert!(
            ws_closed_within(&mut socket, Duration::from_secs(3)).await,
            "{change:?}"
        );
        if change.0 == "PUT" && change.1.get("password").is_some() {
            // Put the password back for the next round.
            let hash = hash_password(PASSWORD).unwrap();
            Store::open(&f.state.config().db)
                .unwrap()
                .set_password_hash("minh", &hash, "test")
                .unwrap();
        }
    }

    // A change made outside the server (`tocky user passwd`) is found by
    // the periodic check.
    let lan = f.login("lan").await;
    let mut socket = connect_ws(&addr, &lan.cookie, 1).await;
    let hash = hash_password("một mật khẩu khác").unwrap();
    Store::open(&f.state.config().db)
        .unwrap()
        .set_password_hash("lan", &hash, "cli")
        .unwrap();
    assert!(
        ws_closed_within(&mut socket, Duration::from_secs(4)).await,
        "cli passwd"
    );

    // A socket whose login holds stays open.
    let mut kept = connect_ws(&addr, &admin.cookie, 1).await;
    assert!(!ws_closed_within(&mut kept, Duration::from_millis(2500)).await);
    stop.send(()).unwrap();
    server.await.unwrap();
}

/// A handshake for session 1 with `cookie` and, if given, an `Origin`:
/// the socket, or the status it was refused with.
async fn handshake(addr: &str, cookie: &str, origin: Option<&str>) -> Result<Socket, StatusCode> {
    let mut request = live_request(addr, cookie, 1);
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert(header::ORIGIN, origin.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status()),
        Err(e) => panic!("handshake failed outside HTTP: {e}"),
    }
}

#[tokio::test]
async fn a_live_handshake_from_another_origin_is_refused() {
    let f = fixture_with(|c| c.allowed_origins = vec!["https://record.example.vn".into()]);
    let (addr, stop, server) = listen(&f).await;
    let doc = f.login("doc").await;
    assert_eq!(
        handshake(&addr, &doc.cookie, Some("https://evil.example"))
            .await
            .err(),
        Some(StatusCode::FORBIDDEN)
    );
    assert_eq!(
        handshake(&addr, &doc.cookie, Some("null")).await.err(),
        Some(StatusCode::FORBIDDEN)
    );
    assert!(
        handshake(&addr, &doc.cookie, Some(&format!("http://{addr}")))
            .await
            .is_ok()
    );
    assert!(
        handshake(&addr, &doc.cookie, Some("https://record.example.vn"))
            .await
            .is_ok()
    );
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn one_client_cannot_take_every_live_slot() {
    let f = fixture_with(|c| c.limits.ws_max_clients_per_client = 2);
    let (addr, stop, server) = listen(&f).await;
    let doc = f.login("doc").await;
    let _a = handshake(&addr, &doc.cookie, None).await.unwrap();
    let _b = handshake(&addr, &doc.cookie, None).await.unwrap();
    assert_eq!(
        handshake(&addr, &doc.cookie, None).await.err(),
        Some(StatusCode::TOO_MANY_REQUESTS)
    );
    // Someone else still gets in.
    let lan = f.login("lan").await;
    assert!(handshake(&addr, &lan.cookie, None).await.is_ok());
    stop.send(()).unwrap();
    server.await.unwrap();
}
