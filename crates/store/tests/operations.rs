//! Segment operations on a real SQLite file: split, merge, insert, not
//! speech, bounds; their undo; conflicts and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{open, timed_doc};
use tocky_store::{
    Error, IngestOutcome, NewSegment, SegmentEdit, SegmentState, SessionMeta, SplitAt, Store,
    StoredSegment,
};

/// A store with one session of three segments (0–4 s, 5–9 s, 10–14 s),
/// each with its words timed 500 ms apart.
fn sitting(dir: &std::path::Path) -> (Store, i64) {
    let mut store = open(dir);
    let IngestOutcome::Created { session_id, .. } = store
        .ingest(
            &timed_doc(
                'a',
                &[
                    "kính thưa quốc hội hôm nay",
                    "chúng ta thảo luận về",
                    "dự án luật đất đai",
                ],
            ),
            &SessionMeta::default(),
            "t",
        )
        .unwrap()
    else {
        panic!("not created")
    };
    (store, session_id)
}

fn texts(store: &Store, session: i64) -> Vec<String> {
    store
        .segments(session)
        .unwrap()
        .into_iter()
        .map(|s| s.text)
        .collect()
}

fn first(store: &Store, session: i64) -> StoredSegment {
    store.segments(session).unwrap().remove(0)
}

#[test]
fn a_split_at_a_word_gives_each_side_its_words_and_times() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = sitting(dir.path());
    let seg = first(&store, session);
    let out = store
        .split_segment(seg.id, seg.version, SplitAt::Word(3), "lan")
        .unwrap();
    let [left, right] = &out.segments[..] else {
        panic!("{out:?}")
    };
    assert_eq!(left.text, "kính thưa quốc");
    assert_eq!(right.text, "hội hôm nay");
    // The right side starts where its first word does.
    assert_eq!((left.start_ms, left.end_ms), (0, 1_500));
    assert_eq!((right.start_ms, right.end_ms), (1_500, 4_000));
    let words = |s: &StoredSegment| s.words.iter().map(|w| w.text.clone()).collect::<Vec<_>>();
    assert_eq!(words(left), ["kính", "thưa", "quốc"]);
    assert_eq!(words(right), ["hội", "hôm", "nay"]);
    assert!(left.words_aligned && right.words_aligned);
    assert_eq!(left.version, seg.version + 1);
    assert_eq!(right.version, 1);
    assert_eq!(texts(&store, session).len(), 4);
    // The revision points at the operation.
    let revisions = store.revisions(seg.id).unwrap();
    assert_eq!(
        revisions.last().unwrap().operation_id,
        Some(out.operation_id)
    );
    let log = store.audit_log(5).unwrap();
    assert_eq!(
        (log[0].actor.as_str(), log[0].action.as_str()),
        ("lan", "split")
    );
}

#[test]
fn a_split_inside_a_word_leaves_both_sides_for_re_timing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = sitting(dir.path());
    let seg = first(&store, session);
    // "kính thưa quốc hội hôm nay": character 7 is inside "thưa".
    let out = store
        .split_segment(seg.id, seg.version, SplitAt::Char(7), "lan")
        .unwrap();
    assert_eq!(out.segments[0].text, "kính th");
    assert_eq!(out.segments[1].text, "ưa quốc hội hôm nay");
    assert!(out.segments.iter().all(|s| !s.words_aligned));
    let t = out.segments[0].end_ms;
    assert!(t > 0 && t < 4_000 && out.segments[1].start_ms == t);
}

#[test]
fn a_split_outside_the_text_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = sitting(dir.path());
    let seg = first(&store, session);
    for at in [
        SplitAt::Char(0),
        SplitAt::Char(500),
        SplitAt::Word(0),
        SplitAt::Word(6),
    ] {
        let err = store
            .split_segment(seg.id, seg.version, at, "lan")
            .unwrap_err();
        assert!(
            matches!(&err, Error::Invalid(m) if m.contains("outside the text")),
            "{at:?}: {err}"
        );
    }
    assert_eq!(first(&store, session), seg);
}

#[test]
fn a_merge_joins_text_and_words_and_undo_separates_them() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = sitting(dir.path());
    let segs = store.segments(session).unwrap();
    let out = store
        .merge_with_next(segs[0].id, 1, segs[1].id, 1, "lan")
        .unwrap();
    let [merged, gone] = &out.segments[..] else {
        panic!("{out:?}")
    };
    assert_eq!(gone.state, SegmentState::Removed);
    assert_eq!(
        merged.text,
        "kính thưa quốc hội hôm nay chúng ta thảo luận về"
    );
    assert_eq!((merged.start_ms, merged.end_ms), (0, 9_000));
    assert_eq!(merged.words.len(), 11);
    assert_eq!(texts(&store, session).len(), 2);
    // The second left the record, and search with it.
    assert_eq!(
        store.segment(segs[1].id).unwrap().state,
        SegmentState::Removed
    );
    let restored = store.undo_operation(out.operation_id, "lan").unwrap();
    assert_eq!(restored.segments.len(), 2);
    assert_eq!(
        texts(&store, session),
        [
            "kính thưa quốc hội hôm nay",
            "chúng ta thảo luận về",
            "dự án luật đất đai"
        ]
    );
    let again = store.segments(session).unwrap();
    assert_eq!(again[0].words, segs[0].words);
    assert_eq!(again[1].words, segs[1].words);
    // Versions only go up, so old clients still get 409s.
    assert!(again[0].version > merged.version);
    // Undone once is undone.
    assert!(matches!(
        store.undo_operation(out.operation_id, "lan"),
        Err(Error::UndoRefused { .. })
    ));
}

#[test]
fn undoing_a_split_joins_the_halves_or_says_why_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = sitting(dir.path());
    let seg = first(&store, session);
    let out = store
        .split_segment(seg.id, seg.version, SplitAt::Word(2), "lan")
        .unwrap();
    let right = out.segments[1].clone();
    // Someone edits the right half: the split can no longer be undone as is.
    store
        .edit_segment(
            right.id,
            right.version,
            &SegmentEdit {
                text: Some("quốc hội hôm nay ạ".into()),
                ..SegmentEdit::default()
            },
            "mai",
        )
        .unwrap();
    let err = store.undo_operation(out.operation_id, "lan").unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("segment {} changed since", right.id)),
        "{err}"
    );
    assert_eq!(texts(&store, session).len(), 4);
    // Undo the edit (a plain revision), then the split goes.
    let edit = store.revisions(right.id).unwrap().pop().unwrap();
    let now = store.segment(right.id).unwrap();
    let before_edit = store.revisions(right.id).unwrap()[0].clone();
    assert_eq!(before_edit.operation_id, Some(out.operation_id));
    store
        .edit_segment(
            right.id,
            now.version,
            &SegmentEdit {
                text: Some(edit.text_before),
                ..SegmentEdit::default()
            },
            "mai",
        )
        .unwrap();
    // The text is back, but the version moved on: still refused, by version.
    assert!(store.undo_operation(out.operation_id, "lan").is_err());
    let split_again = store.segments(session).unwrap();
    // Merge by hand instead: the same result a stenographer wants.
    store
        .merge_with_next(
            split_again[0].id,
            split_again[0].version,
            split_again[1].id,
            split_again[1].version,
            "lan",
        )
        .unwrap();
    assert_eq!(texts(&store, session)[0], seg.text);
}

#[test]
fn undo_of_an_undo_redoes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = sitting(dir.path());
    let seg = first(&store, session);
    let split = store
        .split_segment(seg.id, seg.version, SplitAt::Word(3), "lan")
        .unwrap();
    let undo = store.undo_operation(split.operation_id, "lan").unwrap();
    assert_eq!(texts(&store, session).len(), 3);
    assert_eq!(
        store.operation(split.operation_id).unwrap().undone_by,
        Some(undo.operation_id)
    );
    store.undo_operation(undo.operation_id, "lan").unwrap();
    assert_eq!(
        texts(&store, session)[..2],
        ["kính thưa quốc", "hội hôm nay"]
    );
}

#[test]
fn a_merge_must_be_with_the_next_segment_of_the_same_session() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = sitting(dir.path());
    let IngestOutcome::Created {
        session_id: other, ..
    } = store
        .ingest(&timed_doc('b', &["xin chào"]), &SessionMeta::default(), "t")
        .unwrap()
    else {
        panic!()
    };
    let segs = store.segments(session).unwrap();
    let elsewhere = store.segments(other).unwrap().remove(0);
    let across = store
        .merge_with_next(segs[2].id, 1, elsewhere.id, 1, "lan")
        .unwrap_err();
    assert!(
        across.to_string().contains("within one session"),
        "{across}"
    );
    let skipping = store
        .merge_with_next(segs[0].id, 1, segs[2].id, 1, "lan")
        .unwrap_err();
    assert!(
        skipping.to_string().contains("not the one after"),
        "{skipping}"
    );
    let last = store
        .merge_with_next(segs[2].id, 1, segs[1].id, 1, "lan")
        .unwrap_err();
    assert!(matches!(last, Error::Invalid(_)), "{last}");
    // A stale version of either side is a conflict with that side.
    let stale = store
        .merge_with_next(segs[0].id, 1, segs[1].id, 7, "lan")
        .unwrap_err();
    assert!(matches!(stale, Error::Conflict { current } if current.id == segs[1].id));
}

#[test]
fn an_insert_goes_into_a_gap_only() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = sitting(dir.path());
    let out = store
        .insert_segment(
            session,
            &NewSegment {
                start_ms: 4_000,
                end_ms: 5_000,
                text: "  xin cảm ơn ".into(),
                speaker_id: None,
            },
            "lan",
        )
        .unwrap();
    let new = &out.segments[0];
    assert_eq!(new.text, "xin cảm ơn");
    assert!(!new.words_aligned, "typed words wait for re-timing");
    assert_eq!(store.segments(session).unwrap()[1].id, new.id);
    for (start, end, why) in [
        (3_000, 4_500, "overlaps segment"),
        (9_500, 9_000, "not a time range"),
        (14_000, 16_000, "past the end"),
    ] {
        let err = store
            .insert_segment(
                session,
                &NewSegment {
                    start_ms: start,
                    end_ms: end,
                    text: "x".into(),
                    speaker_id: None,
                },
                "lan",
            )
            .unwrap_err();
        assert!(err.to_string().contains(why), "{start}–{end}: {err}");
    }
    let unknown_speaker = store
        .insert_segment(
            session,
            &NewSegment {
                start_ms: 9_000,
                end_ms: 10_000,
                text: "x".into(),
                speaker_id: Some(9_999),
            },
            "lan",
        )
        .unwrap_err();
    assert!(unknown_speaker.to_string().contains("not in session"));
}

#[test]
fn an_insert_with_recognised_words_saves_them_in_its_own_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = sitting(dir.path());
    let word = |text: &str, start_ms, end_ms| tocky_core::Word {
        text: text.into(),
        start_ms,
        end_ms,
        probability: 0.9,
    };
    let new = NewSegment {
        start_ms: 4_000,
        end_ms: 5_000,
        text: "xin cảm ơn".into(),
        speaker_id: None,
    };
    // Words outside the range: refused, and nothing written.
    let operations = store.operations(session, 100).unwrap().len();
    let err = store
        .insert_segment_with_words(session, &new, &[word("xin", 3_900, 4_200)], "lan")
        .unwrap_err();
    assert!(err.to_string().contains("not inside"), "{err}");
    assert_eq!(texts(&store, session).len(), 3);
    assert_eq!(store.operations(session, 100).unwrap().len(), operations);

    let words = [
        word("xin", 4_000, 4_300),
        word("cảm", 4_300, 4_600),
        word("ơn", 4_600, 4_900),
    ];
    let out = store
        .insert_segment_with_words(session, &new, &words, "lan")
        .unwrap();
    let row = &out.segments[0];
    assert!(row.words_aligned, "{row:?}");
    assert_eq!(row.words, words);
    // The operation (what an undo and its redo put back) holds them too,
    // and a later read sees the same row: no step between insert and words.
    let op = store.operation(out.operation_id).unwrap();
    assert_eq!(op.after.segments[0].words, words);
    assert_eq!(store.segment(row.id).unwrap(), *row);
    assert!(store.unaligned_segments(Some(session)).unwrap().is_empty());
    let undo = store.undo_operation(out.operation_id, "lan").unwrap();
    store.undo_operation(undo.operation_id, "lan").unwrap();
    let redone = store.segment(row.id).unwrap();
    assert_eq!((redone.words, redone.words_aligned), (words.to_vec(), true));

    // Words with no text are an ordinary (empty) insert.
    let empty = store
        .insert_segment_with_words(
            session,
            &NewSegment {
                start_ms: 9_000,
                end_ms: 10_000,
                text: " ".into(),
                speaker_id: None,
            },
            &[word("một", 9_000, 9_500)],
            "lan",
        )
        .unwrap();
    assert!(empty.segments[0].words.is_empty());
}

#[test]
fn not_speech_leaves_the_record_and_search_but_stays_listed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = sitting(dir.path());
    let seg = first(&store, session);
    let out = store
        .set_segment_state(seg.id, seg.version, SegmentState::NotSpeech, "lan")
        .unwrap();
    assert_eq!(out.segments[0].state, SegmentState::NotSpeech);
    assert_eq!(texts(&store, session).len(), 3);
    let mut in_record = Vec::new();
    store
        .search_rows_since(None, None, None, |row| {
            if row.segment_id == seg.id {
                in_record.push(row.in_record);
            }
        })
        .unwrap();
    assert_eq!(in_record, [false]);
    let back = store
        .set_segment_state(seg.id, out.segments[0].version, SegmentState::Speech, "lan")
        .unwrap();
    assert_eq!(back.segments[0].state, SegmentState::Speech);
    assert!(
        store
            .set_segment_state(
                seg.id,
                back.segments[0].version,
                SegmentState::Speech,
                "lan"
            )
            .is_err()
    );
}

#[test]
fn bounds_move_up_to_the_neighbours_and_not_across() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = sitting(dir.path());
    let mid = store.segments(session).unwrap()[1].clone();
    let out = store
        .move_bounds(mid.id, mid.version, 4_000, 10_000, "lan")
        .unwrap();
    let moved = &out.segments[0];
    assert_eq!((moved.start_ms, moved.end_ms), (4_000, 10_000));
    assert!(!moved.words_aligned);
    for (start, end, why) in [
        (3_999, 9_000, "crosses segment"),
        (5_000, 10_001, "crosses segment"),
        (6_000, 6_000, "not a time range"),
    ] {
        let err = store
            .move_bounds(mid.id, moved.version, start, end, "lan")
            .unwrap_err();
        assert!(err.to_string().contains(why), "{start}–{end}: {err}");
    }
    // Shrinking clips the words to the new bounds.
    let out = store
        .move_bounds(mid.id, moved.version, 5_600, 7_000, "lan")
        .unwrap();
    let words = &out.segments[0].words;
    assert!(
        words
            .iter()
            .all(|w| w.start_ms >= 5_600 && w.end_ms <= 7_000)
    );
    assert_eq!(words.first().unwrap().text, "ta");
}

#[test]
fn an_edit_of_the_text_marks_the_words_for_re_timing_and_set_words_saves_them() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = sitting(dir.path());
    let seg = first(&store, session);
    assert!(seg.words_aligned);
    let edited = store
        .edit_segment(
            seg.id,
            seg.version,
            &SegmentEdit {
                text: Some("kính thưa Quốc hội hôm nay".into()),
                ..SegmentEdit::default()
            },
            "lan",
        )
        .unwrap();
    assert!(!edited.words_aligned);
    assert_eq!(
        store.unaligned_segments(Some(session)).unwrap()[0].id,
        seg.id
    );
    // A re-timing for an older version is dropped.
    assert!(!store.set_words(seg.id, seg.version, &seg.words).unwrap());
    assert!(store.set_words(seg.id, edited.version, &seg.words).unwrap());
    let now = store.segment(seg.id).unwrap();
    assert!(now.words_aligned);
    assert_eq!(now.version, edited.version, "re-timing is not an edit");
    assert!(store.unaligned_segments(Some(session)).unwrap().is_empty());
}

#[test]
fn a_merge_never_pulls_an_agenda_items_first_segment_under_the_item_before() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = sitting(dir.path());
    let segs = store.segments(session).unwrap();
    store
        .start_agenda_item(
            session,
            segs[1].id,
            &tocky_store::ItemStart::New {
                title: "Luật Đất đai (sửa đổi)".into(),
                reference: None,
            },
            "lan",
        )
        .unwrap();
    let err = store
        .merge_with_next(segs[0].id, 1, segs[1].id, 1, "lan")
        .unwrap_err();
    assert!(err.to_string().contains("starts the agenda item"), "{err}");
    assert_eq!(texts(&store, session).len(), 3);
    // Within the item, merging is fine.
    store
        .merge_with_next(segs[1].id, 1, segs[2].id, 1, "lan")
        .unwrap();
}
