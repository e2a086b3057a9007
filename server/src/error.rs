//! The one error type of this crate, and how errors become HTTP answers.
//!
//! [`Error`] is why the server could not start or stopped. [`ApiError`] is
//! what a request gets: a status and `{"error": "…"}`. Client errors say
//! what was wrong; internal errors are logged here and answered with a
//! bare "internal error", so that no detail leaks.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tocky_store::StoredSegment;

/// Why the server could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listener failed.
    #[error("serving HTTP failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The configuration could not be read.
    #[error("configuration: {0}")]
    Config(#[from] Box<figment::Error>),
    /// The configuration was read but holds a value that cannot be used.
    #[error("configuration: {0}")]
    InvalidConfig(String),
    /// The store could not be opened.
    #[error("opening the record: {0}")]
    Store(#[from] tocky_store::Error),
    /// The search index could not be opened.
    #[error("opening the search index: {0}")]
    Index(#[from] tocky_index::Error),
    /// A password could not be hashed.
    #[error("hashing a password: {0}")]
    PasswordHash(String),
}

/// What a failed request is answered with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// Not logged in.
    #[error("log in first")]
    Unauthorized,
    /// Logged in, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// The body is over the limit.
    #[error("the request body is over the server's size limit")]
    PayloadTooLarge,
    /// An edit against a stale version; carries the segment as it is now.
    #[error("this segment was changed by someone else (now version {}); merge and save again", current.version)]
    Conflict {
        /// The segment as stored now.
        current: Box<StoredSegment>,
    },
    /// A change of an agenda item or a scene note against a stale
    /// version; carries the row as it is now (as [`Self::Conflict`] does
    /// the segment).
    #[error("{message}")]
    Stale {
        /// What happened, for people.
        message: String,
        /// The row as stored now.
        current: serde_json::Value,
    },
    /// A clash that is not an edit (an account that exists …).
    #[error("{0}")]
    Clash(String),
    /// Too many attempts; try again after this many seconds.
    #[error("too many login attempts; try again in {0} s")]
    TooManyRequests(u64),
    /// One client sent too many requests; try again after this many seconds.
    #[error("too many requests; try again in {0} s")]
    RateLimited(u64),
    /// The server is at a limit (live clients …); try again after this many
    /// seconds.
    #[error("the server is busy ({reason}); try again in {retry_after} s")]
    Busy {
        /// What is at its limit.
        reason: String,
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The route exists, but not with this method.
    #[error("this route does not take that method")]
    MethodNotAllowed,
    /// A failure of ours; the detail is logged, not answered.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// An internal error, from anything that can be shown in the log.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Conflict { .. } | Self::Stale { .. } | Self::Clash(_) => StatusCode::CONFLICT,
            Self::TooManyRequests(_) | Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.to_string();
        let mut response = match self {
            Self::Internal(detail) => {
                tracing::error!("internal error: {detail}");
                (status, Json(json!({ "error": message }))).into_response()
            }
            Self::Conflict { current } => (
                status,
                Json(json!({ "error": message, "current": current })),
            )
                .into_response(),
            Self::Stale { current, .. } => (
                status,
                Json(json!({ "error": message, "current": current })),
            )
                .into_response(),
            Self::TooManyRequests(secs)
            | Self::RateLimited(secs)
            | Self::Busy {
                retry_after: secs, ..
            } => {
                let mut r = (status, Json(json!({ "error": message }))).into_response();
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
            _ => (status, Json(json!({ "error": message }))).into_response(),
        };
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        response
    }
}

impl From<tocky_store::Error> for ApiError {
    fn from(e: tocky_store::Error) -> Self {
        use tocky_store::Error as E;
        match e {
            E::UnknownSession(_)
            | E::UnknownSegment(_)
            | E::UnknownRevision { .. }
            | E::UnknownUser(_)
            | E::UnknownSpeaker(_)
            | E::UnknownOperation(_)
            | E::UnknownAgendaItem(_)
            | E::UnknownNote(_)
            | E::UnknownJob(_)
            | E::UnknownVersion { .. } => Self::NotFound(e.to_string()),
            E::Conflict { current } => Self::Conflict { current },
            E::AgendaConflict { ref current } => Self::Stale {
                message: e.to_string(),
                current: json!(current),
            },
            E::NoteConflict { ref current } => Self::Stale {
                message: e.to_string(),
                current: json!(current),
            },
            E::UserExists(_)
            | E::ApiTokenExists(_)
            | E::UndoRefused { .. }
            | E::WorkflowRefused { .. }
            | E::LeaseLost { .. }
            | E::JobRefused { .. } => Self::Clash(e.to_string()),
            // A person named in a request body is bad input, not a missing page.
            E::Invalid(_) | E::Document(_) | E::UnknownPerson(_) | E::InvalidPerson { .. } => {
                Self::BadRequest(e.to_string())
            }
            E::Sqlite(_) | E::Migration(_) | E::Io { .. } => Self::internal(e),
        }
    }
}

impl From<tocky_index::Error> for ApiError {
    fn from(e: tocky_index::Error) -> Self {
        match e {
            tocky_index::Error::InvalidQuery(_) => Self::BadRequest(e.to_string()),
            tocky_index::Error::Store(e) => e.into(),
            e => Self::internal(e),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::PayloadTooLarge;
        }
        Self::BadRequest(r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::BadRequest(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::BadRequest(r.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak_their_detail() {
        let r = ApiError::internal("secret path /etc/x").into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(ApiError::internal("secret").to_string(), "internal error");
    }
}
