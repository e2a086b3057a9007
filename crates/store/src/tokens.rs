//! API keys: how scripts, workers and OpenAI-compatible clients
//! authenticate (`Authorization: Bearer tocky_…`).
//!
//! A key's secret is shown once, when it is made, and never stored: the
//! store keeps its SHA-256. The secret is 32 bytes from the operating
//! system's random source, so a plain SHA-256 is enough: argon2's slowness
//! protects guessable passwords, and no one can guess 256 random bits,
//! however fast the hash. A revoked key stays listed (who made it, when it
//! was last used, who revoked it); a new key may then take its name.

use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tocky_core::text::nfc;

use crate::clean::check_account_name;
use crate::model::Role;
use crate::{Error, Result, Store, audit};

/// The longest key name accepted, in bytes.
pub const MAX_API_TOKEN_NAME_BYTES: usize = 64;
/// What every secret starts with, so that a leaked one is recognisable
/// (secret scanners, logs).
pub const API_TOKEN_PREFIX: &str = "tocky_";
/// A secret longer than this is not one of ours: it is refused unhashed.
const MAX_SECRET_BYTES: usize = 128;
/// `last_used_at` is rewritten at most this often (seconds), so that every
/// authenticated request does not take the store's write lock.
const LAST_USED_GRANULARITY_S: i64 = 60;

/// An API key's record; never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Its id.
    pub id: i64,
    /// Its name, unique among live keys.
    pub name: String,
    /// What a request bearing it may do.
    pub role: Role,
    /// Who made it.
    pub created_by: Option<String>,
    /// When it was made (Unix seconds).
    pub created_at: i64,
    /// When it last authenticated a request (Unix seconds, to within a
    /// minute).
    pub last_used_at: Option<i64>,
    /// When it was revoked (Unix seconds); a revoked key authenticates
    /// nothing.
    pub revoked_at: Option<i64>,
}

const TOKEN_COLUMNS: &str =
    "SELECT id, name, role, created_by, created_at, last_used_at, revoked_at FROM api_tokens";

fn token_from_row(r: &Row<'_>) -> rusqlite::Result<ApiToken> {
    let role: String = r.get(2)?;
    Ok(ApiToken {
        id: r.get(0)?,
        name: r.get(1)?,
        // The CHECK constraint keeps roles valid; an unknown one reads as
        // the least privileged.
        role: role.parse().unwrap_or(Role::Reader),
        created_by: r.get(3)?,
        created_at: r.get(4)?,
        last_used_at: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

/// The current time in Unix seconds.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The SHA-256 of a secret, in hex: what is stored and looked up.
fn secret_sha256(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new secret: the prefix and 32 random bytes in hex.
fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Invalid(format!("the system's random source failed: {e}")))?;
    let mut secret = String::from(API_TOKEN_PREFIX);
    for b in bytes {
        secret.push_str(&format!("{b:02x}"));
    }
    Ok(secret)
}

/// A key name as stored: NFC, 1 to [`MAX_API_TOKEN_NAME_BYTES`] bytes of
/// letters, digits, '.', '_', '-' or '@', none invisible or a direction
/// control (the name is shown in lists and the audit log).
fn check_name(name: &str) -> Result<String> {
    check_account_name("API key name", name, MAX_API_TOKEN_NAME_BYTES)
}

impl Store {
    /// Creates a token and returns its record and its secret (shown once,
    /// never stored: only its SHA-256). A live token's name is unique
    /// ([`Error::ApiTokenExists`] otherwise). Audited as `token_add`.
    pub fn add_api_token(
        &mut self,
        name: &str,
        role: Role,
        created_by: Option<&str>,
    ) -> Result<(ApiToken, String)> {
        let name = check_name(name)?;
        let secret = new_secret()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let live: Option<i64> = tx
            .query_row(
                "SELECT id FROM api_tokens WHERE name = ?1 AND revoked_at IS NULL",
                [&name],
                |r| r.get(0),
            )
            .optional()?;
        if live.is_some() {
            return Err(Error::ApiTokenExists(name));
        }
        tx.execute(
            "INSERT INTO api_tokens (name, role, secret_sha256, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                name,
                role.as_str(),
                secret_sha256(&secret),
                created_by,
                unix_now()
            ],
        )?;
        let id = tx.last_insert_rowid();
        audit(
            &tx,
            created_by.unwrap_or("tocky"),
            "token_add",
            &format!("token {name}"),
            role.as_str(),
        )?;
        let token = tx.query_row(
            &format!("{TOKEN_COLUMNS} WHERE id = ?1"),
            [id],
            token_from_row,
        )?;
        tx.commit()?;
        Ok((token, secret))
    }

    /// Every token, revoked ones included, by name (then oldest first).
    pub fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{TOKEN_COLUMNS} ORDER BY name, id"))?;
        let rows = stmt.query_map([], token_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes the live token of that name; false when there is none.
    /// Audited as `token_revoke`.
    pub fn revoke_api_token(&mut self, name: &str, by: Option<&str>) -> Result<bool> {
        let name = nfc(name);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE api_tokens SET revoked_at = ?1, revoked_by = ?2
             WHERE name = ?3 AND revoked_at IS NULL",
            params![unix_now(), by, name],
        )?;
        if changed > 0 {
            audit(
                &tx,
                by.unwrap_or("tocky"),
                "token_revoke",
                &format!("token {name}"),
                "",
            )?;
        }
        tx.commit()?;
        Ok(changed > 0)
    }

    /// The live token whose secret this is (marking it used), or None for
    /// an unknown or revoked secret. The lookup is by the secret's
    /// SHA-256, through the table's unique index.
    pub fn api_token_by_secret(&mut self, secret: &str) -> Result<Option<ApiToken>> {
        if !secret.starts_with(API_TOKEN_PREFIX) || secret.len() > MAX_SECRET_BYTES {
            return Ok(None);
        }
        let hash = secret_sha256(secret);
        let Some(mut token) = self
            .conn
            .query_row(
                &format!("{TOKEN_COLUMNS} WHERE secret_sha256 = ?1 AND revoked_at IS NULL"),
                [&hash],
                token_from_row,
            )
            .optional()?
        else {
            return Ok(None);
        };
        let now = unix_now();
        let stale = token
            .last_used_at
            .is_none_or(|at| at <= now - LAST_USED_GRANULARITY_S);
        if stale {
            // Not revoked in between: the condition is checked again.
            let changed = self.conn.execute(
                "UPDATE api_tokens SET last_used_at = ?1
                 WHERE secret_sha256 = ?2 AND revoked_at IS NULL",
                params![now, hash],
            )?;
            if changed == 0 {
                return Ok(None);
            }
            token.last_used_at = Some(now);
        }
        Ok(Some(token))
    }
}
