//! Who is asking: passwords, logins, roles, CSRF and the login limiter.
//!
//! Passwords are stored only as argon2id hashes. A login is a random token
//! in an HttpOnly, SameSite=Strict cookie; the store keeps only its SHA-256.
//! Each login has its own CSRF token, which every state-changing request
//! must echo in `X-CSRF-Token` (the cookie alone proves nothing about who
//! built the request). Login attempts are limited as `login_limit`
//! describes, and verified under the cap of `hashing`. Hashing and the
//! password rules live in `hashing`, and [`Viewer`] in `viewer` (leaves,
//! which the state and the rate limiter use without this module); their
//! paths here stay the server's API.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tocky_store::Role;
use tocky_store::users::normalize_user_name;

use crate::ApiJson;
use crate::client::ClientAddr;
use crate::error::ApiError;
use crate::events::Revocation;
pub use crate::hashing::{MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, check_password, hash_password};
use crate::state::AppState;
pub use crate::viewer::Viewer;

/// The login cookie's name.
pub const SESSION_COOKIE: &str = "tocky_session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The longest user name a login may type (longer ones cannot exist).
const MAX_TYPED_NAME_BYTES: usize = 256;

/// A hash of a password nobody has, checked when the user name is unknown
/// so that a login takes as long whether or not the account exists.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that matches nothing").unwrap_or_default())
}

/// 32 random bytes as hex.
fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(hex::encode(bytes))
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Compares without stopping at the first difference.
fn same_token(a: &str, b: &str) -> bool {
    let diff = a
        .bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold into an early exit.
    a.len() == b.len() && std::hint::black_box(diff) == 0
}

/// Whether a secret that was sent matches the expected one, in time that
/// depends on neither: both are hashed first, so that even their lengths
/// stay hidden, and the digests are compared in full.
pub(crate) fn same_secret(sent: &str, expected: &str) -> bool {
    same_token(&sha256_hex(sent), &sha256_hex(expected))
}

/// Who sent `jar`'s login cookie: an account, or nobody (no cookie, a
/// malformed one, or a login that has ended).
pub(crate) async fn viewer(state: &AppState, jar: &CookieJar) -> Result<Viewer, ApiError> {
    let public_read = state.config().public_read;
    let nobody = Viewer {
        public_read,
        ..Viewer::default()
    };
    let token = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned());
    // A well-formed token only: anything else cannot be ours.
    let Some(token) = token.filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
    else {
        return Ok(nobody);
    };
    let login = sha256_hex(&token);
    let key = login.clone();
    let found = state
        .with_store(move |store, _| Ok(store.login(&key, unix_now())?))
        .await?;
    Ok(match found {
        Some((user, csrf)) => Viewer {
            user: Some(user),
            csrf_token: Some(csrf),
            login: Some(login),
            public_read,
        },
        None => nobody,
    })
}

/// Middleware for `/api`: finds the login from the cookie, refuses
/// state-changing requests without the login's CSRF token, and hands the
/// [`Viewer`] to the handlers.
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    jar: CookieJar,
    mut request: Request,
    next: Next,
) -> Response {
    let viewer = match viewer(&state, &jar).await {
        Ok(viewer) => viewer,
        Err(e) => return e.into_response(),
    };
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    // Inside `nest("/api")` the URI is stripped; the original is not.
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path().to_owned(), |u| u.path().to_owned());
    if changes_state && path != "/api/login" {
        let Some(expected) = viewer.csrf_token.as_deref() else {
            return ApiError::Unauthorized.into_response();
        };
        let sent = request
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !same_token(sent, expected) {
            return ApiError::Forbidden("missing or wrong CSRF token (X-CSRF-Token)".into())
                .into_response();
        }
    }
    request.extensions_mut().insert(viewer);
    next.run(request).await
}

/// `POST /api/login`.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginRequest {
    username: String,
    password: String,
}

/// What `/api/login` and `/api/me` answer.
#[derive(Debug, Serialize)]
pub(crate) struct Me {
    user: Option<PublicUser>,
    csrf_token: Option<String>,
    public_read: bool,
}

#[derive(Debug, Serialize)]
struct PublicUser {
    name: String,
    role: Role,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    client: Option<axum::Extension<ClientAddr>>,
    jar: CookieJar,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<(CookieJar, Json<Me>), ApiError> {
    if body.username.len() > MAX_TYPED_NAME_BYTES || body.password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::BadRequest(
            "user name or password too long".into(),
        ));
    }
    let ip = client.map(|c| c.0.0);
    let from = ip.map_or_else(
        || "from an unknown address".to_owned(),
        |ip| format!("from {ip}"),
    );
    let name = normalize_user_name(&body.username);
    if let Err(refused) = state.login_limiter().check(&name, ip) {
        if state.login_limiter().log_refusal(&name, ip) {
            let (name, from) = (name.clone(), from.clone());
            state
                .with_store(move |store, _| {
                    Ok(store.audit(&name, "login_refused", &format!("user {name}"), &from)?)
                })
                .await?;
        }
        return Err(refused);
    }
    // Answered at once when full: waiting would hold the request, and the
    // memory of a queue of hashes is what the cap is for.
    let known = state.login_limiter().is_known(&name, ip);
    let mut slot = state.hash_slot(known)?;
    let ttl_secs = state.config().limits.login_ttl_hours.max(1) * 3600;
    let token = random_token()?;
    let csrf = random_token()?;
    let (user, csrf) = {
        let token_sha = sha256_hex(&token);
        let csrf = csrf.clone();
        let metrics = state.metrics().clone();
        let typed = name.clone();
        state
            .with_store(move |store, _| {
                let found = store.user_credentials(&typed)?;
                let hash = found.as_ref().map_or(decoy_hash(), |(_, h)| h.as_str());
                let ok = slot.verify(&body.password, hash);
                drop(slot);
                match found {
                    Some((user, _)) if ok => {
                        let now = unix_now();
                        store.create_login(
                            &token_sha,
                            &user.name,
                            &csrf,
                            now + ttl_secs as i64,
                            now,
                        )?;
                        Ok(Some((user, csrf)))
                    }
                    _ => {
                        metrics.login_failed();
                        // The name tried is logged (its control and
                        // invisible characters escaped by the store); the
                        // password never is.
                        store.audit(&typed, "login_failed", &format!("user {typed}"), &from)?;
                        Ok(None)
                    }
                }
            })
            .await?
            .ok_or_else(|| {
                state.login_limiter().failed(&name, ip);
                ApiError::Unauthorized
            })?
    };
    state.login_limiter().succeeded(&user.name, ip);
    let cookie = Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config().secure_cookies)
        .path("/")
        .max_age(time_duration(ttl_secs));
    tracing::info!(user = %user.name, "login");
    Ok((
        jar.add(cookie),
        Json(Me {
            user: Some(PublicUser {
                name: user.name,
                role: user.role,
            }),
            csrf_token: Some(csrf),
            public_read: state.config().public_read,
        }),
    ))
}

fn time_duration(secs: u64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX))
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    jar: CookieJar,
) -> Result<(CookieJar, StatusCode), ApiError> {
    if let (Some(login), Some(user)) = (viewer.login, viewer.user) {
        let ended = login.clone();
        state
            .with_store(move |store, _| Ok(store.delete_login(&login, &user.name)?))
            .await?;
        state.revoke(Revocation::Login(ended));
    }
    Ok((
        jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
        StatusCode::NO_CONTENT,
    ))
}

pub(crate) async fn me(axum::Extension(viewer): axum::Extension<Viewer>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "private, no-store")],
        Json(Me {
            user: viewer.user.map(|u| PublicUser {
                name: u.name,
                role: u.role,
            }),
            csrf_token: viewer.csrf_token,
            public_read: viewer.public_read,
        }),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abcd", "abcd"));
        assert!(!same_token("abcd", "abce"));
        assert!(!same_token("abc", "abcd"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("0123456789abcdef", "0123456789abcdef"));
        assert!(!same_secret("0123456789abcdeX", "0123456789abcdef"));
        assert!(!same_secret("0123456789abcde", "0123456789abcdef"));
        assert!(!same_secret("", "0123456789abcdef"));
    }
}
