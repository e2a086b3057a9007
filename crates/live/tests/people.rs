//! A hall map that names registry people: `LiveSession::create` gives
//! their speakers the registry's names and links them; an unknown id stops
//! the start before anything is written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use tocky_capture::HallMap;
use tocky_index::SearchIndex;
use tocky_live::{LiveOptions, LiveSession, LiveTarget};
use tocky_store::{NewPerson, Store};

const MAP: &str = r#"
[[channel]]
index = 0
role = "chair"
person = "dbqh-0001"

[[channel]]
index = 1
seat = "A12"
name = "Đại biểu A"
person = "dbqh-0123"

[[channel]]
index = 2
seat = "B3"
name = "Khách mời"
"#;

/// A record with two registry people, and its search index.
fn setup(dir: &Path) -> (PathBuf, SearchIndex) {
    let db = dir.join("tocky.db");
    let mut store = Store::open(&db).unwrap();
    let people = [
        ("dbqh-0001", "Trần Thanh Mẫn"),
        ("dbqh-0123", "Nguyễn Văn A"),
    ]
    .map(|(key, name)| NewPerson {
        key: key.into(),
        name: name.into(),
        ..NewPerson::default()
    });
    store.import_people(&people, "test").unwrap();
    let (index, _) = SearchIndex::open_synced(&tocky_index::default_dir(&db), &store).unwrap();
    (db, index)
}

/// The record alone: nobody watches (no server).
fn target<'a>(db: &'a Path, index: &'a SearchIndex) -> LiveTarget<'a> {
    LiveTarget {
        db,
        index,
        output: &(),
    }
}

fn options(dir: &Path, map: &str) -> LiveOptions {
    LiveOptions {
        channel_numbers: vec![0, 1, 2],
        hall_map: Some(HallMap::from_toml(map).unwrap()),
        archive_dir: dir.join("audio"),
        ..LiveOptions::default()
    }
}

#[test]
fn speakers_named_by_person_are_linked_with_the_registry_s_name() {
    let dir = tempfile::tempdir().unwrap();
    let (db, index) = setup(dir.path());
    let session = LiveSession::create(&target(&db, &index), &options(dir.path(), MAP)).unwrap();
    let store = Store::open(&db).unwrap();
    let mut speakers = store.speakers(session.id).unwrap();
    speakers.sort_by_key(|s| s.channel);
    let chair = store.person("dbqh-0001").unwrap();
    let a = store.person("dbqh-0123").unwrap();
    let seen: Vec<_> = speakers
        .iter()
        .map(|s| (s.name.as_str(), s.seat.as_deref(), s.person_id))
        .collect();
    assert_eq!(
        seen,
        [
            ("Trần Thanh Mẫn (chair)", Some("chair"), Some(chair.id)),
            ("Nguyễn Văn A (A12)", Some("A12"), Some(a.id)),
            ("Khách mời (B3)", Some("B3"), None),
        ]
    );
    // The live loop's speakers carry the same names.
    let names: Vec<_> = session
        .speakers
        .iter()
        .map(|s| s.as_ref().unwrap().1.clone())
        .collect();
    assert_eq!(
        names,
        [
            "Trần Thanh Mẫn (chair)",
            "Nguyễn Văn A (A12)",
            "Khách mời (B3)"
        ]
    );
    let links = store
        .audit_log(50)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "speaker_link")
        .count();
    assert_eq!(links, 2);
}

#[test]
fn an_unknown_person_stops_the_start_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db, index) = setup(dir.path());
    let map = MAP.replace("dbqh-0123", "dbqh-9999");
    let error = LiveSession::create(&target(&db, &index), &options(dir.path(), &map))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("hall map channel 1 (Đại biểu A): no person \"dbqh-9999\""),
        "{error}"
    );
    let store = Store::open(&db).unwrap();
    assert!(store.session_summaries().unwrap().is_empty());
}
