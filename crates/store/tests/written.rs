//! The written form frozen at publication: each published segment carries
//! the written form of its verbatim text by the store's rules, hashed with
//! the rest; a version keeps it when the rules change afterwards (a rule
//! change alone is a correction of the next version); content published
//! before the written form was frozen still reads, written by today's rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tocky_itn::{Itn, Options};
use tocky_store::{PublishedRecord, ReviewStatus, SegmentEdit, SessionMeta, Store};
use tocky_test_support::{ingest, publish, review_all};

const SPOKEN: &str = "Quốc hội khóa mười lăm, ờ, đã thông qua điều mười hai khoản ba";
const WRITTEN: &str = "Quốc hội khóa XV, đã thông qua điều 12 khoản 3";

/// A sitting of two segments, reviewed: the first with numbers and a filler.
fn sitting(dir: &std::path::Path) -> (Store, i64) {
    let mut store = common::open(dir);
    let doc = common::doc('e', &[SPOKEN, "xin cảm ơn"]);
    let id = ingest(&mut store, &doc, &SessionMeta::default());
    review_all(&mut store, id, "lan");
    (store, id)
}

fn frozen(store: &Store, id: i64, number: i64) -> PublishedRecord {
    serde_json::from_str(&store.version(id, number).unwrap().content).unwrap()
}

#[test]
fn a_version_freezes_the_written_form_and_keeps_it_when_the_rules_change() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, id) = sitting(dir.path());
    assert_eq!(publish(&mut store, id), 1);
    let v1 = store.version(id, 1).unwrap();
    let record = frozen(&store, id, 1);
    assert_eq!(record.schema_version, tocky_store::workflow::SCHEMA_VERSION);
    assert_eq!(record.segments[0].text, SPOKEN, "the verbatim text stays");
    assert_eq!(record.segments[0].written.as_deref(), Some(WRITTEN));
    assert_eq!(record.segments[1].written.as_deref(), Some("xin cảm ơn"));
    // The store's segment is as said.
    assert_eq!(store.segments(id).unwrap()[0].text, SPOKEN);
    // Hashed with the rest.
    assert_eq!(
        v1.info.sha256,
        tocky_store::workflow::sha256_hex(v1.content.as_bytes())
    );

    // Later rules (the filler kept) change neither the version's bytes nor
    // what it prints.
    let keep = Options {
        remove_marked: false,
        ..Options::default()
    };
    store.set_written(keep.clone());
    assert_eq!(store.version(id, 1).unwrap().content, v1.content);
    let again = frozen(&store, id, 1);
    assert_eq!(again.segments[0].written_or(store.written()), WRITTEN);

    // Publishing again with the new rules (after an edit elsewhere sent it
    // back to draft): the first segment's words are the same, what readers
    // see of it changed, and its correction says how.
    let seg = store.segments(id).unwrap()[1].clone();
    let edit = SegmentEdit {
        text: Some("xin trân trọng cảm ơn".into()),
        ..SegmentEdit::default()
    };
    store
        .edit_segment(seg.id, seg.version, &edit, "lan")
        .unwrap();
    let seg = store.segment(seg.id).unwrap();
    let review = SegmentEdit {
        review_status: Some(ReviewStatus::Reviewed),
        ..SegmentEdit::default()
    };
    store
        .edit_segment(seg.id, seg.version, &review, "lan")
        .unwrap();
    assert_eq!(publish(&mut store, id), 2);
    let v2 = frozen(&store, id, 2);
    let kept = Itn::new(keep).line(SPOKEN).text;
    assert_eq!(v2.segments[0].written.as_deref(), Some(kept.as_str()));
    let corrections = store.corrections(id, 2).unwrap();
    let first = corrections
        .iter()
        .find(|c| c.target_id == v2.segments[0].id)
        .expect("the written form's change is listed");
    assert_eq!(
        (
            first.change.as_str(),
            first.before.as_deref(),
            first.after.as_deref()
        ),
        ("text", Some(WRITTEN), Some(kept.as_str()))
    );
    // Version 1 is still what it was.
    assert_eq!(store.version(id, 1).unwrap().content, v1.content);
}

#[test]
fn content_published_before_the_written_form_was_frozen_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, id) = sitting(dir.path());
    publish(&mut store, id);
    // A version as an older release wrote it: no `written`, schema 1.
    let mut old = frozen(&store, id, 1);
    old.schema_version = 1;
    for s in &mut old.segments {
        s.written = None;
    }
    let old = serde_json::to_string(&old).unwrap();
    assert!(!old.contains("written"), "{old}");
    {
        // Only a release before this one could have written it: the
        // frozen-version trigger is lifted for the test alone.
        let conn = rusqlite::Connection::open(dir.path().join("tocky.db")).unwrap();
        conn.execute_batch("DROP TRIGGER record_versions_frozen")
            .unwrap();
        conn.execute(
            "UPDATE record_versions SET content = ?1, sha256 = ?2 WHERE number = 1",
            (&old, tocky_store::workflow::sha256_hex(old.as_bytes())),
        )
        .unwrap();
    }
    let store = Store::open(&dir.path().join("tocky.db")).unwrap();
    let version = store.version(id, 1).unwrap();
    assert_eq!(version.content, old);
    let record: PublishedRecord = serde_json::from_str(&version.content).unwrap();
    assert_eq!(record.segments[0].written, None);
    // Written by today's rules, the store's.
    assert_eq!(record.segments[0].written_or(store.written()), WRITTEN);
    // Read and written again, it is the same bytes (no `written: null`).
    assert_eq!(serde_json::to_string(&record).unwrap(), old);
}
