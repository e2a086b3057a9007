//! API keys on the `/v1` routes: `Authorization: Bearer <secret>`, made
//! with `tocky token add`. A key counts as a login of its role. Wrong keys
//! count as failed logins (of the pseudo-account [`KEY_ACCOUNT`]) from
//! their address, so that the login limiter slows guessing and a flood of
//! wrong keys is answered 429; each is written to the audit log as
//! `api_key_failed`, and refusals once a minute as `api_key_refused`.

use axum::Extension;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tocky_store::{ApiToken, Role};

use super::error::OpenAiError;
use crate::client::ClientAddr;
use crate::error::ApiError;
use crate::state::AppState;

/// The name wrong keys are counted and audited under.
pub const KEY_ACCOUNT: &str = "api-key";
/// A header longer than this carries no key of ours (secrets are about
/// 70 bytes): it is refused unread.
const MAX_AUTHORIZATION_BYTES: usize = 512;

/// The key a `/v1` request came with.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's record (never its secret).
    pub token: ApiToken,
}

impl Caller {
    /// The key, if its role is at least `role`: 403 otherwise.
    pub fn require(&self, role: Role) -> Result<&ApiToken, OpenAiError> {
        if self.token.role >= role {
            Ok(&self.token)
        } else {
            Err(OpenAiError::forbidden(format!(
                "this needs the {} role; the API key {} is a {}",
                role.as_str(),
                self.token.name,
                self.token.role.as_str()
            )))
        }
    }

    /// Who the audit log says did it.
    pub fn actor(&self) -> String {
        format!("token:{}", self.token.name)
    }
}

/// The secret of a `Bearer` authorization, if the request has one.
fn bearer(headers: &HeaderMap) -> Result<&str, OpenAiError> {
    let missing = || {
        OpenAiError::unauthorized(
            "no API key: send `Authorization: Bearer <key>` with a key from `tocky token add`",
        )
    };
    let value = headers.get(header::AUTHORIZATION).ok_or_else(missing)?;
    if value.len() > MAX_AUTHORIZATION_BYTES {
        return Err(OpenAiError::unauthorized("the API key is wrong or revoked"));
    }
    let value = value.to_str().map_err(|_| missing())?;
    let (scheme, secret) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || secret.trim().is_empty() {
        return Err(missing());
    }
    Ok(secret.trim())
}

/// Middleware for the routes behind an API key (`/v1`, `/api/worker`),
/// as a route layer: finds the key, refuses a missing, wrong or
/// revoked one (401, or 429 past the limiter), and hands the [`Caller`]
/// to the handlers.
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    mut request: Request,
    next: Next,
) -> Response {
    let secret = match bearer(request.headers()) {
        Ok(secret) => secret.to_owned(),
        Err(e) => return e.into_response(),
    };
    let found = state
        .with_store(move |store, _| Ok(store.api_token_by_secret(&secret)?))
        .await;
    match found {
        Ok(Some(token)) => {
            request.extensions_mut().insert(Caller { token });
            next.run(request).await
        }
        Ok(None) => wrong_key(&state, client.map(|c| c.0.0))
            .await
            .into_response(),
        Err(e) => OpenAiError::from(e).into_response(),
    }
}

/// A wrong or revoked key from `ip`: counted by the login limiter and
/// audited; 401, or 429 once the address is over its limit.
async fn wrong_key(state: &AppState, ip: Option<std::net::IpAddr>) -> OpenAiError {
    let from = ip.map_or_else(
        || "from an unknown address".to_owned(),
        |ip| format!("from {ip}"),
    );
    let limiter = state.login_limiter();
    if let Err(refused) = limiter.check(KEY_ACCOUNT, ip) {
        if limiter.log_refusal(KEY_ACCOUNT, ip) {
            audit(state, "api_key_refused", from).await;
        }
        return match refused {
            ApiError::TooManyRequests(secs) => OpenAiError::rate_limited(secs),
            other => other.into(),
        };
    }
    limiter.failed(KEY_ACCOUNT, ip);
    state.metrics().login_failed();
    audit(state, "api_key_failed", from).await;
    OpenAiError::unauthorized("the API key is wrong or revoked")
}

/// Writes a refused key to the audit log; a failure to write is logged
/// (the request is refused either way).
async fn audit(state: &AppState, action: &'static str, from: String) {
    let written = state
        .with_store(move |store, _| Ok(store.audit(KEY_ACCOUNT, action, "api", &from)?))
        .await;
    if let Err(e) = written {
        tracing::warn!("auditing {action}: {e}");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_keys_are_read_and_others_refused() {
        let mut h = HeaderMap::new();
        assert!(bearer(&h).is_err());
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer tocky_x"),
        );
        assert_eq!(bearer(&h).unwrap(), "tocky_x");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  tocky_y "),
        );
        assert_eq!(bearer(&h).unwrap(), "tocky_y");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic dTpw"),
        );
        assert!(bearer(&h).is_err());
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert!(bearer(&h).is_err());
        let long = format!("Bearer tocky_{}", "a".repeat(600));
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(&long).unwrap());
        assert_eq!(bearer(&h).unwrap_err().status, 401);
    }
}
