//! Which login attempts are heard.
//!
//! Attempts are limited per address *and* user name (a burst, then one
//! every few seconds) and per address (for all names), so that an attacker
//! slows only their own attempts: the account's owner, from another
//! address, is not kept out. Against guessing spread over many addresses,
//! failures count against a budget per user name and a global budget, per
//! window; each address adds at most a few failures to them, so that one
//! address cannot spend a budget alone. A spent budget refuses attempts
//! only from addresses that have not logged in to that account before.
//! IPv6 addresses count by their /64 network, which one client usually
//! holds whole.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Limits;
use crate::error::ApiError;

/// How many keys a limiter tracks before it forgets those that are no
/// longer limited.
pub(crate) const MAX_TRACKED_KEYS: usize = 10_000;
/// How many failures one address adds to a user name's budget per window.
const FAILURES_PER_ADDRESS_PER_USER: u32 = 5;
/// How many failures one address adds to the global budget per window.
const FAILURES_PER_ADDRESS_GLOBAL: u32 = 20;
/// How many addresses are remembered per account as having logged in.
const KNOWN_ADDRESSES_PER_USER: usize = 16;
/// Refused attempts are written to the audit log once per address and
/// name in this long …
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(60);
/// … and for at most this many names per address (guessing a new name
/// each time must not fill the log either).
const REFUSALS_LOGGED_PER_ADDRESS: usize = 5;

/// The address as the limiters count it: IPv4 (IPv4-mapped IPv6 included)
/// whole, IPv6 by its /64.
pub(crate) fn limit_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

fn quota(burst: u32, refill_secs: u64) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(Duration::from_secs(refill_secs.max(1)))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

/// Failures in the current window.
#[derive(Default)]
struct Budget {
    total: u32,
    by_address: HashMap<IpAddr, u32>,
}

impl Budget {
    /// Counts a failure from `ip`, unless it has added its share already.
    fn add(&mut self, ip: IpAddr, share: u32) {
        let n = self.by_address.entry(ip).or_insert(0);
        if *n < share {
            *n += 1;
            self.total += 1;
        }
    }
}

struct Failures {
    window_start: Instant,
    global: Budget,
    per_user: HashMap<String, Budget>,
    /// Addresses each account has logged in from (kept across windows).
    known: HashMap<String, Vec<IpAddr>>,
    /// Per address: since when refusals are counted, and the names
    /// whose refusal was written to the audit log since.
    refusals_logged: HashMap<IpAddr, (Instant, Vec<String>)>,
}

/// Login attempts allowed; see the module's description.
pub(crate) struct LoginLimiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_ip_user: DefaultKeyedRateLimiter<(IpAddr, String)>,
    failures: Mutex<Failures>,
    window: Duration,
    user_budget: u32,
    global_budget: u32,
}

impl LoginLimiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            per_ip: RateLimiter::keyed(quota(
                limits.login_burst_per_ip,
                limits.login_refill_secs_per_ip,
            )),
            per_ip_user: RateLimiter::keyed(quota(
                limits.login_burst_per_user,
                limits.login_refill_secs_per_user,
            )),
            failures: Mutex::new(Failures {
                window_start: Instant::now(),
                global: Budget::default(),
                per_user: HashMap::new(),
                known: HashMap::new(),
                refusals_logged: HashMap::new(),
            }),
            window: Duration::from_secs(limits.login_failure_window_secs.max(1)),
            user_budget: limits.login_failures_per_user,
            global_budget: limits.login_failures_global,
        }
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, Failures> {
        let mut f = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if f.window_start.elapsed() >= self.window {
            f.window_start = Instant::now();
            f.global = Budget::default();
            f.per_user.clear();
        }
        f
    }

    /// Counts an attempt from `ip` for `user`; refuses it with the seconds
    /// to wait when over a limit.
    pub(crate) fn check(&self, user: &str, ip: Option<IpAddr>) -> Result<(), ApiError> {
        // The keyed limiters keep a state per key: forget the full ones
        // now and then, so that guessed names or many addresses cannot
        // fill memory.
        if self.per_ip.len() > MAX_TRACKED_KEYS {
            self.per_ip.retain_recent();
        }
        if self.per_ip_user.len() > MAX_TRACKED_KEYS {
            self.per_ip_user.retain_recent();
        }
        let now = DefaultClock::default().now();
        let wait = |not_until: governor::NotUntil<_>| {
            ApiError::TooManyRequests(not_until.wait_time_from(now).as_secs().max(1))
        };
        let ip = ip.map(limit_key);
        if let Some(ip) = ip {
            self.per_ip.check_key(&ip).map_err(wait)?;
        }
        let address = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        self.per_ip_user
            .check_key(&(address, user.to_owned()))
            .map_err(wait)?;
        let f = self.failures();
        let spent = f.global.total >= self.global_budget
            || f.per_user
                .get(user)
                .is_some_and(|b| b.total >= self.user_budget);
        let known = f.known.get(user).is_some_and(|a| a.contains(&address));
        if spent && !known {
            let left = self.window.saturating_sub(f.window_start.elapsed());
            return Err(ApiError::TooManyRequests(left.as_secs().max(1)));
        }
        Ok(())
    }

    /// Counts a failed login against the budgets.
    pub(crate) fn failed(&self, user: &str, ip: Option<IpAddr>) {
        let address = ip.map_or(IpAddr::from([0, 0, 0, 0]), limit_key);
        let mut f = self.failures();
        f.global.add(address, FAILURES_PER_ADDRESS_GLOBAL);
        let tracked = f.per_user.len() < MAX_TRACKED_KEYS;
        if let Some(budget) = f.per_user.get_mut(user) {
            budget.add(address, FAILURES_PER_ADDRESS_PER_USER);
        } else if tracked {
            let mut budget = Budget::default();
            budget.add(address, FAILURES_PER_ADDRESS_PER_USER);
            f.per_user.insert(user.to_owned(), budget);
        }
    }

    /// Whether `user` has logged in from `ip` (its /64 for IPv6) since the
    /// server started.
    pub(crate) fn is_known(&self, user: &str, ip: Option<IpAddr>) -> bool {
        let Some(address) = ip.map(limit_key) else {
            return false;
        };
        self.failures()
            .known
            .get(user)
            .is_some_and(|a| a.contains(&address))
    }

    /// Remembers that `user` logged in from `ip`.
    pub(crate) fn succeeded(&self, user: &str, ip: Option<IpAddr>) {
        let Some(address) = ip.map(limit_key) else {
            return;
        };
        let mut f = self.failures();
        if f.known.len() >= MAX_TRACKED_KEYS && !f.known.contains_key(user) {
            f.known.clear();
        }
        let known = f.known.entry(user.to_owned()).or_default();
        if !known.contains(&address) {
            if known.len() >= KNOWN_ADDRESSES_PER_USER {
                known.remove(0);
            }
            known.push(address);
        }
    }

    /// Whether a refused attempt from `ip` for `user` should be written to
    /// the audit log now: once a minute per address and name, for at most
    /// five names per address a minute, so that a flood of attempts cannot
    /// flood the log.
    pub(crate) fn log_refusal(&self, user: &str, ip: Option<IpAddr>) -> bool {
        let address = ip.map_or(IpAddr::from([0, 0, 0, 0]), limit_key);
        let mut f = self.failures();
        if f.refusals_logged.len() >= MAX_TRACKED_KEYS {
            f.refusals_logged
                .retain(|_, (since, _)| since.elapsed() < REFUSAL_LOG_INTERVAL);
        }
        let (since, names) = f
            .refusals_logged
            .entry(address)
            .or_insert_with(|| (Instant::now(), Vec::new()));
        if since.elapsed() >= REFUSAL_LOG_INTERVAL {
            *since = Instant::now();
            names.clear();
        }
        if names.len() >= REFUSALS_LOGGED_PER_ADDRESS || names.iter().any(|n| n == user) {
            return false;
        }
        names.push(user.to_owned());
        true
    }

    #[cfg(test)]
    pub(crate) fn tracked_addresses(&self) -> usize {
        self.per_ip.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn the_limiter_forgets_addresses_no_longer_limited() {
        let limiter = LoginLimiter::new(&Limits {
            login_burst_per_ip: 1,
            login_refill_secs_per_ip: 1,
            ..Limits::default()
        });
        // One attempt from each of many addresses.
        for i in 0..=MAX_TRACKED_KEYS as u32 + 1 {
            let _ = limiter.check("lan", Some(IpAddr::from(i.to_be_bytes())));
        }
        assert!(limiter.tracked_addresses() > MAX_TRACKED_KEYS);
        std::thread::sleep(Duration::from_millis(2200));
        let _ = limiter.check("lan", ip(1));
        assert!(
            limiter.tracked_addresses() <= 2,
            "{}",
            limiter.tracked_addresses()
        );
        // A limited address is still remembered.
        assert!(matches!(
            limiter.check("minh", ip(1)),
            Err(ApiError::TooManyRequests(_))
        ));
    }

    #[test]
    fn ipv6_counts_by_its_64_network() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limit_key(a), limit_key(b));
        assert_ne!(limit_key(a), limit_key(c));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(limit_key(mapped), IpAddr::from([10, 0, 0, 1]));
    }

    #[test]
    fn one_address_cannot_spend_a_budget_and_known_addresses_pass_a_spent_one() {
        let limiter = LoginLimiter::new(&Limits {
            login_failures_per_user: 10,
            ..Limits::default()
        });
        for _ in 0..100 {
            limiter.failed("admin", ip(66));
        }
        assert!(limiter.check("admin", ip(1)).is_ok(), "one address alone");
        limiter.succeeded("admin", ip(1));
        for last in 100..110 {
            limiter.failed("admin", ip(last));
        }
        // Spent by many addresses: a new address waits, a known one does not.
        assert!(matches!(
            limiter.check("admin", ip(2)),
            Err(ApiError::TooManyRequests(_))
        ));
        assert!(limiter.check("admin", ip(1)).is_ok());
        assert!(limiter.check("lan", ip(2)).is_ok(), "other names are free");
    }

    #[test]
    fn refusals_are_logged_once_a_minute_per_address_and_name_and_few_names() {
        let limiter = LoginLimiter::new(&Limits::default());
        assert!(limiter.log_refusal("admin", ip(1)));
        assert!(!limiter.log_refusal("admin", ip(1)));
        assert!(limiter.log_refusal("admin", ip(2)));
        assert!(limiter.log_refusal("lan", ip(1)));
        // A new name each time: five a minute per address, no more.
        let logged = (0..100)
            .filter(|i| limiter.log_refusal(&format!("guess{i}"), ip(3)))
            .count();
        assert_eq!(logged, REFUSALS_LOGGED_PER_ADDRESS);
    }
}
