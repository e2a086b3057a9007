//! Live updates over WebSocket: edits, new segments and partial text, as
//! they happen, to everyone watching a session.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde::Serialize;
use tocky_store::{Speaker, StoredSegment};
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::broadcast::error::RecvError;

use crate::ApiPath;
use crate::auth::Viewer;
use crate::error::ApiError;
use crate::state::AppState;

/// An event, serialised once for every client that receives it.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    /// The session it concerns.
    pub session_id: i64,
    /// The JSON text sent to clients.
    pub json: Arc<str>,
}

/// The messages clients receive.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum LiveMessage<'a> {
    /// A segment was edited or added.
    Segment {
        /// The segment as stored now.
        segment: &'a StoredSegment,
    },
    /// A speaker was added to the session.
    Speaker {
        /// The new speaker.
        speaker: &'a Speaker,
    },
    /// Text that live recognition has not finalised yet.
    Partial {
        /// The audio channel.
        channel: u32,
        /// The channel's speaker, if known.
        speaker_id: Option<i64>,
        /// Where the utterance started (ms).
        start_ms: i64,
        /// The text so far.
        text: &'a str,
    },
}

impl LiveEvent {
    /// Serialises `message` for `session_id`'s watchers.
    pub fn new(session_id: i64, message: &LiveMessage<'_>) -> Self {
        let json = serde_json::to_string(message).unwrap_or_else(|_| "{}".into());
        Self {
            session_id,
            json: json.into(),
        }
    }
}

/// `GET /api/sessions/{id}/live`: upgrades to a WebSocket.
pub(crate) async fn live(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(session_id): ApiPath<i64>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    viewer.require_read()?;
    state
        .with_store(move |store, _| Ok(store.session(session_id)?))
        .await?;
    let upgrade = upgrade.map_err(|r| ApiError::BadRequest(r.body_text()))?;
    let limits = &state.config().limits;
    // Taken before the upgrade, not counted after it: otherwise a burst of
    // handshakes all pass the check before any of them is counted.
    let Some(permit) = state.live_client_permit() else {
        return Err(ApiError::Busy {
            reason: format!("{} live clients connected", limits.ws_max_clients),
            retry_after: 5,
        });
    };
    let max = limits.ws_max_message_bytes;
    // The closure owns the permit: it is released when the client leaves,
    // or when the closure is dropped because the upgrade never completed.
    Ok(upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| watch(socket, state, session_id, permit)))
}

/// Forwards the session's events until the client leaves, falls silent or
/// the server shuts down. `_permit` is the client's place under
/// `limits.ws_max_clients`, given back when this returns.
async fn watch(
    mut socket: WebSocket,
    state: AppState,
    session_id: i64,
    _permit: OwnedSemaphorePermit,
) {
    let mut events = state.subscribe();
    let mut shutdown = state.shutdown_signal();
    let idle = state.config().limits.ws_idle();
    let mut ping = tokio::time::interval(idle / 2);
    ping.tick().await;
    let mut last_heard = tokio::time::Instant::now();
    let _client = state.metrics().ws_client();
    if *shutdown.borrow_and_update() {
        return;
    }
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(event) if event.session_id == session_id => {
                    if !send_within(&mut socket, Message::Text(Utf8Bytes::from(&*event.json)), idle).await {
                        break;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    // Too slow to keep up: tell the client to reload.
                    if !send_within(&mut socket, Message::Text(r#"{"type":"resync"}"#.into()), idle).await {
                        break;
                    }
                }
                Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                // Clients send nothing but pings and pongs; both prove life.
                Some(Ok(_)) => last_heard = tokio::time::Instant::now(),
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > idle {
                    let _ = send_within(&mut socket, Message::Close(Some(CloseFrame { code: 1001, reason: "idle".into() })), idle).await;
                    break;
                }
                if !send_within(&mut socket, Message::Ping(Default::default()), idle).await {
                    break;
                }
            }
            _ = shutdown.changed() => {
                let _ = send_within(&mut socket, Message::Close(Some(CloseFrame { code: 1001, reason: "server shutting down".into() })), idle).await;
                break;
            }
        }
    }
}

/// Sends `message`, giving up after `limit`: a client that stops reading
/// fills its TCP window, and a send without a limit would then wait for it
/// forever (and with it the idle check and the shutdown). False when the
/// client is gone or too slow.
async fn send_within(socket: &mut WebSocket, message: Message, limit: Duration) -> bool {
    matches!(
        tokio::time::timeout(limit, socket.send(message)).await,
        Ok(Ok(()))
    )
}
