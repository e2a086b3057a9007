//! tocky's HTTP server: an axum router over the transcript store.
//!
//! For now it serves the health check that deployments and the CLI's
//! `serve` command probe; the review UI and its API grow here.

pub mod error;

use axum::{Json, Router, routing::get};
use serde::Serialize;

/// What `GET /health` answers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Health {
    /// Always `"ok"` when the server answers.
    pub status: &'static str,
    /// The server's version.
    pub version: &'static str,
}

/// The application's router.
pub fn app() -> Router {
    Router::new().route("/health", get(health))
}

async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Serves [`app`] on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), error::Error> {
    axum::serve(listener, app())
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(error::Error::Serve)
}
