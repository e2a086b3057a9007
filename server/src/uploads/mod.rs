//! Resumable uploads by the tus 1.0 protocol, under `/api/uploads`:
//! [`protocol`] (the headers), [`store`] (the uploads on disk), [`probe`]
//! (whether a file is audio) and the routes.
//!
//! The protocol core is small and what it writes must be durable in a
//! way we can state (fsync before an offset is answered), so it is
//! written here rather than taken from a crate: the one axum tus crate
//! found (fileloft-axum, 0.x) brings its own storage and locking layers
//! that would have to be checked against the same guarantees.

pub mod probe;
pub mod protocol;
mod routes;
pub mod store;

use axum::Router;
use axum::http::HeaderValue;
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

/// The upload routes, to be nested at `/api/uploads` (inside the API's
/// authentication and CSRF check).
pub fn routes(state: &AppState) -> Router<AppState> {
    let config = state.config();
    let uploads = routes::Uploads {
        app: state.clone(),
        store: store::UploadStore::new(config.upload_dir(), config.upload_media_dir()),
    };
    Router::new()
        .route("/", post(routes::create).options(routes::options))
        .route(
            "/{id}",
            get(routes::info)
                .head(routes::head)
                .patch(routes::patch)
                .delete(routes::delete),
        )
        // Every tus answer, errors included, names the protocol version.
        .layer(SetResponseHeaderLayer::overriding(
            protocol::TUS_RESUMABLE,
            HeaderValue::from_static(protocol::TUS_VERSION),
        ))
        .with_state(uploads)
}
