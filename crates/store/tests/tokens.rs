//! API keys: a secret shown once authenticates until revoked; only its
//! hash is stored; names of live keys are unique; changes are audited.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tocky_store::{Error, Role};

#[test]
fn a_secret_authenticates_its_key_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    let (token, secret) = store
        .add_api_token("subtitles", Role::Stenographer, Some("admin"))
        .unwrap();
    assert_eq!(token.name, "subtitles");
    assert_eq!(token.role, Role::Stenographer);
    assert_eq!(token.created_by.as_deref(), Some("admin"));
    assert!(token.last_used_at.is_none() && token.revoked_at.is_none());
    // `tocky_` and 32 bytes in hex.
    assert!(secret.starts_with("tocky_"), "{secret}");
    assert_eq!(secret.len(), 6 + 64);
    assert!(secret[6..].bytes().all(|b| b.is_ascii_hexdigit()));

    let found = store.api_token_by_secret(&secret).unwrap().unwrap();
    assert_eq!(found.id, token.id);
    assert_eq!(found.role, Role::Stenographer);
    assert!(found.last_used_at.is_some(), "marked used");
    assert!(
        store.api_tokens().unwrap()[0].last_used_at.is_some(),
        "the use is stored"
    );

    // A wrong secret, one a character off, the hash itself, nothing.
    let mut off = secret.clone();
    off.pop();
    off.push(if secret.ends_with('0') { '1' } else { '0' });
    for wrong in [
        off.as_str(),
        "tocky_",
        "",
        &secret[6..],
        &"tocky_0".repeat(100),
    ] {
        assert!(
            store.api_token_by_secret(wrong).unwrap().is_none(),
            "{wrong:?}"
        );
    }

    assert!(store.revoke_api_token("subtitles", Some("admin")).unwrap());
    assert!(store.api_token_by_secret(&secret).unwrap().is_none());
    assert!(
        !store.revoke_api_token("subtitles", Some("admin")).unwrap(),
        "nothing live left to revoke"
    );
    assert!(!store.revoke_api_token("never-made", None).unwrap());
    let listed = store.api_tokens().unwrap();
    assert_eq!(listed.len(), 1, "a revoked key stays listed");
    assert!(listed[0].revoked_at.is_some());
}

#[test]
fn the_secret_is_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tocky.db");
    let secret = {
        let mut store = tocky_store::Store::open(&path).unwrap();
        store.add_api_token("ci", Role::Reader, None).unwrap().1
    };
    let conn = rusqlite::Connection::open(&path).unwrap();
    let stored: String = conn
        .query_row("SELECT secret_sha256 FROM api_tokens", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored.len(), 64);
    assert!(!stored.contains(&secret[6..]));
    let file = std::fs::read(&path).unwrap();
    let wal = std::fs::read(dir.path().join("tocky.db-wal")).unwrap_or_default();
    for bytes in [&file, &wal] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the secret is in the database file"
        );
    }
    // Keys survive reopening, and each secret is different.
    let mut store = tocky_store::Store::open(&path).unwrap();
    assert!(store.api_token_by_secret(&secret).unwrap().is_some());
    let other = store.add_api_token("ci2", Role::Reader, None).unwrap().1;
    assert_ne!(other, secret);
}

#[test]
fn a_live_name_is_unique_and_freed_by_revoking() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    let (first, old_secret) = store.add_api_token("press", Role::Reader, None).unwrap();
    assert!(matches!(
        store.add_api_token("press", Role::Admin, None),
        Err(Error::ApiTokenExists(name)) if name == "press"
    ));
    // The same name typed with a combining accent is the same name.
    store.add_api_token("Báo", Role::Reader, None).unwrap();
    assert!(matches!(
        store.add_api_token("Ba\u{301}o", Role::Reader, None),
        Err(Error::ApiTokenExists(_))
    ));
    assert!(store.revoke_api_token("press", None).unwrap());
    let (second, new_secret) = store.add_api_token("press", Role::Editor, None).unwrap();
    assert_ne!(first.id, second.id);
    assert!(store.api_token_by_secret(&old_secret).unwrap().is_none());
    assert_eq!(
        store
            .api_token_by_secret(&new_secret)
            .unwrap()
            .unwrap()
            .role,
        Role::Editor
    );
    let names: Vec<_> = store
        .api_tokens()
        .unwrap()
        .into_iter()
        .map(|t| (t.name, t.revoked_at.is_some()))
        .collect();
    assert_eq!(
        names,
        [
            ("Báo".to_owned(), false),
            ("press".to_owned(), true),
            ("press".to_owned(), false)
        ]
    );
}

#[test]
fn bad_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    for bad in [
        "",
        "a b",
        "x/y",
        "ad\u{200B}min",
        "k\u{202E}",
        &"n".repeat(65),
    ] {
        assert!(
            matches!(
                store.add_api_token(bad, Role::Reader, None),
                Err(Error::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    assert!(store.api_tokens().unwrap().is_empty());
}

#[test]
fn adding_and_revoking_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    let (_, secret) = store
        .add_api_token("worker-1", Role::Stenographer, Some("lan"))
        .unwrap();
    store.revoke_api_token("worker-1", Some("minh")).unwrap();
    let log = store.audit_log(10).unwrap();
    let rows: Vec<_> = log
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.subject.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            ("minh", "token_revoke", Some("token worker-1")),
            ("lan", "token_add", Some("token worker-1")),
        ]
    );
    assert!(log.iter().all(|e| !format!("{e:?}").contains(&secret[6..])));
}
