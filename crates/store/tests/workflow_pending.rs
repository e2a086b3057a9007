//! What happened since, in the store's workflow: the steps logged after a
//! mark (the step a change to the record made).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tocky_store::{Reasons, ReviewStatus, SegmentEdit, SessionMeta, Store, WorkflowState as W};

fn sitting(dir: &std::path::Path) -> (Store, i64) {
    let mut store = common::open(dir);
    let outcome = store
        .ingest(
            &common::doc('a', &["Kính thưa Quốc hội", "luật đất đai", "xin cảm ơn"]),
            &SessionMeta::default(),
            "test",
        )
        .unwrap();
    let tocky_store::IngestOutcome::Created { session_id, .. } = outcome else {
        panic!("created");
    };
    (store, session_id)
}

fn review_all(store: &mut Store, session: i64) {
    for s in store.segments(session).unwrap() {
        if s.review_status != "reviewed" {
            let edit = SegmentEdit {
                review_status: Some(ReviewStatus::Reviewed),
                ..SegmentEdit::default()
            };
            store.edit_segment(s.id, s.version, &edit, "lan").unwrap();
        }
    }
}

fn publish(store: &mut Store, session: i64) {
    for to in [W::Checked, W::Approved, W::Published] {
        store
            .move_workflow(session, to, "thu", None, &Reasons::default())
            .unwrap();
    }
}

#[test]
fn steps_after_a_mark_are_bounded_and_include_the_triggers() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, id) = sitting(dir.path());
    assert_eq!(store.workflow_log_mark().unwrap(), 0);
    review_all(&mut store, id);
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
}
