//! What happened since, in the store's workflow: the corrections that
//! publishing now would list (the same as publishing then stores), and the
//! steps logged after a mark (the step a change to the record made).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tocky_store::{Reasons, SegmentEdit, SessionMeta, Store, WorkflowState as W};
use tocky_test_support::{ingest, publish, review_all};

fn sitting(dir: &std::path::Path) -> (Store, i64) {
    let mut store = common::open(dir);
    let doc = common::doc('a', &["Kính thưa Quốc hội", "luật đất đai", "xin cảm ơn"]);
    let id = ingest(&mut store, &doc, &SessionMeta::default());
    (store, id)
}

#[test]
fn pending_corrections_are_those_publishing_lists() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, id) = sitting(dir.path());
    let pending = store.pending_corrections(id).unwrap();
    assert_eq!((pending.previous, pending.next), (None, 1));
    assert!(!pending.unchanged);
    assert!(pending.corrections.is_empty());

    review_all(&mut store, id, "lan");
    publish(&mut store, id);
    let pending = store.pending_corrections(id).unwrap();
    assert_eq!((pending.previous, pending.next), (Some(1), 2));
    assert!(pending.unchanged);
    assert!(pending.corrections.is_empty());

    let mark = store.workflow_log_mark().unwrap();
    let s = store.segments(id).unwrap().remove(1);
    let edit = SegmentEdit {
        text: Some("luật đất đai sửa đổi".into()),
        ..SegmentEdit::default()
    };
    store.edit_segment(s.id, s.version, &edit, "lan").unwrap();
    let pending = store.pending_corrections(id).unwrap();
    assert!(!pending.unchanged);
    assert_eq!(pending.corrections.len(), 1);
    let c = &pending.corrections[0];
    assert_eq!((c.target.as_str(), c.change.as_str()), ("segment", "text"));
    assert_eq!(
        (c.id, c.target_id, c.version, c.previous_version),
        (0, s.id, 2, 1)
    );
    assert_eq!(c.at_ms, Some(s.start_ms));
    assert_eq!(c.before.as_deref(), Some("luật đất đai"));
    assert_eq!(c.after.as_deref(), Some("luật đất đai sửa đổi"));
    assert_eq!(c.reason, None);

    // The edit sent the sitting back to draft: one step after the mark,
    // the triggers' own.
    let steps = store.workflow_steps_after(mark, 10).unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].session_id, id);
    assert_eq!(steps[0].step.actor, "tocky");
    assert_eq!(
        (steps[0].step.from.as_str(), steps[0].step.to.as_str()),
        ("published", "draft")
    );
    assert_eq!(store.workflow_log_mark().unwrap(), steps[0].id);
    assert!(
        store
            .workflow_steps_after(steps[0].id, 10)
            .unwrap()
            .is_empty()
    );

    // Publishing stores the same corrections, with their reasons.
    review_all(&mut store, id, "lan");
    for to in [W::Checked, W::Approved] {
        store
            .move_workflow(id, to, "thu", None, &Reasons::default())
            .unwrap();
    }
    let reasons = Reasons {
        by_segment: [(s.id, "đại biểu xin sửa".to_owned())].into(),
        default: None,
    };
    store
        .move_workflow(id, W::Published, "thu", None, &reasons)
        .unwrap();
    let stored = store.corrections(id, 2).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].before.clone(), stored[0].after.clone()),
        (c.before.clone(), c.after.clone())
    );
    assert_eq!(stored[0].reason.as_deref(), Some("đại biểu xin sửa"));
    // And nothing is pending after it.
    let pending = store.pending_corrections(id).unwrap();
    assert!(pending.unchanged);
    assert_eq!((pending.previous, pending.next), (Some(2), 3));
}

#[test]
fn steps_after_a_mark_are_bounded_and_include_the_triggers() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, id) = sitting(dir.path());
    assert_eq!(store.workflow_log_mark().unwrap(), 0);
    review_all(&mut store, id, "lan");
    publish(&mut store, id);
    assert_eq!(store.workflow_steps_after(0, 2).unwrap().len(), 2);
    let all = store.workflow_steps_after(0, 100).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].step.version, Some(1));

    // A change to the record: the triggers' step, and only it, follows.
    let s = store.segments(id).unwrap().remove(0);
    let edit = SegmentEdit {
        text: Some("Kính thưa Quốc hội!".into()),
        ..SegmentEdit::default()
    };
    store.edit_segment(s.id, s.version, &edit, "lan").unwrap();
    let steps = store.workflow_steps_after(all[2].id, 100).unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(
        (steps[0].step.actor.as_str(), steps[0].step.note.as_deref()),
        ("tocky", Some("the record changed"))
    );
    assert!(store.pending_corrections(id + 100).is_err());
}
