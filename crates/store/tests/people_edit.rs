//! One person added or changed at a time (what the review desk's form
//! does): the import's rules, keys kept unique, row ids kept, audited.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tocky_store::{Error, NewPerson, PersonRole, Store};

/// A delegate of " Hà Nội " (the form trims it).
fn person(key: &str, name: &str) -> NewPerson {
    tocky_test_support::person(key, name, PersonRole::Delegate, Some(" Hà Nội "))
}

#[test]
fn a_person_is_added_changed_and_kept_unique_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("people.db")).unwrap();
    let added = store
        .add_person(&person(" dbqh-1 ", "Nguye\u{0302}\u{0303}n Văn A"), "admin")
        .unwrap();
    assert_eq!(added.key, "dbqh-1");
    assert_eq!(added.name, "Nguyễn Văn A");
    assert_eq!(added.delegation.as_deref(), Some("Hà Nội"));
    assert_eq!(added.roles.len(), 1);

    // The same key again is refused; so is a bad entry.
    let e = store
        .add_person(&person("dbqh-1", "B"), "admin")
        .unwrap_err();
    assert!(
        matches!(&e, Error::Invalid(r) if r.contains("already")),
        "{e}"
    );
    let e = store
        .add_person(&person("dbqh 2", "B"), "admin")
        .unwrap_err();
    assert!(
        matches!(&e, Error::Invalid(r) if r.contains("an id has")),
        "{e}"
    );

    // A change may rename the key; the row id stays.
    let other = store
        .add_person(&person("dbqh-2", "Lê Văn B"), "admin")
        .unwrap();
    let mut change = person("dbqh-1b", "Nguyễn Văn A");
    change.roles.clear();
    let changed = store.update_person(added.id, &change, "admin").unwrap();
    assert_eq!((changed.id, changed.key.as_str()), (added.id, "dbqh-1b"));
    assert!(changed.roles.is_empty());
    assert!(store.person("dbqh-1").is_err());
    // Another's key is refused, and an unknown row id is said as such.
    let e = store
        .update_person(added.id, &person("dbqh-2", "X"), "admin")
        .unwrap_err();
    assert!(
        matches!(&e, Error::Invalid(r) if r.contains("another person's")),
        "{e}"
    );
    assert_eq!(store.person_by_id(other.id).unwrap().name, "Lê Văn B");
    let e = store.update_person(999, &change, "admin").unwrap_err();
    assert!(matches!(e, Error::UnknownPerson(_)), "{e}");
    // Unchanged: nothing written.
    store.update_person(added.id, &change, "admin").unwrap();

    let actions: Vec<_> = store
        .audit_log(20)
        .unwrap()
        .into_iter()
        .filter(|a| a.action.starts_with("person_"))
        .map(|a| (a.action, a.subject.unwrap_or_default()))
        .collect();
    assert_eq!(
        actions,
        [
            ("person_update".to_owned(), "person dbqh-1b".to_owned()),
            ("person_add".to_owned(), "person dbqh-2".to_owned()),
            ("person_add".to_owned(), "person dbqh-1".to_owned()),
        ]
    );
}
