//! A record to test against: sessions ingested, persons in the registry,
//! sessions published, and one full sitting.

use tocky_core::document::TranscriptDocument;
use tocky_store::{
    AgendaEntry, IngestOutcome, NewPerson, PersonRole, Reasons, ReviewStatus, RoleSpan, SceneKind,
    SegmentEdit, SessionMeta, StartChange, Store, WorkflowState,
};

/// Ingests `doc` as a new session (by "test"); returns its id. A document
/// already in the record is a failed fixture.
pub fn ingest(store: &mut Store, doc: &TranscriptDocument, meta: &SessionMeta) -> i64 {
    match store
        .ingest(doc, meta, "test")
        .expect("the document ingests")
    {
        IngestOutcome::Created { session_id, .. } => session_id,
        other => panic!("the document was already in the record: {other:?}"),
    }
}

/// A registry person with one role, held since 2021-07-20 and still.
pub fn person(key: &str, name: &str, role: PersonRole, delegation: Option<&str>) -> NewPerson {
    NewPerson {
        key: key.into(),
        name: name.into(),
        delegation: delegation.map(Into::into),
        roles: vec![RoleSpan {
            role,
            title: None,
            valid_from: Some("2021-07-20".into()),
            valid_to: None,
        }],
        ..NewPerson::default()
    }
}

/// Marks every segment of `session` not yet reviewed as reviewed, by
/// `reviewer`.
pub fn review_all(store: &mut Store, session: i64, reviewer: &str) {
    for s in store.segments(session).expect("the session's segments") {
        if s.review_status != "reviewed" {
            let edit = SegmentEdit {
                review_status: Some(ReviewStatus::Reviewed),
                ..SegmentEdit::default()
            };
            store
                .edit_segment(s.id, s.version, &edit, reviewer)
                .expect("a segment is marked reviewed");
        }
    }
}

/// Who takes each step of [`publish_with`].
#[derive(Debug, Clone, Copy)]
pub struct Publish<'a> {
    /// Marks the segments reviewed.
    pub reviewer: &'a str,
    /// Checks the session.
    pub checker: &'a str,
    /// Approves it.
    pub approver: &'a str,
    /// Publishes it.
    pub publisher: &'a str,
}

impl Default for Publish<'_> {
    /// The stenographer `lan` reviews and checks, the editor `thu`
    /// approves and publishes.
    fn default() -> Self {
        Self {
            reviewer: "lan",
            checker: "lan",
            approver: "thu",
            publisher: "thu",
        }
    }
}

/// Reviews every segment of `session` and takes it through checked and
/// approved to published, as [`Publish::default`] says; returns the
/// number of the version published.
pub fn publish(store: &mut Store, session: i64) -> i64 {
    publish_with(store, session, &Publish::default())
}

/// [`publish`], with each step taken by whom `by` says.
pub fn publish_with(store: &mut Store, session: i64, by: &Publish<'_>) -> i64 {
    review_all(store, session, by.reviewer);
    for (to, actor) in [
        (WorkflowState::Checked, by.checker),
        (WorkflowState::Approved, by.approver),
        (WorkflowState::Published, by.publisher),
    ] {
        store
            .move_workflow(session, to, actor, None, &Reasons::default())
            .unwrap_or_else(|e| panic!("session {session} moves to {to:?}: {e}"));
    }
    store
        .workflow(session)
        .expect("the session's workflow")
        .published
        .expect("a published version")
        .number
}

/// The texts of [`FullSitting::default`]: the chair opens (two
/// segments), the minister presents, a delegate asks (two), a guest
/// answers, and the last has no speaker.
pub const SITTING_TEXTS: [&str; 7] = [
    "Xin mời các đại biểu ổn định chỗ ngồi",
    "Kính thưa Quốc hội",
    "tôi xin trình bày tờ trình dự án luật",
    "đề nghị làm rõ khoản ba điều mười hai",
    "xin cảm ơn",
    "tiếp theo là nội dung thứ hai",
    "chính phủ xin tiếp thu",
];

/// What [`full_sitting`] builds.
#[derive(Debug, Clone, Copy)]
pub struct FullSitting<'a> {
    /// One segment per text (at least six: the second agenda item starts
    /// at the sixth), from audio "sang.wav" ('c').
    pub texts: &'a [&'a str],
    /// Whether the sixth segment is by a guest who is not in the registry
    /// (otherwise it has no speaker, like every segment after it).
    pub guest: bool,
}

impl Default for FullSitting<'_> {
    fn default() -> Self {
        Self {
            texts: &SITTING_TEXTS,
            guest: true,
        }
    }
}

/// A full sitting, "Phiên họp toàn thể sáng 21/10" of 2026-10-21: the
/// chair (Trần Thanh Mẫn), a delegate of Hà Nội (Nguyễn Thị Lan) and a
/// minister (Hồ Đức Phớc) in the registry and linked to the session's
/// speakers; segments by chair, chair, minister, delegate, delegate, then
/// the guest if any; agenda items "Luật Đất đai" (sửa đổi) from the second
/// segment, "Chất vấn" from the sixth and "Bế mạc" not started; applause
/// at 14.5 s and a vote at 24.5 s. Returns the session's id.
pub fn full_sitting(store: &mut Store, options: &FullSitting<'_>) -> i64 {
    let meta = SessionMeta {
        title: Some("Phiên họp toàn thể sáng 21/10".into()),
        sitting_date: Some("2026-10-21".into()),
        agenda_item: Some("Kỳ họp thứ mười".into()),
    };
    let id = ingest(store, &crate::doc("sang.wav", 'c', options.texts), &meta);
    store
        .import_people(
            &[
                person("tran-thanh-man", "Trần Thanh Mẫn", PersonRole::Chair, None),
                person(
                    "dbqh-0123",
                    "Nguyễn Thị Lan",
                    PersonRole::Delegate,
                    Some("Hà Nội"),
                ),
                person("bt-tc", "Hồ Đức Phớc", PersonRole::Minister, None),
            ],
            "test",
        )
        .expect("the people import");
    let mut speaker = |name: &str, key: Option<&str>| {
        let speaker = store
            .add_speaker(id, name, None, None)
            .expect("a speaker is added");
        if let Some(key) = key {
            let person = store.person(key).expect("the person is in the registry");
            store
                .link_speaker(speaker, Some(person.id), "test")
                .expect("the speaker is linked");
        }
        speaker
    };
    let chair = speaker("Chủ toạ", Some("tran-thanh-man"));
    let delegate = speaker("Bà Lan", Some("dbqh-0123"));
    let minister = speaker("Bộ trưởng", Some("bt-tc"));
    let mut who = vec![chair, chair, minister, delegate, delegate];
    if options.guest {
        who.push(speaker("Ông Bình", None));
    }
    let segments = store.segments(id).expect("the sitting's segments");
    for (segment, speaker) in segments.iter().zip(who) {
        let edit = SegmentEdit {
            speaker_id: Some(Some(speaker)),
            ..SegmentEdit::default()
        };
        store
            .edit_segment(segment.id, segment.version, &edit, "test")
            .expect("a segment gets its speaker");
    }
    let entry = |title: &str, reference: Option<&str>, start: StartChange| AgendaEntry {
        title: title.into(),
        reference: reference.map(Into::into),
        start,
        ..AgendaEntry::default()
    };
    store
        .set_agenda(
            id,
            &[
                entry(
                    "Luật Đất đai",
                    Some("sửa đổi"),
                    StartChange::At(segments[1].id),
                ),
                entry("Chất vấn", None, StartChange::At(segments[5].id)),
                entry("Bế mạc", None, StartChange::default()),
            ],
            "test",
        )
        .expect("the agenda is set");
    store
        .add_note(id, 14_500, SceneKind::Applause, "", "test")
        .expect("the applause is noted");
    store
        .add_note(id, 24_500, SceneKind::Vote, "Quốc hội biểu quyết", "test")
        .expect("the vote is noted");
    id
}
