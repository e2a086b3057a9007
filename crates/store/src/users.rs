//! Accounts and logins of the review server.
//!
//! The store keeps only what the server computed: an argon2id hash of each
//! password (hashing is the server's job, so that this crate needs no
//! cryptography) and the SHA-256 of each login token.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use tocky_core::text::nfc;

use crate::clean::check_account_name;
use crate::model::{Role, User};
use crate::{Error, Result, Store, audit};

/// The longest login name accepted, in bytes.
pub const MAX_USER_NAME_BYTES: usize = 64;

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(1)?;
    Ok(User {
        name: r.get(0)?,
        // The CHECK constraint keeps roles valid; an unknown one reads as
        // the least privileged.
        role: role.parse().unwrap_or(Role::Reader),
        created_at: r.get(2)?,
    })
}

/// A user name as stored and looked up: NFC (so that a name typed with
/// combining accents is the same name as its precomposed form).
pub fn normalize_user_name(name: &str) -> String {
    nfc(name)
}

/// A new user name, normalised; refused unless it is 1 to
/// [`MAX_USER_NAME_BYTES`] bytes of letters, digits, '.', '_', '-' or '@',
/// none of them invisible or a direction control.
fn check_name(name: &str) -> Result<String> {
    check_account_name("user name", name, MAX_USER_NAME_BYTES)
}

/// Refuses anything but an argon2id hash in PHC string form, so that a
/// password (or a weaker hash) is never stored by mistake.
fn check_hash(password_hash: &str) -> Result<()> {
    if password_hash.starts_with("$argon2id$") {
        Ok(())
    } else {
        Err(Error::Invalid(
            "a password is stored only as an argon2id hash ($argon2id$…)".into(),
        ))
    }
}

impl Store {
    /// Creates an account. `password_hash` must already be an argon2id hash.
    pub fn add_user(
        &mut self,
        name: &str,
        password_hash: &str,
        role: Role,
        actor: &str,
    ) -> Result<User> {
        let name = &check_name(name)?;
        check_hash(password_hash)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<i64> = tx
            .query_row("SELECT 1 FROM users WHERE name = ?1", [name], |r| r.get(0))
            .optional()?;
        if exists.is_some() {
            return Err(Error::UserExists(name.to_owned()));
        }
        tx.execute(
            "INSERT INTO users (name, password_hash, role) VALUES (?1, ?2, ?3)",
            params![name, password_hash, role.as_str()],
        )?;
        audit(
            &tx,
            actor,
            "user_add",
            &format!("user {name}"),
            role.as_str(),
        )?;
        let user = tx.query_row(
            "SELECT name, role, created_at FROM users WHERE name = ?1",
            [name],
            user_from_row,
        )?;
        tx.commit()?;
        Ok(user)
    }

    /// Replaces an account's password hash (argon2id) and logs it out
    /// everywhere.
    pub fn set_password_hash(
        &mut self,
        name: &str,
        password_hash: &str,
        actor: &str,
    ) -> Result<()> {
        let name = &normalize_user_name(name);
        check_hash(password_hash)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE users SET password_hash = ?1 WHERE name = ?2",
            params![password_hash, name],
        )?;
        if changed == 0 {
            return Err(Error::UnknownUser(name.to_owned()));
        }
        tx.execute("DELETE FROM logins WHERE user_name = ?1", [name])?;
        audit(&tx, actor, "user_passwd", &format!("user {name}"), "")?;
        tx.commit()?;
        Ok(())
    }

    /// Changes an account's role.
    pub fn set_role(&mut self, name: &str, role: Role, actor: &str) -> Result<()> {
        let name = &normalize_user_name(name);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE users SET role = ?1 WHERE name = ?2",
            params![role.as_str(), name],
        )?;
        if changed == 0 {
            return Err(Error::UnknownUser(name.to_owned()));
        }
        audit(
            &tx,
            actor,
            "user_role",
            &format!("user {name}"),
            role.as_str(),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Removes an account and its logins. Its revisions keep its name.
    pub fn remove_user(&mut self, name: &str, actor: &str) -> Result<()> {
        let name = &normalize_user_name(name);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute("DELETE FROM users WHERE name = ?1", [name])?;
        if changed == 0 {
            return Err(Error::UnknownUser(name.to_owned()));
        }
        audit(&tx, actor, "user_remove", &format!("user {name}"), "")?;
        tx.commit()?;
        Ok(())
    }

    /// All accounts, by name.
    pub fn users(&self) -> Result<Vec<User>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, role, created_at FROM users ORDER BY name")?;
        let rows = stmt.query_map([], user_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// An account and its password hash, for checking a login.
    pub fn user_credentials(&self, name: &str) -> Result<Option<(User, String)>> {
        let name = normalize_user_name(name);
        Ok(self
            .conn
            .query_row(
                "SELECT name, role, created_at, password_hash FROM users WHERE name = ?1",
                [&name],
                |r| Ok((user_from_row(r)?, r.get::<_, String>(3)?)),
            )
            .optional()?)
    }

    /// Records a login: the SHA-256 of its token, its CSRF token, and when
    /// it expires (Unix seconds). Expired logins are dropped on the way.
    pub fn create_login(
        &mut self,
        token_sha256: &str,
        user: &str,
        csrf_token: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM logins WHERE expires_at <= ?1", [now])?;
        tx.execute(
            "INSERT INTO logins (token_sha256, user_name, csrf_token, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![token_sha256, user, csrf_token, expires_at],
        )?;
        audit(&tx, user, "login", &format!("user {user}"), "")?;
        tx.commit()?;
        Ok(())
    }

    /// The account and CSRF token of an unexpired login.
    pub fn login(&self, token_sha256: &str, now: i64) -> Result<Option<(User, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT u.name, u.role, u.created_at, l.csrf_token
                 FROM logins l JOIN users u ON u.name = l.user_name
                 WHERE l.token_sha256 = ?1 AND l.expires_at > ?2",
                params![token_sha256, now],
                |r| Ok((user_from_row(r)?, r.get::<_, String>(3)?)),
            )
            .optional()?)
    }

    /// Ends a login.
    pub fn delete_login(&mut self, token_sha256: &str, actor: &str) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute("DELETE FROM logins WHERE token_sha256 = ?1", [token_sha256])?;
        if n > 0 {
            audit(&tx, actor, "logout", &format!("user {actor}"), "")?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const H: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn accounts_are_added_changed_and_removed() {
        let (_dir, mut s) = store();
        let u = s.add_user("lan", H, Role::Stenographer, "admin").unwrap();
        assert_eq!(u.role, Role::Stenographer);
        assert!(matches!(
            s.add_user("lan", H, Role::Reader, "admin"),
            Err(Error::UserExists(_))
        ));
        s.set_role("lan", Role::Admin, "admin").unwrap();
        let (user, hash) = s.user_credentials("lan").unwrap().unwrap();
        assert_eq!((user.role, hash.as_str()), (Role::Admin, H));
        s.remove_user("lan", "admin").unwrap();
        assert!(s.user_credentials("lan").unwrap().is_none());
        assert!(matches!(
            s.remove_user("lan", "admin"),
            Err(Error::UnknownUser(_))
        ));
    }

    #[test]
    fn bad_names_are_refused() {
        let (_dir, mut s) = store();
        for name in ["", "a b", "x/../y", &"n".repeat(65)] {
            assert!(
                matches!(
                    s.add_user(name, H, Role::Reader, "t"),
                    Err(Error::Invalid(_))
                ),
                "{name:?}"
            );
        }
    }

    #[test]
    fn names_are_nfc_and_refuse_invisible_or_direction_characters() {
        let (_dir, mut s) = store();
        // "Lê" typed with a combining circumflex is stored precomposed …
        let u = s.add_user("Le\u{0302}.van", H, Role::Reader, "t").unwrap();
        assert_eq!(u.name, "L\u{ea}.van");
        // … and found, changed and removed whichever way it is typed.
        assert!(s.user_credentials("L\u{ea}.van").unwrap().is_some());
        assert!(s.user_credentials("Le\u{0302}.van").unwrap().is_some());
        assert!(matches!(
            s.add_user("L\u{ea}.van", H, Role::Reader, "t"),
            Err(Error::UserExists(_))
        ));
        s.set_role("Le\u{0302}.van", Role::Admin, "t").unwrap();
        for bad in [
            "admin\u{202E}",
            "ad\u{200B}min",
            "\u{2066}lan",
            "lan\u{FEFF}",
            "\u{3164}",
            "lan\u{00AD}",
            "lan\u{0334}",
        ] {
            assert!(
                matches!(
                    s.add_user(bad, H, Role::Reader, "t"),
                    Err(Error::Invalid(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn only_argon2id_hashes_are_stored() {
        let (_dir, mut s) = store();
        for bad in [
            "",
            "hunter2",
            "$argon2i$v=19$x",
            "$2b$12$bcrypt",
            "ARGON2ID",
        ] {
            assert!(
                matches!(
                    s.add_user("lan", bad, Role::Reader, "t"),
                    Err(Error::Invalid(_))
                ),
                "{bad:?}"
            );
        }
        assert!(s.users().unwrap().is_empty());
        s.add_user("lan", H, Role::Reader, "t").unwrap();
        assert!(matches!(
            s.set_password_hash("lan", "plain password", "t"),
            Err(Error::Invalid(_))
        ));
        assert_eq!(s.user_credentials("lan").unwrap().unwrap().1, H);
    }

    #[test]
    fn logins_expire_and_end_with_a_password_change() {
        let (_dir, mut s) = store();
        s.add_user("lan", H, Role::Reader, "t").unwrap();
        s.create_login("tok", "lan", "csrf", 100, 50).unwrap();
        let (user, csrf) = s.login("tok", 99).unwrap().unwrap();
        assert_eq!((user.name.as_str(), csrf.as_str()), ("lan", "csrf"));
        assert!(s.login("tok", 100).unwrap().is_none(), "expired");
        assert!(s.login("other", 10).unwrap().is_none());
        s.set_password_hash("lan", "$argon2id$v=19$other", "t")
            .unwrap();
        assert!(
            s.login("tok", 10).unwrap().is_none(),
            "logged out by passwd"
        );
        s.create_login("tok2", "lan", "c", 100, 50).unwrap();
        s.delete_login("tok2", "lan").unwrap();
        assert!(s.login("tok2", 60).unwrap().is_none());
        let actions: Vec<String> = s
            .audit_log(10)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(actions.contains(&"login".to_owned()) && actions.contains(&"logout".to_owned()));
    }
}
