//! The store on real SQLite files.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{doc, open};
use tocky_store::{Error, IngestOutcome, ReviewStatus, SegmentEdit, SessionMeta, Store};

#[test]
fn ingest_stores_nfc_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let nfd: String = "Quo\u{302}\u{301}c ho\u{323}\u{302}i".into();
    let d = doc('a', &[&nfd, "Kính thưa Quốc hội"]);
    let meta = SessionMeta {
        title: Some("Kỳ họp thứ 8".into()),
        sitting_date: Some("2026-10-21".into()),
        agenda_item: None,
    };
    let first = store.ingest(&d, &meta, "tester").unwrap();
    let IngestOutcome::Created {
        session_id,
        segments: 2,
    } = first
    else {
        panic!("{first:?}")
    };
    let generation = store.generation().unwrap();

    assert_eq!(
        store.ingest(&d, &meta, "tester").unwrap(),
        IngestOutcome::AlreadyPresent { session_id }
    );
    assert_eq!(
        store.generation().unwrap(),
        generation,
        "a no-op ingest changes nothing"
    );
    let mut shouted = d.clone();
    shouted.source.sha256 = shouted.source.sha256.to_ascii_uppercase();
    assert_eq!(
        store.ingest(&shouted, &meta, "tester").unwrap(),
        IngestOutcome::AlreadyPresent { session_id },
        "the same hash in capitals is the same audio"
    );
    let segments = store.segments(session_id).unwrap();
    assert_eq!(segments.len(), 2);
    assert_eq!(segments[0].text, "Quốc hội", "stored as NFC");
    assert_eq!(segments[0].words[0].end_ms, 300);
    let session = store.session(session_id).unwrap();
    assert_eq!(
        (session.title.as_str(), session.sitting_date.as_deref()),
        ("Kỳ họp thứ 8", Some("2026-10-21"))
    );
    assert_eq!(store.sessions().unwrap().len(), 1);
    assert!(matches!(
        store.session(999),
        Err(Error::UnknownSession(999))
    ));
}

#[test]
fn edits_need_the_current_version_and_keep_every_revision() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let IngestOutcome::Created { session_id, .. } = store
        .ingest(
            &doc('b', &["đại biểu quốc hộ"]),
            &SessionMeta::default(),
            "t",
        )
        .unwrap()
    else {
        panic!()
    };
    let seg = store.segments(session_id).unwrap().remove(0);
    assert_eq!(seg.version, 1);
    let edit = SegmentEdit {
        text: Some("Đại biểu Quốc hội".into()),
        ..SegmentEdit::default()
    };
    let v2 = store.edit_segment(seg.id, 1, &edit, "lan").unwrap();
    assert_eq!((v2.version, v2.text.as_str()), (2, "Đại biểu Quốc hội"));

    // A second stenographer still on version 1 is refused, with the current text.
    let stale = SegmentEdit {
        text: Some("đại biểu quốc hội!".into()),
        ..SegmentEdit::default()
    };
    match store.edit_segment(seg.id, 1, &stale, "minh") {
        Err(Error::Conflict { current }) => assert_eq!(
            (current.version, current.text.as_str()),
            (2, "Đại biểu Quốc hội")
        ),
        other => panic!("{other:?}"),
    }
    let reviewed = SegmentEdit {
        review_status: Some(ReviewStatus::Reviewed),
        ..SegmentEdit::default()
    };
    let v3 = store.edit_segment(seg.id, 2, &reviewed, "minh").unwrap();
    assert_eq!(
        (v3.version, v3.review_status.as_str(), v3.text.as_str()),
        (3, "reviewed", "Đại biểu Quốc hội")
    );

    let revisions = store.revisions(seg.id).unwrap();
    assert_eq!(revisions.len(), 2);
    assert_eq!(
        (
            revisions[0].author.as_str(),
            revisions[0].text_before.as_str()
        ),
        ("lan", "đại biểu quốc hộ")
    );
    assert_eq!(revisions[1].status_after, "reviewed");

    // Restoring the first revision is itself a new edit.
    let v4 = store
        .restore_revision(seg.id, revisions[0].id, 3, "lan")
        .unwrap();
    assert_eq!((v4.version, v4.review_status.as_str()), (4, "draft"));
    assert_eq!(store.revisions(seg.id).unwrap().len(), 3);
    let log = store.audit_log(10).unwrap();
    // The restore is logged as what it is, not as a plain edit.
    assert_eq!(log[0].action, "restore");
    assert_eq!(log[0].subject, Some(format!("segment {}", seg.id)));
    assert_eq!(log.iter().filter(|e| e.action == "edit").count(), 2);
    assert!(matches!(
        store.edit_segment(424_242, 1, &edit, "x"),
        Err(Error::UnknownSegment(424_242))
    ));
}

#[test]
fn bad_documents_are_refused_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let meta = SessionMeta::default();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let err = store
        .ingest_file(&write("bad.json", b"{not json"), &meta, "t")
        .unwrap_err();
    assert!(err.to_string().contains("not a tocky transcript"), "{err}");
    let newer = doc('c', &["a"])
        .to_json()
        .replace("\"schema_version\": 1", "\"schema_version\": 9");
    let err = store
        .ingest_file(&write("v9.json", newer.as_bytes()), &meta, "t")
        .unwrap_err();
    assert!(
        err.to_string().contains("version 9 is not supported"),
        "{err}"
    );
    let err = store
        .ingest_file(
            &write(
                "latin1.json",
                b"{\"schema\": \"tocky.transcript\", \"x\": \"\xe9\"}",
            ),
            &meta,
            "t",
        )
        .unwrap_err();
    assert!(err.to_string().contains("not UTF-8"), "{err}");
    let mut backwards = doc('d', &["a"]);
    backwards.transcript.segments[0].end_ms = 10;
    backwards.transcript.segments[0].start_ms = 20;
    let err = store.ingest(&backwards, &meta, "t").unwrap_err();
    assert!(
        err.to_string()
            .contains("ends (10 ms) before it starts (20 ms)"),
        "{err}"
    );
    assert!(store.sessions().unwrap().is_empty(), "nothing half-written");
    assert!(
        store
            .ingest_file(&dir.path().join("missing.json"), &meta, "t")
            .is_err()
    );
}

#[test]
fn backup_while_writing_and_restore_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let IngestOutcome::Created { session_id, .. } = store
        .ingest(&doc('e', &["một", "hai"]), &SessionMeta::default(), "t")
        .unwrap()
    else {
        panic!()
    };
    // A second connection keeps writing while the backup runs.
    let writer = std::thread::spawn({
        let path = store.path().to_owned();
        move || {
            let mut other = Store::open(&path).unwrap();
            for (i, c) in ['1', '2', '3', '4', '5'].iter().enumerate() {
                other
                    .ingest(
                        &doc(*c, &["ba"; 50]),
                        &SessionMeta::default(),
                        &format!("w{i}"),
                    )
                    .unwrap();
            }
        }
    });
    let backup = dir.path().join("backup.db");
    store.backup(&backup).unwrap();
    writer.join().unwrap();
    let copy = Store::open(&backup).unwrap();
    assert!(copy.session(session_id).is_ok());
    drop(copy);

    // After the backup, an edit; restoring brings back the backed-up text.
    let seg = store.segments(session_id).unwrap().remove(0);
    store
        .edit_segment(
            seg.id,
            1,
            &SegmentEdit {
                text: Some("sửa".into()),
                ..SegmentEdit::default()
            },
            "t",
        )
        .unwrap();
    let before = store.generation().unwrap();
    store.restore(&backup).unwrap();
    assert_eq!(store.segment(seg.id).unwrap().text, "một");
    assert!(
        store.generation().unwrap() != before,
        "a restore tells the index to rebuild"
    );
    assert!(store.restore(&dir.path().join("nope.db")).is_err());
    std::fs::write(dir.path().join("junk.db"), b"junk junk junk").unwrap();
    assert!(store.restore(&dir.path().join("junk.db")).is_err());
    assert_eq!(
        store.segment(seg.id).unwrap().text,
        "một",
        "a failed restore leaves the store alone"
    );
}

#[test]
fn concurrent_writers_are_serialised() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tocky.db");
    let mut store = Store::open(&path).unwrap();
    let IngestOutcome::Created { session_id, .. } = store
        .ingest(&doc('f', &["a"; 4]), &SessionMeta::default(), "t")
        .unwrap()
    else {
        panic!()
    };
    let ids: Vec<i64> = store
        .segments(session_id)
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let path = path.clone();
            let ids = ids.clone();
            std::thread::spawn(move || {
                let mut s = Store::open(&path).unwrap();
                for round in 0..10 {
                    // Everyone edits every segment, reading its version first; a
                    // conflict (someone saved in between) is retried, never lost.
                    for id in &ids {
                        loop {
                            let v = s.segment(*id).unwrap().version;
                            let edit = SegmentEdit {
                                text: Some(format!("t{t} r{round}")),
                                ..SegmentEdit::default()
                            };
                            match s.edit_segment(*id, v, &edit, &format!("writer{t}")) {
                                Ok(_) => break,
                                Err(Error::Conflict { .. }) => continue,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for id in ids {
        let seg = store.segment(id).unwrap();
        assert_eq!(seg.version, 41, "1 + 4 writers x 10 rounds");
        assert_eq!(store.revisions(id).unwrap().len(), 40);
    }
}

#[test]
fn an_index_can_catch_up_with_exactly_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let IngestOutcome::Created { session_id, .. } = store
        .ingest(
            &doc('7', &["một", "hai", "ba"]),
            &SessionMeta::default(),
            "t",
        )
        .unwrap()
    else {
        panic!()
    };
    let rows = |store: &Store, since| {
        let mut ids = Vec::new();
        let sync = store
            .search_rows_since(since, None, None, |r| ids.push(r.segment_id))
            .unwrap();
        (sync, ids)
    };
    let (all, ids) = rows(&store, None);
    assert_eq!(ids.len(), 3);
    assert_eq!(all.generation, store.generation().unwrap());
    assert_eq!(rows(&store, Some(all.generation)).1, Vec::<i64>::new());

    let segs = store.segments(session_id).unwrap();
    let edit = SegmentEdit {
        text: Some("bốn".into()),
        ..SegmentEdit::default()
    };
    store.edit_segment(segs[1].id, 1, &edit, "t").unwrap();
    let (after_edit, ids) = rows(&store, Some(all.generation));
    assert_eq!(ids, vec![segs[1].id], "only the edited segment");
    assert!(after_edit.generation > all.generation);
    // A segment asked for by id comes too, changed or not.
    let mut asked = Vec::new();
    store
        .search_rows_since(Some(after_edit.generation), None, Some(segs[2].id), |r| {
            asked.push(r.segment_id);
        })
        .unwrap();
    assert_eq!(asked, vec![segs[2].id]);

    // A second ingest: its segments are new since the edit.
    store
        .ingest(&doc('8', &["năm"]), &SessionMeta::default(), "t")
        .unwrap();
    let (_, ids) = rows(&store, Some(after_edit.generation));
    assert_eq!(ids.len(), 1);
    assert!(!segs.iter().any(|s| s.id == ids[0]));
}

#[test]
fn a_restore_moves_the_generation_past_any_index_and_marks_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    store
        .ingest(&doc('9', &["một"]), &SessionMeta::default(), "t")
        .unwrap();
    let backup = dir.path().join("b.db");
    store.backup(&backup).unwrap();
    let backed_up = store.generation().unwrap();
    store
        .ingest(&doc('0', &["hai"]), &SessionMeta::default(), "t")
        .unwrap();
    let before = store.generation().unwrap();
    assert_eq!(before, backed_up + 1);
    store.restore(&backup).unwrap();
    let sync = store.search_sync().unwrap();
    assert!(
        sync.generation > before,
        "{sync:?}: an index at {before} must not look in sync"
    );
    assert_eq!(sync.rebuild_from, sync.generation);
    assert_eq!(store.sessions().unwrap().len(), 1);
}

#[test]
fn a_restore_refuses_what_is_not_a_tocky_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    store
        .ingest(&doc('d', &["một"]), &SessionMeta::default(), "t")
        .unwrap();
    // A sound SQLite file, but not a tocky record.
    let foreign = dir.path().join("foreign.db");
    let conn = rusqlite::Connection::open(&foreign).unwrap();
    conn.execute_batch("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('hi');")
        .unwrap();
    drop(conn);
    // A tocky record from a newer version.
    let newer = dir.path().join("newer.db");
    store.backup(&newer).unwrap();
    let conn = rusqlite::Connection::open(&newer).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    for bad in [&foreign, &newer] {
        let err = store.restore(bad).unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err}");
        assert!(err.to_string().contains("not a tocky record"), "{err}");
    }
    assert_eq!(
        store.sessions().unwrap().len(),
        1,
        "the record is untouched"
    );
    drop(store);
    assert_eq!(open(dir.path()).sessions().unwrap().len(), 1);
}

#[test]
fn a_speaker_added_by_a_person_is_audited_in_its_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    store
        .ingest(&doc('a', &["xin chào"]), &SessionMeta::default(), "t")
        .unwrap();
    let speaker = store
        .add_speaker_as(1, " Chủ tọa ", Some("1"), "lan")
        .unwrap();
    assert_eq!(speaker.name, "Chủ tọa");
    let log = store.audit_log(1).unwrap();
    assert_eq!(
        (
            log[0].actor.as_str(),
            log[0].action.as_str(),
            log[0].subject.as_deref()
        ),
        ("lan", "speaker_add", Some("session 1"))
    );
    // A refused speaker leaves no entry behind.
    for (name, seat) in [
        ("Chủ tọa", None),
        ("B", Some("x".repeat(65))),
        ("C", Some("1\u{202E}".to_owned())),
        ("Đ\nX", None),
    ] {
        assert!(
            store
                .add_speaker_as(1, name, seat.as_deref(), "lan")
                .is_err(),
            "{name:?} {seat:?}"
        );
    }
    assert_eq!(
        store
            .audit_log(10)
            .unwrap()
            .iter()
            .filter(|e| e.action == "speaker_add")
            .count(),
        1
    );
}

#[test]
fn audit_entries_cannot_forge_lines_or_reverse_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    let typed = "admin\nlogin ok\u{202E}\0";
    store
        .audit(typed, "login_failed", &format!("user {typed}"), "")
        .unwrap();
    let entry = &store.audit_log(1).unwrap()[0];
    assert_eq!(entry.actor, "admin\\u{a}login ok\\u{202e}\\u{0}");
    let subject = entry.subject.clone().unwrap_or_default();
    assert!(!subject.contains(['\n', '\u{202E}', '\0']), "{subject}");
    store
        .audit(&"x".repeat(10_000), "login_failed", "", "")
        .unwrap();
    assert!(store.audit_log(1).unwrap()[0].actor.chars().count() <= 97);
}
