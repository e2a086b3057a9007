//! The workflow of a sitting in the store: steps in order and refusals
//! with their reasons, frozen versions, corrections, the log of steps, and
//! a change to the record sending a sitting back to draft.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tocky_store::{
    Error, Reasons, Refusal, ReviewStatus, SegmentEdit, SessionMeta, Store, VersionState,
    WorkflowState as W,
};

/// A store with one sitting of three segments; returns the store and the
/// session.
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

fn step(store: &mut Store, session: i64, to: W, who: &str) -> tocky_store::Result<W> {
    store
        .move_workflow(session, to, who, None, &Reasons::default())
        .map(|m| m.to)
}

fn refusal(result: tocky_store::Result<W>) -> (Refusal, String) {
    match result {
        Err(e @ Error::WorkflowRefused { .. }) => {
            let message = e.to_string();
            let Error::WorkflowRefused { refusal, .. } = e else {
                unreachable!()
            };
            (refusal, message)
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_sitting_moves_in_order_and_each_step_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, id) = sitting(dir.path());
    assert_eq!(store.session(id).unwrap().workflow, "draft");

    let (r, message) = refusal(step(&mut store, id, W::Checked, "lan"));
    assert_eq!(r, Refusal::Unreviewed { count: 3 });
    assert_eq!(message, "3 segments are not reviewed yet");
    // Approving while segments are unreviewed says so first.
    let (_, message) = refusal(step(&mut store, id, W::Approved, "thu"));
    assert_eq!(message, "3 segments are not reviewed yet");

    review_all(&mut store, id);
    let (_, message) = refusal(step(&mut store, id, W::Approved, "thu"));
    assert_eq!(
        message,
        "only a checked sitting can be approved (it is draft)"
    );
    let (_, message) = refusal(step(&mut store, id, W::Final, "thu"));
    assert_eq!(
        message,
        "only a published sitting can be made final (it is draft)"
    );

    assert_eq!(step(&mut store, id, W::Checked, "lan").unwrap(), W::Checked);
    let (_, message) = refusal(step(&mut store, id, W::Checked, "lan"));
    assert_eq!(message, "the sitting is checked already");
    let (_, message) = refusal(step(&mut store, id, W::Published, "thu"));
    assert_eq!(
        message,
        "only an approved sitting can be published (it is checked)"
    );
    assert_eq!(
        step(&mut store, id, W::Approved, "thu").unwrap(),
        W::Approved
    );

    let moved = store
        .move_workflow(
            id,
            W::Published,
            "thu",
            Some("bản tạm"),
            &Reasons::default(),
        )
        .unwrap();
    assert_eq!((moved.from, moved.to), (W::Approved, W::Published));
    let v1 = moved.version.unwrap();
    assert_eq!((v1.number, v1.state), (1, VersionState::Provisional));
    assert_eq!(v1.published_by, "thu");
    assert_eq!(v1.note.as_deref(), Some("bản tạm"));
    assert_eq!((v1.previous, v1.next, v1.corrections), (None, None, 0));
    assert_eq!(store.session(id).unwrap().workflow, "published");

    let moved = step(&mut store, id, W::Final, "thu").unwrap();
    assert_eq!(moved, W::Final);
    let v = &store.versions(id).unwrap()[0];
    assert_eq!(v.state, VersionState::Final);
    assert_eq!(v.finalised_by.as_deref(), Some("thu"));
    assert_eq!(v.sha256, v1.sha256, "finalising does not touch the content");

    let workflow = store.workflow(id).unwrap();
    assert_eq!(workflow.state, W::Final);
    let steps: Vec<_> = workflow
        .history
        .iter()
        .map(|s| (s.actor.as_str(), s.from.as_str(), s.to.as_str(), s.version))
        .collect();
    assert_eq!(
        steps,
        [
            ("lan", "draft", "checked", None),
            ("thu", "checked", "approved", None),
            ("thu", "approved", "published", Some(1)),
            ("thu", "published", "final", Some(1)),
        ]
    );
    let audit = store.audit_log(10).unwrap();
    let moves: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "workflow")
        .map(|a| a.actor.as_str())
        .collect();
    assert_eq!(moves, ["thu", "thu", "thu", "lan"]);
}

#[test]
fn a_version_is_frozen_and_the_next_lists_its_corrections() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, id) = sitting(dir.path());
    review_all(&mut store, id);
    step(&mut store, id, W::Checked, "lan").unwrap();
    step(&mut store, id, W::Approved, "thu").unwrap();
    step(&mut store, id, W::Published, "thu").unwrap();
    let v1 = store.version(id, 1).unwrap();
    assert_eq!(
        v1.info.sha256,
        tocky_store::workflow::sha256_hex(v1.content.as_bytes())
    );
    assert_eq!(v1.info.bytes as usize, v1.content.len());
    let record: tocky_store::PublishedRecord = serde_json::from_str(&v1.content).unwrap();
    assert_eq!(record.segments.len(), 3);
    assert_eq!(record.segments[1].text, "luật đất đai");

    // A correction after publication: the sitting is a draft again,
    // readers keep version 1 as it was.
    let segments = store.segments(id).unwrap();
    let second = &segments[1];
    let edit = SegmentEdit {
        text: Some("luật Đất đai (sửa đổi)".into()),
        ..SegmentEdit::default()
    };
    store
        .edit_segment(second.id, second.version, &edit, "lan")
        .unwrap();
    let workflow = store.workflow(id).unwrap();
    assert_eq!(workflow.state, W::Draft);
    assert_eq!(workflow.published.as_ref().unwrap().number, 1);
    assert_eq!(workflow.history.last().unwrap().actor, "tocky");
    assert_eq!(store.version(id, 1).unwrap(), v1, "version 1 is unchanged");

    step(&mut store, id, W::Checked, "lan").unwrap();
    step(&mut store, id, W::Approved, "thu").unwrap();
    let reasons = Reasons {
        by_segment: [(second.id, "đại biểu đề nghị sửa".to_owned())].into(),
        default: None,
    };
    let v2 = store
        .move_workflow(id, W::Published, "thu", Some("bản sửa"), &reasons)
        .unwrap()
        .version
        .unwrap();
    assert_eq!((v2.number, v2.previous, v2.corrections), (2, Some(1), 1));
    assert_ne!(v2.sha256, v1.info.sha256);
    assert_eq!(store.version(id, 1).unwrap().content, v1.content);
    assert_eq!(store.version(id, 1).unwrap().info.next, Some(2));

    let corrections = store.corrections(id, 2).unwrap();
    assert_eq!(corrections.len(), 1);
    let c = &corrections[0];
    assert_eq!(
        (
            c.version,
            c.previous_version,
            c.target.as_str(),
            c.target_id
        ),
        (2, 1, "segment", second.id)
    );
    assert_eq!(c.change, "text");
    assert_eq!(c.before.as_deref(), Some("luật đất đai"));
    assert_eq!(c.after.as_deref(), Some("luật Đất đai (sửa đổi)"));
    assert_eq!(c.at_ms, Some(second.start_ms));
    assert_eq!(c.reason.as_deref(), Some("đại biểu đề nghị sửa"));
    assert!(store.corrections(id, 1).unwrap().is_empty());
    // And back: from the segment to the corrections it had.
    assert_eq!(store.segment_corrections(second.id).unwrap(), corrections);

    // The store refuses to change a published version, even by hand.
    let conn = rusqlite::Connection::open(dir.path().join("tocky.db")).unwrap();
    let tamper = conn.execute(
        "UPDATE record_versions SET content = '{}' WHERE number = 1",
        [],
    );
    assert!(tamper.is_err());

    assert!(matches!(
        store.version(id, 3),
        Err(Error::UnknownVersion { number: 3, .. })
    ));
}

#[test]
fn an_empty_or_live_sitting_is_not_published() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    let tocky_store::IngestOutcome::Created { session_id, .. } = store
        .ingest(&common::doc('e', &[]), &SessionMeta::default(), "test")
        .unwrap()
    else {
        panic!("created")
    };
    let (r, message) = refusal(step(&mut store, session_id, W::Published, "thu"));
    assert_eq!(r, Refusal::Empty { step: "published" });
    assert_eq!(message, "an empty sitting cannot be published");
    assert!(store.versions(session_id).unwrap().is_empty());
    assert!(store.workflow(session_id).unwrap().history.is_empty());
}

#[test]
fn corrections_list_removed_speaker_and_note_changes_and_republishing_unchanged_makes_no_version() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, id) = sitting(dir.path());
    review_all(&mut store, id);
    let publish = |store: &mut Store| {
        step(store, id, W::Checked, "lan").unwrap();
        step(store, id, W::Approved, "thu").unwrap();
        store
            .move_workflow(
                id,
                W::Published,
                "thu",
                Some("lý do chung"),
                &Reasons::default(),
            )
            .unwrap()
    };
    publish(&mut store);
    // A speaker named, a segment out of the record: two corrections.
    let speaker = store
        .add_speaker_as(id, "Nguyễn Văn A", None, "lan")
        .unwrap();
    let segments = store.segments(id).unwrap();
    let edit = SegmentEdit {
        speaker_id: Some(Some(speaker.id)),
        ..SegmentEdit::default()
    };
    store
        .edit_segment(segments[0].id, segments[0].version, &edit, "lan")
        .unwrap();
    store
        .set_segment_state(
            segments[2].id,
            segments[2].version,
            tocky_store::SegmentState::NotSpeech,
            "lan",
        )
        .unwrap();
    let v2 = publish(&mut store).version.unwrap();
    let changes: Vec<_> = store
        .corrections(id, v2.number)
        .unwrap()
        .into_iter()
        .map(|c| (c.change, c.before, c.after, c.reason))
        .collect();
    let reason = Some("lý do chung".to_owned());
    assert_eq!(
        changes,
        [
            (
                "speaker".to_owned(),
                None,
                Some("Nguyễn Văn A".to_owned()),
                reason.clone()
            ),
            (
                "removed".to_owned(),
                Some("xin cảm ơn".to_owned()),
                None,
                reason
            ),
        ]
    );

    // Undo and redo of a change leave the record as version 2: publishing
    // makes no version 3.
    let s = store.segment(segments[1].id).unwrap();
    let edit = |text: &str| SegmentEdit {
        text: Some(text.into()),
        ..SegmentEdit::default()
    };
    let s = store
        .edit_segment(s.id, s.version, &edit("tạm"), "lan")
        .unwrap();
    store
        .edit_segment(s.id, s.version, &edit("luật đất đai"), "lan")
        .unwrap();
    let again = publish(&mut store);
    assert_eq!(again.to, W::Published);
    assert_eq!(again.version.unwrap().number, 2);
    assert_eq!(store.versions(id).unwrap().len(), 2);
}

#[test]
fn an_editor_account_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
    let user = store
        .add_user("thu", hash, tocky_store::Role::Editor, "admin")
        .unwrap();
    assert_eq!(user.role, tocky_store::Role::Editor);
    assert!(tocky_store::Role::Editor > tocky_store::Role::Stenographer);
    assert!(tocky_store::Role::Editor < tocky_store::Role::Admin);
    assert_eq!("editor".parse(), Ok(tocky_store::Role::Editor));
    drop(store);
    let store = common::open(dir.path());
    assert_eq!(
        store.user_credentials("thu").unwrap().map(|(u, _)| u.role),
        Some(tocky_store::Role::Editor)
    );
}
