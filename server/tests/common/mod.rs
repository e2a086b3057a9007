//! What the server's integration tests share: a record with sessions,
//! accounts and an audio file, requests through the router, logins, and
//! the server on a real socket.

// Test helpers panic on failure by design; each test binary uses some.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    dead_code,
    unreachable_pub,
    unused_imports
)]

pub use std::path::{Path, PathBuf};

pub use axum::Router;
pub use axum::body::Body;
pub use axum::http::{Request, StatusCode, header};
pub use http_body_util::BodyExt;
pub use serde_json::{Value, json};
pub use tocky_core::document::{DecoderInfo, SourceInfo, TranscriptDocument};
pub use tocky_core::{Segment, Transcript, Word};
pub use tocky_server::{AppState, Limits, ServerConfig, app, auth::hash_password};
pub use tocky_store::{Role, SessionMeta, Store};
/// A transcript of one segment per text, 4 s long every 5 s, a word
/// every 400 ms (shared with the other crates' tests).
pub use tocky_test_support::doc;
pub use tower::ServiceExt;

pub const PASSWORD: &str = "mật khẩu thử";
/// The size of the fake audio file.
pub const AUDIO_BYTES: usize = 10_000;

/// A record with two sessions (the second's audio name tries to climb out
/// of the media directory), four accounts, and an audio file.
pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub state: AppState,
}

pub fn fixture_with(configure: impl FnOnce(&mut ServerConfig)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let media = root.join("media");
    std::fs::create_dir(&media).unwrap();
    let audio: Vec<u8> = (0..AUDIO_BYTES).map(|i| (i % 251) as u8).collect();
    std::fs::write(media.join("phien.wav"), audio).unwrap();
    std::fs::write(root.join("secret.wav"), b"secret").unwrap();
    let db = root.join("tocky.db");
    {
        let mut store = Store::open(&db).unwrap();
        let meta = SessionMeta {
            title: Some("Phiên họp thứ nhất".into()),
            sitting_date: Some("2026-10-21".into()),
            agenda_item: None,
        };
        store
            .ingest(
                &doc(
                    "phien.wav",
                    'a',
                    &["Kính thưa Quốc hội", "luật đất đai sửa đổi", "xin cảm ơn"],
                ),
                &meta,
                "test",
            )
            .unwrap();
        store
            .ingest(
                &doc("../secret.wav", 'b', &["khác"]),
                &SessionMeta::default(),
                "test",
            )
            .unwrap();
        // One hash for all: argon2 is deliberately slow.
        let hash = hash_password(PASSWORD).unwrap();
        for (name, role) in [
            ("admin", Role::Admin),
            ("lan", Role::Stenographer),
            ("minh", Role::Stenographer),
            ("doc", Role::Reader),
        ] {
            store.add_user(name, &hash, role, "test").unwrap();
        }
    }
    let mut config = ServerConfig {
        db,
        media_dirs: vec![media],
        ..ServerConfig::default()
    };
    configure(&mut config);
    let state = AppState::new(config).unwrap();
    Fixture {
        _dir: dir,
        root,
        state,
    }
}

pub fn fixture() -> Fixture {
    fixture_with(|_| {})
}

impl Fixture {
    pub fn app(&self) -> Router {
        app(self.state.clone())
    }

    pub async fn send(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let response = self.app().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    pub async fn json(&self, request: Request<Body>) -> (StatusCode, Value) {
        let (status, _, body) = self.send(request).await;
        let value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body).unwrap_or_else(|_| {
                panic!("not JSON ({status}): {}", String::from_utf8_lossy(&body))
            })
        };
        (status, value)
    }

    /// Logs in; returns the cookie and the CSRF token.
    pub async fn login(&self, user: &str) -> Login {
        let response = self
            .app()
            .oneshot(post_json(
                "/api/login",
                &json!({"username": user, "password": PASSWORD}),
            ))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "login {user}");
        let cookie = response
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let me: Value = serde_json::from_slice(&body).unwrap();
        Login {
            cookie: cookie.split(';').next().unwrap().to_owned(),
            csrf: me["csrf_token"].as_str().unwrap().to_owned(),
        }
    }
}

pub struct Login {
    pub cookie: String,
    pub csrf: String,
}

impl Login {
    pub fn get(&self, uri: &str) -> Request<Body> {
        Request::get(uri)
            .header(header::COOKIE, &self.cookie)
            .body(Body::empty())
            .unwrap()
    }

    pub fn send_json(&self, method: &str, uri: &str, body: &Value) -> Request<Body> {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    }
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

pub fn post_json(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// The server on a real socket, for what `oneshot` cannot do (WebSocket).
pub async fn listen(
    f: &Fixture,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = f.state.clone();
    let server = tokio::spawn(async move {
        tocky_server::serve(listener, state, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (format!("127.0.0.1:{}", addr.port()), stop, server)
}

/// The live handshake request for `session`, logged in with `cookie`.
pub fn live_request(
    addr: &str,
    cookie: &str,
    session: i64,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{addr}/api/sessions/{session}/live")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    request
}

pub async fn connect_ws(
    addr: &str,
    cookie: &str,
    session: i64,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    tokio_tungstenite::connect_async(live_request(addr, cookie, session))
        .await
        .unwrap()
        .0
}

/// A WebSocket handshake to session 1's live route: the socket, or the
/// HTTP status it was refused with.
pub async fn try_ws(
    addr: &str,
    cookie: &str,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    StatusCode,
> {
    use tokio_tungstenite::tungstenite::Error;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{addr}/api/sessions/1/live")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(Error::Http(response)) => {
            assert!(response.headers().contains_key(header::RETRY_AFTER));
            Err(response.status())
        }
        Err(e) => panic!("handshake failed outside HTTP: {e}"),
    }
}
