//! Live updates over WebSocket: edits, new segments and partial text, as
//! they happen, to everyone watching a session.
//!
//! A socket lives only as long as the login that opened it: a logout,
//! password change, removal or role change made through this server closes
//! it at once ([`Revocation`]), and every `limits.ws_recheck_secs` the
//! socket checks its login in the store, which catches changes made by
//! `tocky user` and expiry. The handshake must come from the server's own
//! pages (or an allowed origin), and one client may hold only
//! `limits.ws_max_clients_per_client` sockets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;
use tocky_core::live::{CaptureHealth, LiveOutput, PartialText};
use tocky_store::{Role, Speaker, StoredSegment};
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::broadcast::error::RecvError;

use crate::ApiPath;
use crate::auth::{Viewer, unix_now};
use crate::client::{ClientAddr, origin_allowed};
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
    /// An operation (split, merge, insert, state, bounds, undo) wrote
    /// these segments; those whose state is `removed` left the session.
    Operation {
        /// The operation, for undo.
        operation_id: i64,
        /// What it was.
        kind: &'a str,
        /// The segments as stored now.
        segments: &'a [StoredSegment],
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

/// The review server watches live sittings (`tocky live` hands its
/// state to `tocky_live::run`): partials and stored finals go to the
/// session's WebSocket watchers, latencies, speed and capture health to
/// `/metrics`. The trait is tocky-core's, so that the live pipeline does
/// not depend on the server, nor the server on the pipeline.
impl LiveOutput<StoredSegment> for AppState {
    fn partial(&self, session_id: i64, partial: &PartialText<'_>) {
        self.publish(LiveEvent::new(
            session_id,
            &LiveMessage::Partial {
                channel: partial.channel,
                speaker_id: partial.speaker_id,
                start_ms: i64::try_from(partial.start_ms).unwrap_or(i64::MAX),
                text: partial.text,
            },
        ));
    }

    fn segment(&self, session_id: i64, segment: &StoredSegment) {
        self.publish(LiveEvent::new(
            session_id,
            &LiveMessage::Segment { segment },
        ));
    }

    fn first_partial_latency(&self, channel: u32, seconds: f64) {
        self.metrics()
            .live()
            .first_partial_latency(channel, seconds);
    }

    fn final_latency(&self, channel: u32, seconds: f64) {
        self.metrics().live().final_latency(channel, seconds);
    }

    fn channel_progress(&self, channel: u32, realtime_factor: f64, audio_seconds: f64) {
        self.metrics()
            .live()
            .channel_progress(channel, realtime_factor, audio_seconds);
    }

    fn capture(&self, health: &CaptureHealth) {
        self.metrics().live().capture(
            health.ring_fill,
            health.overruns,
            health.gaps,
            health.missing_seconds,
        );
    }
}

/// Why live sockets should check their login again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// This login (the SHA-256 of its token) ended.
    Login(String),
    /// This account's logins ended, or its role changed, or it was removed.
    User(String),
}

/// Live sockets held per client (an account, else an address).
pub(crate) struct LiveSeats {
    held: Arc<Mutex<HashMap<String, usize>>>,
    max: usize,
}

/// One client's socket, counted until dropped.
pub(crate) struct Seat {
    held: Arc<Mutex<HashMap<String, usize>>>,
    client: String,
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = held.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.client);
            }
        }
    }
}

impl LiveSeats {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            held: Arc::new(Mutex::new(HashMap::new())),
            max,
        }
    }

    /// A seat for `client`, or none when it holds the most it may.
    fn take(&self, client: String) -> Option<Seat> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let n = held.entry(client.clone()).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Seat {
            held: Arc::clone(&self.held),
            client,
        })
    }
}

/// What a socket must keep having to stay open: the login it was opened
/// with, and that login's account and role.
#[derive(Debug, Clone)]
struct Holder {
    login: String,
    name: String,
    role: Role,
}

/// `GET /api/sessions/{id}/live`: upgrades to a WebSocket.
pub(crate) async fn live(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    ApiPath(session_id): ApiPath<i64>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    viewer.require_read()?;
    // A page elsewhere must not open a socket with the user's cookie.
    if !origin_allowed(&headers, &state.config().allowed_origins) {
        return Err(ApiError::Forbidden(
            "this page's origin may not open the live feed".into(),
        ));
    }
    state
        .with_store(move |store, _| Ok(store.session(session_id)?))
        .await?;
    let upgrade = upgrade.map_err(|r| ApiError::BadRequest(r.body_text()))?;
    let limits = &state.config().limits;
    let holder = match (viewer.login(), &viewer.user) {
        (Some(login), Some(user)) => Some(Holder {
            login: login.to_owned(),
            name: user.name.clone(),
            role: user.role,
        }),
        _ => None,
    };
    let client = match (&holder, client) {
        (Some(h), _) => format!("user {}", h.name),
        (None, Some(Extension(ClientAddr(ip)))) => {
            format!("address {}", crate::login_limit::limit_key(ip))
        }
        (None, None) => "unknown".to_owned(),
    };
    let Some(seat) = state.live_seats().take(client) else {
        return Err(ApiError::RateLimited(5));
    };
    // Taken before the upgrade, not counted after it: otherwise a burst of
    // handshakes all pass the check before any of them is counted.
    let Some(permit) = state.live_client_permit() else {
        return Err(ApiError::Busy {
            reason: format!("{} live clients connected", limits.ws_max_clients),
            retry_after: 5,
        });
    };
    let max = limits.ws_max_message_bytes;
    // The closure owns the permit and the seat: they are released when the
    // client leaves, or when the closure is dropped because the upgrade
    // never completed.
    Ok(upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| watch(socket, state, session_id, holder, (permit, seat))))
}

/// Whether `holder`'s login still holds with the same role. A store error
/// keeps the socket (the next check decides).
async fn still_holds(state: &AppState, holder: &Holder) -> bool {
    let login = holder.login.clone();
    match state
        .with_store(move |store, _| Ok(store.login(&login, unix_now())?))
        .await
    {
        Ok(Some((user, _))) => user.name == holder.name && user.role == holder.role,
        Ok(None) => false,
        Err(_) => true,
    }
}

/// Forwards the session's events until the client leaves, falls silent,
/// its login ends or the server shuts down. `_places` are the client's
/// places under `limits.ws_max_clients` and
/// `limits.ws_max_clients_per_client`, given back when this returns.
async fn watch(
    mut socket: WebSocket,
    state: AppState,
    session_id: i64,
    holder: Option<Holder>,
    _places: (OwnedSemaphorePermit, Seat),
) {
    let mut events = state.subscribe();
    let mut revocations = state.revocations();
    let mut recheck = tokio::time::interval(state.config().limits.ws_recheck());
    recheck.tick().await;
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
            revoked = revocations.recv(), if holder.is_some() => {
                let concerns = match (&revoked, &holder) {
                    (Ok(Revocation::Login(login)), Some(h)) => *login == h.login,
                    (Ok(Revocation::User(name)), Some(h)) => *name == h.name,
                    // Missed some: check.
                    (Err(RecvError::Lagged(_)), _) => true,
                    _ => false,
                };
                if concerns && !holds(&state, holder.as_ref()).await {
                    let _ = send_within(&mut socket, ended(), idle).await;
                    break;
                }
            }
            _ = recheck.tick(), if holder.is_some() => {
                if !holds(&state, holder.as_ref()).await {
                    let _ = send_within(&mut socket, ended(), idle).await;
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

async fn holds(state: &AppState, holder: Option<&Holder>) -> bool {
    match holder {
        Some(h) => still_holds(state, h).await,
        None => true,
    }
}

/// The close frame of a socket whose login ended or changed (4401: the
/// client should log in again before it reconnects).
fn ended() -> Message {
    Message::Close(Some(CloseFrame {
        code: 4401,
        reason: "login ended or changed".into(),
    }))
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
