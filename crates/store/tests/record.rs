//! The sitting's record on real SQLite files: the agenda (set from a list,
//! re-imported, started at a segment, refused) and the derived record of
//! speeches and scene notes.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod sitting;

use sitting::{entry, ingest, invalid, open, titles};
use tocky_store::{
    AgendaEntry, Error, ItemStart, RecordEntry, SceneKind, SegmentEdit, StartChange,
};

#[test]
fn an_agenda_is_set_listed_and_re_imported_without_a_change() {
    let (_dir, mut store, session, seg) = open(6);
    let list = vec![
        AgendaEntry {
            reference: Some("Luật Đất đai (sửa đổi)".into()),
            ..entry("Thảo luận dự án Luật Đất đai", StartChange::At(seg[1]))
        },
        entry("Chất vấn", StartChange::Keep),
    ];
    let set = store.set_agenda(session, &list, "lan").unwrap();
    assert_eq!((set.added, set.changed, set.removed), (2, 0, 0));
    assert!(set.operation_id.is_some());
    let items = store.agenda(session).unwrap();
    assert_eq!(set.items, items);
    assert_eq!(titles(&items), ["Thảo luận dự án Luật Đất đai", "Chất vấn"]);
    assert_eq!(items[0].start_segment_id, Some(seg[1]));
    assert_eq!(
        items[0].reference.as_deref(),
        Some("Luật Đất đai (sửa đổi)")
    );
    assert_eq!((items[1].position, items[1].start_segment_id), (1, None));

    // The same list again changes nothing: same ids, same versions, no operation.
    let again = store.set_agenda(session, &list, "lan").unwrap();
    assert_eq!(again.operation_id, None);
    assert_eq!(again.items, items);
    // A list that says nothing of starts keeps them.
    let bare: Vec<_> = list
        .iter()
        .map(|e| AgendaEntry {
            start: StartChange::Keep,
            ..e.clone()
        })
        .collect();
    assert_eq!(
        store.set_agenda(session, &bare, "lan").unwrap().items,
        items
    );
}

#[test]
fn a_re_import_keeps_ids_and_starts_of_matched_and_retitled_items() {
    let (_dir, mut store, session, seg) = open(8);
    let first = store
        .set_agenda(
            session,
            &[
                entry("A", StartChange::At(seg[0])),
                entry("B", StartChange::At(seg[3])),
                entry("C", StartChange::At(seg[5])),
            ],
            "lan",
        )
        .unwrap()
        .items;
    // An item inserted before B, B retitled, C kept: B keeps its id and start.
    let second = store
        .set_agenda(
            session,
            &[
                entry("A", StartChange::Keep),
                entry("B (sửa tên)", StartChange::Keep),
                entry("C", StartChange::Keep),
                entry("D", StartChange::Keep),
            ],
            "lan",
        )
        .unwrap();
    assert_eq!((second.added, second.changed, second.removed), (1, 1, 0));
    let items = second.items;
    assert_eq!(items[0], first[0]);
    assert_eq!(items[1].id, first[1].id);
    assert_eq!(items[1].start_segment_id, Some(seg[3]));
    assert_eq!(items[1].version, 2);
    assert_eq!(items[2], first[2]);
    assert_eq!(items[3].start_segment_id, None);
    // A file that drops an item and clears another's start says so.
    let third = store
        .set_agenda(
            session,
            &[
                entry("A", StartChange::Clear),
                entry("C", StartChange::Keep),
            ],
            "lan",
        )
        .unwrap();
    assert_eq!((third.added, third.changed, third.removed), (0, 2, 2));
    assert_eq!(third.items[0].id, first[0].id);
    assert_eq!(third.items[0].start_segment_id, None);
    assert_eq!(
        (third.items[1].id, third.items[1].position),
        (first[2].id, 1)
    );
    assert_eq!(third.items[1].start_segment_id, Some(seg[5]));
}

#[test]
fn bad_agendas_are_refused_with_a_reason_and_change_nothing() {
    let (_dir, mut store, session, seg) = open(4);
    let other = ingest(&mut store, 2, 'b');
    let foreign = store.segments(other).unwrap()[0].id;
    let cases: Vec<(Vec<AgendaEntry>, &str)> = vec![
        (vec![entry("  ", StartChange::Keep)], "needs a title"),
        (vec![entry("A", StartChange::At(9_999))], "no segment 9999"),
        (vec![entry("A", StartChange::At(foreign))], "is in session"),
        (
            vec![
                entry("A", StartChange::At(seg[1])),
                entry("B", StartChange::At(seg[1])),
            ],
            "both start at segment",
        ),
        (
            vec![
                entry("A", StartChange::At(seg[2])),
                entry("B", StartChange::At(seg[1])),
            ],
            "keep items in time order",
        ),
        (vec![entry("A\u{202E}", StartChange::Keep)], "direction"),
    ];
    for (list, reason) in cases {
        let e = invalid(store.set_agenda(session, &list, "lan").unwrap_err());
        assert!(e.contains(reason), "{e:?} should say {reason:?}");
    }
    assert!(store.agenda(session).unwrap().is_empty());
    assert!(matches!(
        store.set_agenda(999, &[], "lan"),
        Err(Error::UnknownSession(999))
    ));
}

#[test]
fn a_new_item_starts_here() {
    let (_dir, mut store, session, seg) = open(10);
    store
        .set_agenda(
            session,
            &[
                entry("A", StartChange::At(seg[1])),
                entry("B", StartChange::Keep),
                entry("C", StartChange::Keep),
            ],
            "lan",
        )
        .unwrap();
    // The next item waiting starts.
    let b = store
        .start_agenda_item(session, seg[4], &ItemStart::Next, "lan")
        .unwrap();
    let items = &b.items;
    assert_eq!(b.item_id, Some(items[1].id));
    assert_eq!(items[1].start_segment_id, Some(seg[4]));
    // A new titled item goes after the last item started before it.
    let n = store
        .start_agenda_item(
            session,
            seg[6],
            &ItemStart::New {
                title: "Bổ sung".into(),
                reference: None,
            },
            "lan",
        )
        .unwrap();
    assert_eq!(titles(&n.items), ["A", "B", "Bổ sung", "C"]);
    assert_eq!(n.items[2].start_segment_id, Some(seg[6]));
    assert_eq!(n.item_id, Some(n.items[2].id));
    // Before A, nothing waits.
    let e = invalid(
        store
            .start_agenda_item(session, seg[0], &ItemStart::Next, "lan")
            .unwrap_err(),
    );
    assert!(e.contains("no agenda item waits"), "{e}");
    // One item per segment.
    let e = invalid(
        store
            .start_agenda_item(session, seg[4], &ItemStart::Next, "lan")
            .unwrap_err(),
    );
    assert!(e.contains("starts at segment"), "{e}");
    // C cannot start before "Bổ sung".
    let c = n.items[3].clone();
    let e = invalid(
        store
            .move_agenda_start(c.id, c.version, seg[5], "lan")
            .unwrap_err(),
    );
    assert!(e.contains("time order"), "{e}");
    // Moving and clearing a start are version-checked.
    let b = n.items[1].clone();
    let moved = store
        .move_agenda_start(b.id, b.version, seg[5], "lan")
        .unwrap();
    assert_eq!(moved.items[1].start_segment_id, Some(seg[5]));
    assert!(matches!(
        store.clear_agenda_start(b.id, b.version, "lan"),
        Err(Error::AgendaConflict { current }) if current.version == b.version + 1
    ));
    let cleared = store
        .clear_agenda_start(b.id, b.version + 1, "lan")
        .unwrap();
    assert_eq!(cleared.items[1].start_segment_id, None);
    assert!(matches!(
        store.clear_agenda_start(4242, 1, "lan"),
        Err(Error::UnknownAgendaItem(4242))
    ));
}

#[test]
fn the_record_groups_speeches_by_speaker_item_and_note() {
    let (dir, mut store, session, seg) = open(10);
    let lan = store.add_speaker(session, "Lan", None, None).unwrap();
    let minh = store.add_speaker(session, "Minh", None, None).unwrap();
    // Speakers: 0 Lan, 1 Lan, 2 Minh, 3 Minh (not speech), 4 Lan, 5 Lan,
    // 6 Lan, 7 Lan, 8 none, 9 none.
    let who = [
        Some(lan),
        Some(lan),
        Some(minh),
        Some(minh),
        Some(lan),
        Some(lan),
        Some(lan),
        Some(lan),
        None,
        None,
    ];
    for (id, speaker) in seg.iter().zip(who) {
        store
            .edit_segment(
                *id,
                1,
                &SegmentEdit {
                    speaker_id: Some(speaker),
                    ..SegmentEdit::default()
                },
                "t",
            )
            .unwrap();
    }
    // Segment 3 is not speech; it is left out and breaks nothing.
    let conn = rusqlite::Connection::open(dir.path().join("record.db")).unwrap();
    conn.execute(
        "UPDATE segments SET state = 'not_speech' WHERE id = ?1",
        [seg[3]],
    )
    .unwrap();
    store
        .set_agenda(
            session,
            &[
                entry("A", StartChange::At(seg[1])),
                entry("B", StartChange::At(seg[6])),
                entry("C", StartChange::Keep),
            ],
            "lan",
        )
        .unwrap();
    // Applause during segment 4 breaks Lan's speech after it; a gavel at
    // B's first moment closes A.
    store
        .add_note(session, 45_000, SceneKind::Applause, "", "lan")
        .unwrap();
    store
        .add_note(session, 60_000, SceneKind::Gavel, "", "lan")
        .unwrap();

    let record = store.record(session).unwrap();
    let shape: Vec<(Option<&str>, Vec<String>)> = record
        .items
        .iter()
        .map(|part| {
            (
                part.item.as_ref().map(|i| i.title.as_str()),
                part.entries
                    .iter()
                    .map(|e| match e {
                        RecordEntry::Speech(s) => format!(
                            "{}:{:?}",
                            s.speaker.as_deref().unwrap_or("?"),
                            s.segment_ids
                                .iter()
                                .map(|id| seg.iter().position(|s| s == id).unwrap())
                                .collect::<Vec<_>>()
                        ),
                        RecordEntry::Note(n) => n.kind.as_str().to_owned(),
                    })
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (None, vec!["Lan:[0]".to_owned()]),
            (
                Some("A"),
                vec![
                    "Lan:[1]".into(),
                    "Minh:[2]".into(),
                    "Lan:[4]".into(),
                    "applause".into(),
                    "Lan:[5]".into(),
                    "gavel".into(),
                ]
            ),
            (Some("B"), vec!["Lan:[6, 7]".into(), "?:[8, 9]".into()]),
        ]
    );
    let RecordEntry::Speech(s) = &record.items[2].entries[0] else {
        panic!()
    };
    assert_eq!(
        (s.start_ms, s.end_ms, s.speaker_id),
        (60_000, 79_000, Some(lan))
    );
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["items"][1]["entries"][3]["type"], "note");
    assert_eq!(json["items"][1]["entries"][0]["type"], "speech");
}
