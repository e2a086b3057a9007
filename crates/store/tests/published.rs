//! The published record at a glance (`Store::published_versions`): each
//! sitting's latest version, or every version, with what the public list
//! and the feed show.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tocky_store::published::PublishedScope;
use tocky_store::{Reasons, SegmentEdit, SessionMeta, Store, VersionState, WorkflowState as W};
use tocky_test_support::{ingest, publish};

fn sitting(store: &mut Store, sha: char, date: &str) -> i64 {
    let meta = SessionMeta {
        title: Some(format!("Phiên {sha}")),
        sitting_date: Some(date.into()),
        agenda_item: None,
    };
    ingest(
        store,
        &common::doc(sha, &["Kính thưa Quốc hội", "xin cảm ơn"]),
        &meta,
    )
}

#[test]
fn latest_versions_and_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::open(dir.path());
    let october = sitting(&mut store, 'a', "2026-10-21");
    let november = sitting(&mut store, 'b', "2026-11-05");
    // Never published: listed nowhere.
    sitting(&mut store, 'c', "2026-12-01");
    assert!(
        store
            .published_versions(PublishedScope::All, 10)
            .unwrap()
            .is_empty()
    );

    publish(&mut store, october);
    publish(&mut store, november);
    let first = store.segments(october).unwrap().remove(0);
    let edit = SegmentEdit {
        text: Some("Kính thưa các vị đại biểu".into()),
        ..SegmentEdit::default()
    };
    store
        .edit_segment(first.id, first.version, &edit, "lan")
        .unwrap();
    publish(&mut store, october);
    store
        .move_workflow(october, W::Final, "thu", None, &Reasons::default())
        .unwrap();

    // Each sitting once, at its latest version, the newest sitting first.
    let latest = store
        .published_versions(PublishedScope::Latest, 10)
        .unwrap();
    let seen: Vec<(i64, i64)> = latest.iter().map(|v| (v.session_id, v.number)).collect();
    assert_eq!(seen, [(november, 1), (october, 2)]);
    let v2 = &latest[1];
    assert_eq!(v2.title, "Phiên a");
    assert_eq!(v2.sitting_date.as_deref(), Some("2026-10-21"));
    assert_eq!(v2.state, VersionState::Final);
    assert!(v2.finalised_at.is_some());
    assert_eq!(v2.corrections, 1);
    assert_eq!(
        v2.segment_count,
        store.segments(october).unwrap().len() as i64
    );
    assert_eq!(v2.published_by, "thu");
    assert!(v2.latest);
    assert_eq!(v2.sha256, store.versions(october).unwrap()[1].sha256);

    // Every version, newest publication first, the older one not latest.
    let all = store.published_versions(PublishedScope::All, 10).unwrap();
    let seen: Vec<(i64, i64, bool)> = all
        .iter()
        .map(|v| (v.session_id, v.number, v.latest))
        .collect();
    assert_eq!(
        seen,
        [(october, 2, true), (november, 1, true), (october, 1, false)]
    );
    assert_eq!(all[2].state, VersionState::Provisional);
    assert_eq!(all[2].corrections, 0);
    assert_eq!(
        store
            .published_versions(PublishedScope::All, 1)
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .published_versions(PublishedScope::Latest, 0)
            .unwrap()
            .is_empty()
    );
}
