//! Scene notes, and agenda and note operations undone and redone, on real
//! SQLite files.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod sitting;

use sitting::{entry, invalid, open, titles};
use tocky_store::{Error, ItemStart, NoteEdit, RecordEntry, SceneKind, StartChange};

#[test]
fn notes_are_added_edited_and_deleted_with_version_checks() {
    let (_dir, mut store, session, _) = open(3);
    let added = store
        .add_note(
            session,
            9_500,
            SceneKind::Applause,
            " Ho\u{302}\u{323}i tru\u{31b}o\u{31b}\u{300}ng vo\u{302}\u{303} tay ",
            "lan",
        )
        .unwrap();
    let note = added.note;
    assert_eq!(note.text, "Hội trường vỗ tay");
    assert!(added.operation_id.is_some());
    let edit = NoteEdit {
        kind: Some(SceneKind::Gavel),
        ..NoteEdit::default()
    };
    let edited = store
        .edit_note(note.id, note.version, &edit, "lan")
        .unwrap();
    assert_eq!(
        (edited.note.kind, edited.note.version),
        (SceneKind::Gavel, 2)
    );
    assert!(matches!(
        store.edit_note(note.id, 1, &edit, "lan"),
        Err(Error::NoteConflict { current }) if current.version == 2
    ));
    assert!(matches!(
        store.delete_note(note.id, 1, "lan"),
        Err(Error::NoteConflict { .. })
    ));
    for (at, kind, text, reason) in [
        (-1, SceneKind::Vote, "", "time"),
        (0, SceneKind::Other, " ", "needs a text"),
        (0, SceneKind::Vote, &"x".repeat(1001) as &str, "at most"),
    ] {
        let e = invalid(store.add_note(session, at, kind, text, "lan").unwrap_err());
        assert!(e.contains(reason), "{e}");
    }
    store.delete_note(note.id, 2, "lan").unwrap();
    assert!(store.notes(session).unwrap().is_empty());
    assert!(matches!(store.note(note.id), Err(Error::UnknownNote(_))));
}

#[test]
fn agenda_and_note_operations_are_undone_and_redone() {
    let (_dir, mut store, session, seg) = open(8);
    let first = store
        .set_agenda(
            session,
            &[
                entry("A", StartChange::At(seg[0])),
                entry("B", StartChange::Keep),
                entry("C", StartChange::At(seg[6])),
            ],
            "lan",
        )
        .unwrap();
    let original = first.items.clone();
    // A new item inserted before C shifts C's place; undoing it puts all back.
    let inserted = store
        .start_agenda_item(
            session,
            seg[3],
            &ItemStart::New {
                title: "Bổ sung".into(),
                reference: None,
            },
            "lan",
        )
        .unwrap();
    assert_eq!(titles(&inserted.items), ["A", "Bổ sung", "B", "C"]);
    let undo = store
        .undo_operation(inserted.operation_id.unwrap(), "minh")
        .unwrap();
    let after_undo = store.agenda(session).unwrap();
    assert_eq!(titles(&after_undo), ["A", "B", "C"]);
    for (now, was) in after_undo.iter().zip(&original) {
        assert_eq!(
            (now.id, now.position, now.start_segment_id),
            (was.id, was.position, was.start_segment_id)
        );
    }
    // Undoing the undo redoes it.
    store.undo_operation(undo.operation_id, "minh").unwrap();
    assert_eq!(
        titles(&store.agenda(session).unwrap()),
        ["A", "Bổ sung", "B", "C"]
    );
    // An item changed since refuses the undo of the first import, naming it.
    let b = store.agenda(session).unwrap()[2].clone();
    store
        .move_agenda_start(b.id, b.version, seg[4], "lan")
        .unwrap();
    let e = store
        .undo_operation(first.operation_id.unwrap(), "minh")
        .unwrap_err();
    assert!(
        matches!(&e, Error::UndoRefused { reason, .. } if reason.contains("\"B\" changed since")),
        "{e}"
    );

    // Notes: an edit and a deletion are undone.
    let note = store
        .add_note(session, 35_000, SceneKind::Vote, "Biểu quyết", "lan")
        .unwrap()
        .note;
    let edited = store
        .edit_note(
            note.id,
            note.version,
            &NoteEdit {
                text: Some("Biểu quyết thông qua".into()),
                ..NoteEdit::default()
            },
            "lan",
        )
        .unwrap();
    store
        .undo_operation(edited.operation_id.unwrap(), "minh")
        .unwrap();
    let back = store.note(note.id).unwrap();
    assert_eq!((back.text.as_str(), back.version), ("Biểu quyết", 3));
    let deleted = store.delete_note(note.id, back.version, "lan").unwrap();
    assert!(store.notes(session).unwrap().is_empty());
    store
        .undo_operation(deleted.operation_id.unwrap(), "minh")
        .unwrap();
    let notes = store.notes(session).unwrap();
    assert_eq!(
        (notes[0].id, notes[0].text.as_str()),
        (note.id, "Biểu quyết")
    );
    let op = store.operation(deleted.operation_id.unwrap()).unwrap();
    assert_eq!((op.kind.as_str(), op.before.notes.len()), ("note", 1));
    let log = store.audit_log(1).unwrap();
    assert_eq!(log[0].action, "undo");
}

#[test]
fn an_item_whose_first_segment_left_the_record_keeps_its_start() {
    let (_dir, mut store, session, seg) = open(4);
    // B starts at the right half of a split ("2", from 27.2 s) …
    let split = store
        .split_segment(seg[2], 1, tocky_store::SplitAt::Word(1), "lan")
        .unwrap();
    let right = split.segments[1].id;
    let list = [
        entry("A", StartChange::At(seg[0])),
        entry("B", StartChange::At(right)),
    ];
    store.set_agenda(session, &list, "lan").unwrap();
    // … and the split is undone: that half leaves the record. (A merge
    // could not take it: the next segment of a merge never starts an item.)
    store.undo_operation(split.operation_id, "lan").unwrap();
    // The agenda stays editable: B keeps its start, and a re-import passes.
    let bare = [entry("A", StartChange::Keep), entry("B", StartChange::Keep)];
    let again = store.set_agenda(session, &bare, "lan").unwrap();
    assert_eq!(again.operation_id, None);
    assert_eq!(again.items[1].start_segment_id, Some(right));
    // In the record, B still starts at that segment's time.
    let record = store.record(session).unwrap();
    assert_eq!(record.items[1].item.as_ref().unwrap().title, "B");
    let RecordEntry::Speech(s) = &record.items[1].entries[0] else {
        panic!()
    };
    assert_eq!(s.segment_ids, [seg[3]]);
    // But no new start goes to a segment out of the record.
    let b = &again.items[1];
    store.clear_agenda_start(b.id, b.version, "lan").unwrap();
    let e = invalid(
        store
            .start_agenda_item(
                session,
                right,
                &ItemStart::New {
                    title: "C".into(),
                    reference: None,
                },
                "lan",
            )
            .unwrap_err(),
    );
    assert!(e.contains("no longer in the record"), "{e}");
}
