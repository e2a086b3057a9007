//! The people registry on real SQLite files.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tocky_store::people::{MAX_DELEGATION_BYTES, MAX_PERSON_KEY_BYTES};
use tocky_store::{Error, ImportSummary, NewPerson, PersonRole, RoleSpan, SessionMeta, Store};

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("people.db")).unwrap();
    (dir, store)
}

fn role(role: PersonRole, from: Option<&str>, to: Option<&str>) -> RoleSpan {
    RoleSpan {
        role,
        title: None,
        valid_from: from.map(Into::into),
        valid_to: to.map(Into::into),
    }
}

fn delegate(key: &str, name: &str, delegation: &str, seat: &str) -> NewPerson {
    NewPerson {
        key: key.into(),
        name: name.into(),
        delegation: Some(delegation.into()),
        seat: Some(seat.into()),
        roles: vec![role(PersonRole::Delegate, Some("2021-07-20"), None)],
    }
}

fn summary(added: usize, updated: usize, unchanged: usize) -> ImportSummary {
    ImportSummary {
        added,
        updated,
        unchanged,
    }
}

#[test]
fn people_are_added_with_their_roles_and_listed_by_id() {
    let (_dir, mut store) = open();
    let mut chair = NewPerson {
        key: "dbqh-0001".into(),
        name: "Trần Thanh Mẫn".into(),
        delegation: Some("Hậu Giang".into()),
        seat: None,
        roles: vec![
            role(PersonRole::Delegate, Some("2021-07-20"), None),
            role(
                PersonRole::ViceChair,
                Some("2021-07-20"),
                Some("2024-05-19"),
            ),
            role(PersonRole::Chair, Some("2024-05-20"), None),
        ],
    };
    chair.roles[2].title = Some("Chủ tịch Quốc hội".into());
    let people = [
        delegate("dbqh-0123", "Nguyễn Văn A", "Hà Nội", "A-12"),
        chair,
    ];
    assert_eq!(
        store.import_people(&people, "tester").unwrap(),
        summary(2, 0, 0)
    );

    let listed = store.people().unwrap();
    let keys: Vec<_> = listed.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["dbqh-0001", "dbqh-0123"]);
    let chair = &listed[0];
    assert_eq!(chair.roles.len(), 3);
    assert_eq!(chair.roles[2].title.as_deref(), Some("Chủ tịch Quốc hội"));
    // Roles change over time: vice-chair before 20 May 2024, chair after.
    let on = |date| -> Vec<_> { chair.roles_on(date).map(|r| r.role).collect() };
    assert_eq!(
        on("2023-01-01"),
        [PersonRole::Delegate, PersonRole::ViceChair]
    );
    assert_eq!(on("2024-05-20"), [PersonRole::Delegate, PersonRole::Chair]);

    let by_key = store.person("dbqh-0123").unwrap();
    assert_eq!(by_key.seat.as_deref(), Some("A-12"));
    assert_eq!(store.person_by_id(by_key.id).unwrap(), by_key);
    assert!(matches!(
        store.person("nobody"),
        Err(Error::UnknownPerson(_))
    ));
}

#[test]
fn a_reimport_updates_by_id_and_never_duplicates() {
    let (_dir, mut store) = open();
    let first = [
        delegate("dbqh-0123", "Nguyễn Văn A", "Hà Nội", "A-12"),
        delegate("dbqh-0124", "Lê Thị B", "Huế", "A-13"),
    ];
    store.import_people(&first, "tester").unwrap();
    let id_before = store.person("dbqh-0123").unwrap().id;

    assert_eq!(
        store.import_people(&first, "tester").unwrap(),
        summary(0, 0, 2)
    );

    let mut moved = delegate("dbqh-0123", "Nguyễn Văn A", "Hà Nội", "B-3");
    moved
        .roles
        .push(role(PersonRole::Minister, Some("2025-01-01"), None));
    let second = [moved, delegate("dbqh-0200", "Phạm C", "Cần Thơ", "C-1")];
    assert_eq!(
        store.import_people(&second, "tester").unwrap(),
        summary(1, 1, 0)
    );

    let people = store.people().unwrap();
    assert_eq!(people.len(), 3, "one new person, none duplicated");
    let updated = store.person("dbqh-0123").unwrap();
    assert_eq!(updated.id, id_before, "the row id is kept");
    assert_eq!(updated.seat.as_deref(), Some("B-3"));
    assert_eq!(
        updated.roles.len(),
        2,
        "the file's roles replace the old ones"
    );
    // Someone not in the second file is left as they were.
    assert_eq!(
        store.person("dbqh-0124").unwrap().seat.as_deref(),
        Some("A-13")
    );
}

#[test]
fn names_are_stored_nfc_and_trimmed() {
    let (_dir, mut store) = open();
    // "Nguyễn" and "Hà Nội" typed with combining marks.
    let person = NewPerson {
        key: " dbqh-0001 ".into(),
        name: " Nguye\u{302}\u{303}n Văn A ".into(),
        delegation: Some("Ha\u{300} No\u{323}\u{302}i".into()),
        seat: Some("  ".into()),
        roles: vec![],
    };
    store.import_people(&[person], "tester").unwrap();
    let stored = store.person("dbqh-0001").unwrap();
    assert_eq!(stored.name, "Nguyễn Văn A");
    assert_eq!(stored.delegation.as_deref(), Some("Hà Nội"));
    assert_eq!(stored.seat, None, "a blank seat is no seat");
    // The same person typed precomposed is unchanged, not a new person.
    let precomposed = NewPerson {
        key: "dbqh-0001".into(),
        name: "Nguyễn Văn A".into(),
        delegation: Some("Hà Nội".into()),
        ..NewPerson::default()
    };
    assert_eq!(
        store.import_people(&[precomposed], "tester").unwrap(),
        summary(0, 0, 1)
    );
}

#[test]
fn a_bad_entry_is_named_and_nothing_is_written() {
    let (_dir, mut store) = open();
    let good = delegate("dbqh-0001", "Nguyễn Văn A", "Hà Nội", "1");
    let cases: Vec<(NewPerson, &str)> = vec![
        (
            NewPerson {
                name: " ".into(),
                ..good.clone()
            },
            "name",
        ),
        (
            NewPerson {
                key: "k".repeat(MAX_PERSON_KEY_BYTES + 1),
                ..good.clone()
            },
            "id",
        ),
        (
            NewPerson {
                delegation: Some("x".repeat(MAX_DELEGATION_BYTES + 1)),
                ..good.clone()
            },
            "delegation",
        ),
        (
            NewPerson {
                name: "A\u{202E}B".into(),
                ..good.clone()
            },
            "direction",
        ),
        (
            NewPerson {
                seat: Some("1".repeat(65)),
                ..good.clone()
            },
            "seat",
        ),
        (
            NewPerson {
                roles: vec![role(PersonRole::Delegate, Some("2021-02-30"), None)],
                ..good.clone()
            },
            "valid from",
        ),
        (
            NewPerson {
                roles: vec![role(
                    PersonRole::Minister,
                    Some("2024-01-01"),
                    Some("2023-01-01"),
                )],
                ..good.clone()
            },
            "before it starts",
        ),
    ];
    for (bad, expected) in cases {
        let people = [delegate("dbqh-0009", "Lê B", "Huế", "2"), bad];
        match store.import_people(&people, "tester") {
            Err(Error::InvalidPerson { index, reason, .. }) => {
                assert_eq!(index, 1);
                assert!(reason.contains(expected), "{reason:?} lacks {expected:?}");
            }
            other => panic!("expected a refusal for {expected}, got {other:?}"),
        }
    }
    let twice = [good.clone(), delegate("dbqh-0001", "Other", "Huế", "3")];
    assert!(matches!(
        store.import_people(&twice, "tester"),
        Err(Error::InvalidPerson { index: 1, .. })
    ));
    assert!(store.people().unwrap().is_empty(), "all or nothing");
    assert!(
        store
            .audit_log(10)
            .unwrap()
            .iter()
            .all(|e| !e.action.starts_with("person")),
    );
}

#[test]
fn imports_are_audited() {
    let (_dir, mut store) = open();
    store
        .import_people(&[delegate("dbqh-0001", "A", "Huế", "1")], "lan")
        .unwrap();
    store
        .import_people(&[delegate("dbqh-0001", "A", "Huế", "2")], "lan")
        .unwrap();
    let log = store.audit_log(10).unwrap();
    let actions: Vec<_> = log
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.subject.as_deref()))
        .collect();
    assert_eq!(
        actions,
        [
            ("lan", "people_import", Some("people")),
            ("lan", "person_update", Some("person dbqh-0001")),
            ("lan", "people_import", Some("people")),
            ("lan", "person_add", Some("person dbqh-0001")),
        ]
    );
}

#[test]
fn a_speaker_refers_to_a_person() {
    let (_dir, mut store) = open();
    store
        .import_people(
            &[delegate("dbqh-0123", "Nguyễn Văn A", "Hà Nội", "A-12")],
            "t",
        )
        .unwrap();
    let person = store.person("dbqh-0123").unwrap();
    let (session, speakers) = store
        .create_live_session(
            &SessionMeta::default(),
            "a.wav",
            "vi",
            &[tocky_store::NewSpeaker {
                name: "Đại biểu A".into(),
                seat: None,
                channel: Some(0),
            }],
            "t",
        )
        .unwrap();
    assert_eq!(speakers[0].person_id, None);

    let linked = store
        .link_speaker(speakers[0].id, Some(person.id), "lan")
        .unwrap();
    assert_eq!(linked.person_id, Some(person.id));
    assert_eq!(
        store.speakers(session).unwrap()[0].person_id,
        Some(person.id)
    );
    let entry = &store.audit_log(1).unwrap()[0];
    assert_eq!(entry.action, "speaker_link");

    // A re-import keeps the person's row, so the link holds.
    store
        .import_people(
            &[delegate("dbqh-0123", "Nguyễn Văn A", "Hà Nội", "B-1")],
            "t",
        )
        .unwrap();
    assert_eq!(
        store.speakers(session).unwrap()[0].person_id,
        Some(person.id)
    );

    assert!(matches!(
        store.link_speaker(speakers[0].id, Some(9999), "lan"),
        Err(Error::UnknownPerson(_))
    ));
    assert!(matches!(
        store.link_speaker(9999, Some(person.id), "lan"),
        Err(Error::UnknownSpeaker(9999))
    ));
    let unlinked = store.link_speaker(speakers[0].id, None, "lan").unwrap();
    assert_eq!(unlinked.person_id, None);
}
