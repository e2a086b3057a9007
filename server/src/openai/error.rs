//! Errors of the `/v1` routes, in OpenAI's shape:
//! `{"error": {"message", "type", "param", "code"}}`, so that OpenAI's
//! SDKs raise their usual exceptions (`AuthenticationError`,
//! `RateLimitError` …) with tocky's message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;

/// What a failed `/v1` request is answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What was wrong, for people.
    pub message: String,
    /// OpenAI's error type (`invalid_request_error`, `server_error` …).
    pub kind: &'static str,
    /// The request parameter at fault, if one is.
    pub param: Option<&'static str>,
    /// A machine-readable code (`invalid_api_key`, `model_not_found` …).
    pub code: Option<&'static str>,
    /// Seconds to wait before trying again (429, 503).
    pub retry_after: Option<u64>,
}

impl OpenAiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            param: None,
            code: None,
            retry_after: None,
        }
    }

    /// 400: the request is wrong; `param` names the field.
    pub fn invalid(param: Option<&'static str>, message: impl Into<String>) -> Self {
        Self {
            param,
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
        }
    }

    /// 401: no key, or one that is wrong or revoked.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            code: Some("invalid_api_key"),
            ..Self::new(StatusCode::UNAUTHORIZED, "invalid_request_error", message)
        }
    }

    /// 403: a key whose role may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission_error", message)
    }

    /// 404: no such model or route.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code: Some(code),
            ..Self::new(StatusCode::NOT_FOUND, "invalid_request_error", message)
        }
    }

    /// 413: the file is over the synchronous limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self {
            param: Some("file"),
            code: Some("file_too_large"),
            ..Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                message,
            )
        }
    }

    /// 429: too many failed keys from this address.
    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            code: Some("rate_limit_exceeded"),
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                format!("too many failed API keys from this address; try again in {retry_after} s"),
            )
        }
    }

    /// 503: no model, or the model is taken and the queue full.
    pub fn unavailable(
        code: &'static str,
        message: impl Into<String>,
        retry_after: Option<u64>,
    ) -> Self {
        Self {
            code: Some(code),
            retry_after,
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", message)
        }
    }

    /// 500: our failure; the detail is logged, not answered.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("/v1: internal error: {detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "internal error",
        )
    }
}

impl From<ApiError> for OpenAiError {
    /// The store's and the server's errors, as the `/v1` routes answer them.
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::BadRequest(m) => Self::invalid(None, m),
            ApiError::TooManyRequests(s) | ApiError::RateLimited(s) => Self::rate_limited(s),
            ApiError::Busy {
                reason,
                retry_after,
            } => Self::unavailable(
                "server_busy",
                format!("the server is busy ({reason})"),
                Some(retry_after),
            ),
            ApiError::PayloadTooLarge => Self::too_large(e.to_string()),
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        });
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            headers.insert(header::RETRY_AFTER, v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tocky\""),
            );
        }
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        response
    }
}
