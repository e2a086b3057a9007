//! Requests allowed per client. Every API request counts against its
//! client: the logged-in account, or else the address (IPv6 by its /64;
//! behind a trusted proxy, the address it forwarded). A script that
//! searches in a loop (with public reading on, anyone may) or a stuck page
//! then gets `429 Too Many Requests` with `Retry-After`, not the server's
//! whole capacity. Logins have their own, stricter limiter (`auth`).
//! Live sockets are limited per client too ([`LiveSeats`]).
//!
//! A leaf: the middleware takes only the limiter (an axum substate of the
//! server's state), not the state itself.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Extension;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::client::ClientAddr;
use crate::config::Limits;
use crate::error::ApiError;
use crate::login_limit::limit_key;
use crate::viewer::Viewer;

/// How many clients the limiter tracks before it forgets those that are
/// no longer limited (so that many addresses cannot fill memory).
const MAX_TRACKED_CLIENTS: usize = 10_000;

/// The per-client request limiter; cheap to clone (the clones share it).
#[derive(Clone)]
pub(crate) struct ClientLimiter {
    clients: Arc<DefaultKeyedRateLimiter<String>>,
}

impl ClientLimiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        let rate = NonZeroU32::new(limits.api_requests_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limits.api_burst).unwrap_or(NonZeroU32::MIN);
        Self {
            clients: Arc::new(RateLimiter::keyed(
                Quota::per_second(rate).allow_burst(burst),
            )),
        }
    }

    /// Counts a request of `client`; refuses it with the seconds to wait
    /// when the client is over its rate.
    fn check(&self, client: String) -> Result<(), ApiError> {
        if self.clients.len() > MAX_TRACKED_CLIENTS {
            self.clients.retain_recent();
        }
        self.clients.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited(wait.as_secs().max(1))
        })
    }
}

/// The middleware: runs after `auth::authenticate`, which names the viewer.
pub(crate) async fn limit(
    State(limiter): State<ClientLimiter>,
    client: Option<Extension<ClientAddr>>,
    request: Request,
    next: Next,
) -> Response {
    let account = request
        .extensions()
        .get::<Viewer>()
        .and_then(|v| v.user.as_ref())
        .map(|u| format!("user {}", u.name));
    let client = account
        .or_else(|| client.map(|c| format!("address {}", limit_key(c.0.0))))
        .unwrap_or_else(|| "unknown".to_owned());
    match limiter.check(client) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// Live sockets held per client (an account, else an address).
pub(crate) struct LiveSeats {
    held: Arc<Mutex<HashMap<String, usize>>>,
    max: usize,
}

/// One client's socket, counted until dropped.
pub(crate) struct Seat {
    held: Arc<Mutex<HashMap<String, usize>>>,
    client: String,
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = held.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.client);
            }
        }
    }
}

impl LiveSeats {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            held: Arc::new(Mutex::new(HashMap::new())),
            max,
        }
    }

    /// A seat for `client`, or none when it holds the most it may.
    pub(crate) fn take(&self, client: String) -> Option<Seat> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let n = held.entry(client.clone()).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Seat {
            held: Arc::clone(&self.held),
            client,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_client_over_its_burst_waits_and_others_do_not() {
        let limiter = ClientLimiter::new(&Limits {
            api_requests_per_second: 1,
            api_burst: 3,
            ..Limits::default()
        });
        for _ in 0..3 {
            limiter.check("user lan".into()).unwrap();
        }
        let refused = limiter.check("user lan".into()).unwrap_err();
        assert!(matches!(refused, ApiError::RateLimited(1)), "{refused:?}");
        limiter.check("user hoa".into()).unwrap();
        limiter.check("address 10.0.0.1".into()).unwrap();
    }
}
