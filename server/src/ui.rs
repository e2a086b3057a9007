//! The review UI: static files from `server/ui/`, embedded in the binary.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "ui/"]
struct Assets;

fn asset(path: &str) -> Response {
    match Assets::get(path) {
        Some(file) => (
            [
                (header::CONTENT_TYPE, file.metadata.mimetype().to_owned()),
                // Assets change with the binary; revalidate cheaply.
                (header::CACHE_CONTROL, "no-cache".to_owned()),
            ],
            file.data,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// `GET /`: the single page.
pub(crate) async fn index() -> Response {
    asset("index.html")
}

/// `GET /ui/{*path}`.
pub(crate) async fn file(Path(path): Path<String>) -> Response {
    // rust-embed looks names up in its table; nothing here touches the disk
    // in release builds, but refuse climbing anyway.
    if path.split('/').any(|part| part == ".." || part.is_empty()) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    asset(&path)
}
