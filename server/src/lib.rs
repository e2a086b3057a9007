//! tocky's review server: an axum router over the transcript store and the
//! search index, with the review UI embedded.
//!
//! [`app`] builds the router; [`serve`] runs it until a shutdown signal.
//! The API is described in `docs/api.md`. Each concept has its module:
//! [`auth`] (logins, roles, CSRF), [`records`] (sessions, segments,
//! search), [`audio`] (Range requests), [`export`], [`live`] (WebSocket),
//! [`metrics`], [`users`], the [`people`] registry, [`recognise`]
//! (speech in a stretch of audio, on request) and the embedded
//! [`ui`]; [`client`] finds the client's address (behind trusted proxies)
//! and checks `Origin`.

pub mod agenda;
pub mod audio;
pub mod auth;
pub mod client;
pub mod config;
mod conn;
pub mod error;
mod events;
pub mod export;
mod hashing;
pub mod jobs;
pub mod live;
mod login_limit;
pub mod metrics;
pub mod openai;
pub mod ops;
pub mod people;
mod pipeline;
pub mod public;
mod rate;
pub mod recognise;
mod recognition;
pub mod records;
mod scrape;
pub mod state;
pub mod ui;
pub mod uploads;
pub mod users;
mod viewer;
mod workers;
mod workflow;
pub mod written;

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts};
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde::Serialize;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

pub use crate::config::{Limits, ServerConfig};
pub use crate::error::{ApiError, Error};
pub use crate::live::{LiveEvent, LiveMessage};
pub use crate::state::AppState;

/// A JSON body whose rejections answer as [`ApiError`]s (JSON, clear).
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// Path parameters whose rejections answer as [`ApiError`]s.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Query parameters whose rejections answer as [`ApiError`]s.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// What `GET /health` answers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Health {
    /// Always `"ok"` when the server answers.
    pub status: &'static str,
    /// The server's version.
    pub version: &'static str,
}

async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound("no such API route".into())
}

async fn api_method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The page may load only its own scripts, styles and media.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; media-src 'self' blob:; \
    img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The application's router.
pub fn app(state: AppState) -> Router {
    let limits = state.config().limits.clone();
    let api = Router::new()
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/users", get(users::list).post(users::add))
        .route(
            "/users/{name}",
            axum::routing::put(users::change).delete(users::remove),
        )
        .route("/sessions", get(records::sessions))
        .route("/sessions/{id}", get(records::session))
        .route(
            "/sessions/{id}/segments",
            get(records::segments).post(ops::insert),
        )
        .route("/sessions/{id}/recognise", post(recognise::recognise))
        .route("/sessions/{id}/speakers", post(records::add_speaker))
        .route(
            "/sessions/{sid}/speakers/{id}",
            axum::routing::put(people::link_speaker),
        )
        .route("/people", get(people::list).post(people::add))
        .route("/people/import", post(people::import))
        .route("/people/{id}", get(people::one).put(people::change))
        .route("/sessions/{id}/audio", get(audio::audio))
        .route("/sessions/{id}/export/{format}", get(export::export))
        .route("/sessions/{id}/live", get(live::live))
        .route(
            "/segments/{id}",
            axum::routing::patch(records::edit_segment),
        )
        .route("/segments/{id}/revisions", get(records::revisions))
        .route("/segments/{id}/restore", post(records::restore))
        .route("/segments/{id}/split", post(ops::split))
        .route("/segments/{id}/merge", post(ops::merge))
        .route("/segments/{id}/state", post(ops::set_state))
        .route("/segments/{id}/bounds", post(ops::bounds))
        .route("/sessions/{id}/operations", get(ops::operations))
        .route("/operations/{id}/undo", post(ops::undo))
        .route("/sessions/{id}/record", get(agenda::record))
        .route(
            "/sessions/{id}/agenda",
            get(agenda::agenda).put(agenda::put_agenda),
        )
        .route("/sessions/{id}/agenda/start", post(agenda::start))
        .route(
            "/agenda/{id}/start",
            axum::routing::delete(agenda::clear_start),
        )
        .route(
            "/sessions/{id}/notes",
            get(agenda::notes).post(agenda::add_note),
        )
        .route(
            "/notes/{id}",
            axum::routing::patch(agenda::edit_note).delete(agenda::delete_note),
        )
        .route("/search", get(records::search))
        .merge(workflow::routes())
        .nest("/uploads", uploads::routes(&state))
        .nest("/jobs", jobs::routes(&state))
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_method_not_allowed)
        // After a write: a sitting its change sent back to draft is told live.
        .layer(middleware::from_fn_with_state(
            workflow::Reopened::new(state.clone()),
            workflow::announce_reopened,
        ))
        // The record, accounts and CSRF tokens: kept by no cache (audio
        // says `private` itself).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        ))
        // Layers run outside in: authenticate names the client, then its rate is checked.
        .layer(middleware::from_fn_with_state(state.clone(), rate::limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    Router::new()
        .route("/", get(ui::index))
        .route("/ui/{*path}", get(ui::file))
        .route("/health", get(health))
        .route("/metrics", get(scrape::metrics))
        .merge(public::routes(state.clone()))
        .nest("/api", api)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout(),
        ))
        // After the body limit and timeout: /v1 has its own (an upload's,
        // a transcription's).
        .merge(openai::routes(state.clone()))
        .merge(workers::routes(state.clone()))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            client::identify,
        ))
        .with_state(state)
}

/// Serves [`app`] on `listener` until `shutdown` completes, then closes
/// live connections and finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let bound = listener.local_addr().unwrap_or(state.config().bind);
    if state.config().metrics_token.is_none() && !bound.ip().to_canonical().is_loopback() {
        tracing::warn!(
            "/metrics is public on {bound}: set metrics_token (TOCKY_SERVER_METRICS_TOKEN) \
             to require a bearer token or an admin login"
        );
    }
    let limits = state.config().limits.clone();
    let connections = conn::Connections::new(&limits, state.trusted_proxies());
    let closing = state.shutdown_signal();
    let stopping = state.clone();
    // Requests in flight finish within the request timeout; WebSockets
    // close when told to.
    let grace = limits.request_timeout() + std::time::Duration::from_secs(5);
    conn::accept_loop(
        listener,
        app(state),
        limits,
        connections,
        closing,
        async move {
            shutdown.await;
            tracing::info!("shutting down: closing live connections");
            stopping.begin_shutdown();
        },
        grace,
    )
    .await;
    Ok(())
}
