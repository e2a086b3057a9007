//! Who is asking: passwords, logins, roles, CSRF and the login limiter.
//!
//! Passwords are stored only as argon2id hashes. A login is a random token
//! in an HttpOnly, SameSite=Strict cookie; the store keeps only its SHA-256.
//! Each login has its own CSRF token, which every state-changing request
//! must echo in `X-CSRF-Token` (the cookie alone proves nothing about who
//! built the request). Login attempts are limited as `login_limit`
//! describes, and verified under the cap of `hashing`.

use std::time::{SystemTime, UNIX_EPOCH};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use axum::Json;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tocky_store::users::normalize_user_name;
use tocky_store::{Role, User};

use crate::ApiJson;
use crate::client::ClientAddr;
use crate::error::{ApiError, Error};
use crate::live::Revocation;
use crate::state::AppState;

/// The login cookie's name.
pub const SESSION_COOKIE: &str = "tocky_session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password accepted (argon2 hashes anything, but a megabyte
/// password is an attack, not a password).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The longest user name a login may type (longer ones cannot exist).
const MAX_TYPED_NAME_BYTES: usize = 256;

/// Hashes a password with argon2id (the crate's defaults: OWASP's
/// m = 19 MiB, t = 2, p = 1) and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, Error> {
    check_password(password).map_err(|e| Error::PasswordHash(e.to_string()))?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::PasswordHash(e.to_string()))
}

/// Whether a password is acceptable for a new account.
pub fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::BadRequest(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::BadRequest(format!(
            "a password has at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Whether `password` matches the PHC `hash`.
#[cfg(test)]
fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

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

/// Who is asking: an account, or nobody.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// The logged-in account.
    pub user: Option<User>,
    /// The login's CSRF token.
    pub csrf_token: Option<String>,
    /// The SHA-256 of the login's token.
    login: Option<String>,
    /// Whether reading is open to everyone.
    public_read: bool,
}

impl Viewer {
    /// The SHA-256 of the login's token, when logged in.
    pub(crate) fn login(&self) -> Option<&str> {
        self.login.as_deref()
    }

    /// The account, if it has at least `role`: 401 when nobody is logged
    /// in, 403 when the role is too low.
    pub fn require(&self, role: Role) -> Result<&User, ApiError> {
        let user = self.user.as_ref().ok_or(ApiError::Unauthorized)?;
        if user.role >= role {
            Ok(user)
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the {} role; {} is a {}",
                role.as_str(),
                user.name,
                user.role.as_str()
            )))
        }
    }

    /// Whether this viewer may read the working record, drafts included:
    /// a login with the reader role or above (401 without one, whatever
    /// `public_read` says). Routes that serve only what is published ask
    /// [`Viewer::require_public`] instead, so that a route opens to the
    /// public only where it says so.
    pub fn require_read(&self) -> Result<(), ApiError> {
        self.require(Role::Reader).map(|_| ())
    }

    /// Whether this viewer may read published versions: anyone with
    /// `public_read`, else a reader or above.
    pub fn require_public(&self) -> Result<(), ApiError> {
        if self.public_read {
            Ok(())
        } else {
            self.require_read()
        }
    }

    /// Whether this viewer reads the working record (a logged-in reader or
    /// above), or only published versions (a visitor let in by
    /// `public_read`).
    pub fn sees_drafts(&self) -> bool {
        self.user.is_some()
    }
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
    fn passwords_are_argon2id_and_verify() {
        let hash = hash_password("mật khẩu dài").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("mật khẩu"));
        assert!(verify_password("mật khẩu dài", &hash));
        assert!(!verify_password("mat khau dai", &hash));
        assert!(!verify_password("x", "not a hash"));
        assert!(hash_password("short").is_err());
    }

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

    #[test]
    fn roles_are_ordered() {
        let viewer = |role| Viewer {
            user: Some(User {
                name: "u".into(),
                role,
                created_at: String::new(),
            }),
            ..Viewer::default()
        };
        assert!(viewer(Role::Admin).require(Role::Stenographer).is_ok());
        assert!(matches!(
            viewer(Role::Reader).require(Role::Stenographer),
            Err(ApiError::Forbidden(_))
        ));
        assert!(matches!(
            Viewer::default().require(Role::Reader),
            Err(ApiError::Unauthorized)
        ));
        assert!(Viewer::default().require_read().is_err());
        let public = Viewer {
            public_read: true,
            ..Viewer::default()
        };
        assert!(public.require_public().is_ok());
        assert!(!public.sees_drafts());
        assert!(matches!(public.require_read(), Err(ApiError::Unauthorized)));
        assert!(viewer(Role::Reader).require_public().is_ok());
        assert!(viewer(Role::Reader).sees_drafts());
        assert!(Viewer::default().require_public().is_err());
    }
}
