//! Passwords: hashing a new one ([`hash_password`], argon2id), the rules
//! for one ([`check_password`]), and verification under a cap: at most
//! `limits.login_max_concurrent_hashes` argon2 computations at once, each in
//! a memory buffer that is kept and reused.
//!
//! argon2id needs 19 MiB per verification. Left to the blocking pool, a
//! burst of logins ran hundreds at once, and the allocator kept much of
//! that memory afterwards. Here a login that finds every slot taken is
//! answered at once with 503 and `Retry-After`; memory stays at the number
//! of slots times the buffer. One more slot is kept for logins from an
//! address that has logged in to that account before, so that a flood of
//! guesses from many addresses cannot keep the owner out either.

use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, Error};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password accepted (argon2 hashes anything, but a megabyte
/// password is an attack, not a password).
pub const MAX_PASSWORD_BYTES: usize = 1024;

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
    use argon2::password_hash::PasswordVerifier;
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The argon2 computations allowed at once, and their buffers.
pub(crate) struct HashPool {
    permits: Arc<Semaphore>,
    /// The slot only known addresses may take.
    reserved: Arc<Semaphore>,
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
}

/// One place under the cap, with its buffer; both go back when dropped.
pub(crate) struct HashSlot {
    blocks: Vec<Block>,
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for HashSlot {
    fn drop(&mut self) {
        let blocks = std::mem::take(&mut self.blocks);
        self.buffers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(blocks);
    }
}

impl HashPool {
    /// A pool of `slots` places (at least one), and the reserved one.
    pub(crate) fn new(slots: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(slots.clamp(1, Semaphore::MAX_PERMITS))),
            reserved: Arc::new(Semaphore::new(1)),
            buffers: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// A free place, or none when all are taken (without waiting). A
    /// `known` client may take the reserved place when the others are full.
    pub(crate) fn try_slot(&self, known: bool) -> Option<HashSlot> {
        let permit = Arc::clone(&self.permits)
            .try_acquire_owned()
            .or_else(|e| {
                if known {
                    Arc::clone(&self.reserved).try_acquire_owned()
                } else {
                    Err(e)
                }
            })
            .ok()?;
        let blocks = self
            .buffers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        Some(HashSlot {
            blocks,
            buffers: Arc::clone(&self.buffers),
            _permit: permit,
        })
    }
}

impl HashSlot {
    /// Whether `password` matches the PHC string `hash` (argon2id, or the
    /// older argon2i/argon2d), computed in this slot's buffer. The result
    /// is compared in full, in constant time.
    pub(crate) fn verify(&mut self, password: &str, hash: &str) -> bool {
        self.try_verify(password, hash).unwrap_or(false)
    }

    fn try_verify(&mut self, password: &str, hash: &str) -> Option<bool> {
        let parsed = PasswordHash::new(hash).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = parsed
            .version
            .map_or(Some(Version::V0x13), |v| Version::try_from(v).ok())?;
        let params = Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let mut salt = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
        let needed = params.block_count();
        if self.blocks.len() < needed {
            self.blocks.resize(needed, Block::default());
        }
        let mut out = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut self.blocks)
            .ok()?;
        let diff = out
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        Some(std::hint::black_box(diff) == 0)
    }
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
    fn slots_verify_as_argon2_does_and_are_capped() {
        let hash = hash_password("mật khẩu dài").unwrap();
        let pool = HashPool::new(2);
        let mut a = pool.try_slot(false).unwrap();
        assert!(a.verify("mật khẩu dài", &hash));
        assert!(!a.verify("mat khau dai", &hash));
        assert!(!a.verify("x", "not a hash"));
        let b = pool.try_slot(false).unwrap();
        assert!(pool.try_slot(false).is_none(), "the cap holds");
        // A known client gets the reserved place, once.
        let known = pool.try_slot(true).unwrap();
        assert!(pool.try_slot(true).is_none());
        drop(known);
        drop(b);
        let mut c = pool.try_slot(false).unwrap();
        // A buffer comes back with its slot and is reused.
        drop(a);
        let mut d = pool.try_slot(false).unwrap();
        assert!(d.blocks.len() >= 19 * 1024 || c.blocks.len() >= 19 * 1024);
        assert!(c.verify("mật khẩu dài", &hash) && d.verify("mật khẩu dài", &hash));
    }
}
