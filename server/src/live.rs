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

use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use tocky_store::Role;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::broadcast::error::RecvError;

use crate::ApiPath;
use crate::auth::unix_now;
use crate::client::{ClientAddr, origin_allowed};
use crate::error::ApiError;
// The event types are a leaf of their own (the state and the pipelines
// use them); their paths here are the server's public API.
pub use crate::events::{LiveEvent, LiveMessage, Revocation};
use crate::rate::Seat;
use crate::state::AppState;
use crate::viewer::Viewer;

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
