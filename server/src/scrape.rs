//! `GET /metrics`: the registry ([`crate::metrics`]) in the OpenMetrics
//! text format, for Prometheus (a bearer token) or an admin's browser.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use tocky_store::Role;

use crate::auth::{self, same_secret};
use crate::error::ApiError;
use crate::state::AppState;

/// The token of an `Authorization: Bearer <token>` header (the scheme's
/// case does not matter, RFC 9110 §11.1).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim_start_matches(' '))
}

/// Whether this request may read the metrics: anyone when no
/// `metrics_token` is set; else the token's bearer or a logged-in admin
/// (401 for anyone else not logged in, 403 for an account below admin).
async fn may_read(state: &AppState, jar: &CookieJar, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = state.config().metrics_token.as_deref() else {
        return Ok(());
    };
    if bearer_token(headers).is_some_and(|sent| same_secret(sent, expected)) {
        return Ok(());
    }
    auth::viewer(state, jar).await?.require(Role::Admin)?;
    Ok(())
}

/// `GET /metrics`.
pub(crate) async fn metrics(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = may_read(&state, &jar, &headers).await {
        let unauthorized = matches!(e, ApiError::Unauthorized);
        let mut response = e.into_response();
        if unauthorized {
            // RFC 9110: a 401 names the scheme that would be accepted.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tocky metrics\""),
            );
        }
        return response;
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics().render(),
    )
        .into_response()
}
