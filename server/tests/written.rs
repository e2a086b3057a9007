//! The record prints the written form: every export of the working record
//! and of a version writes numbers and references out and drops fillers,
//! while the store keeps the verbatim text; a version prints the written
//! form frozen at its publication whatever the server's rules are later;
//! the record route shows the reporter what the written form drops and
//! changes. Session 1's first segment is said as [`SPOKEN`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::*;
use tocky_itn::{Itn, Options};
use tocky_server::export::{Format, SessionExport};
use tocky_store::{PublishedRecord, SegmentEdit};
use tocky_test_support::publish;

const SPOKEN: &str = "Quốc hội khóa mười lăm, ờ, đã thông qua điều mười hai khoản ba";
const WRITTEN: &str = "Quốc hội khóa XV, đã thông qua điều 12 khoản 3";

/// Session 1 with its first segment said as [`SPOKEN`].
fn spoken(f: &Fixture) -> Store {
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    let edit = SegmentEdit {
        text: Some(SPOKEN.into()),
        ..SegmentEdit::default()
    };
    store.edit_segment(1, 1, &edit, "lan").unwrap();
    store
}

async fn export(f: &Fixture, login: &Login, format: &str, version: Option<i64>) -> Vec<u8> {
    let uri = match version {
        Some(n) => format!("/api/sessions/1/export/{format}?version={n}"),
        None => format!("/api/sessions/1/export/{format}"),
    };
    let (status, _, body) = f.send(login.get(&uri)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{format}: {}",
        String::from_utf8_lossy(&body)
    );
    body
}

/// The document part of a DOCX, read by `unzip`.
fn docx_xml(dir: &Path, docx: &[u8]) -> String {
    let file = dir.join("record.docx");
    std::fs::write(&file, docx).unwrap();
    let out = Command::new("unzip")
        .arg("-p")
        .arg(&file)
        .arg("word/document.xml")
        .output()
        .expect("unzip runs");
    assert!(out.status.success(), "unzip: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Validates an AKN export offline against the OASIS schema.
fn validate_akn(dir: &Path, akn: &[u8]) {
    let file = dir.join("record.akn.xml");
    std::fs::write(&file, akn).unwrap();
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/akn/akomantoso30.xsd");
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&schema)
        .arg(&file)
        .output()
        .expect("xmllint runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether a text holds the spoken words the written form replaces or
/// drops (the filler as a word of its own).
fn has_spoken(text: &str) -> bool {
    text.contains("mười lăm") || text.contains("mười hai") || text.contains(", ờ,")
}

#[tokio::test]
async fn every_export_prints_the_written_form_and_the_store_keeps_the_verbatim() {
    let f = fixture();
    let _store = spoken(&f);
    let lan = f.login("lan").await;
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();

    let txt = text(export(&f, &lan, "txt", None).await);
    assert!(txt.contains(WRITTEN) && !has_spoken(&txt), "{txt}");
    let srt = text(export(&f, &lan, "srt", None).await);
    assert!(
        srt.contains("Quốc hội khóa XV") && !has_spoken(&srt),
        "{srt}"
    );
    let vtt = text(export(&f, &lan, "vtt", None).await);
    assert!(
        vtt.contains("điều 12 khoản 3") && !has_spoken(&vtt),
        "{vtt}"
    );
    let akn = export(&f, &lan, "akn", None).await;
    validate_akn(&f.root, &akn);
    let akn = text(akn);
    assert!(akn.contains(&format!("<p>{WRITTEN}</p>")), "{akn}");
    assert!(!has_spoken(&akn), "{akn}");
    let docx = docx_xml(&f.root, &export(&f, &lan, "docx", None).await);
    assert!(
        docx.contains("Quốc hội khóa XV") && !has_spoken(&docx),
        "{docx}"
    );

    // The JSON's record prints it too, with the verbatim beside it; its
    // segments are the store's.
    let json: Value = serde_json::from_slice(&export(&f, &lan, "json", None).await).unwrap();
    assert_eq!(json["schema_version"], 3);
    let speech = &json["record"][0]["entries"][0];
    assert!(
        speech["text"].as_str().unwrap().starts_with(WRITTEN),
        "{speech}"
    );
    assert!(
        speech["verbatim"].as_str().unwrap().starts_with(SPOKEN),
        "{speech}"
    );
    assert_eq!(json["segments"][0]["text"], SPOKEN);

    // Nothing of it reached the store.
    let store = Store::open(&f.root.join("tocky.db")).unwrap();
    assert_eq!(store.segment(1).unwrap().text, SPOKEN);
}

#[tokio::test]
async fn the_record_route_shows_what_the_written_form_drops_and_changes() {
    let f = fixture();
    let _store = spoken(&f);
    let doc = f.login("doc").await;
    let (status, body) = f.json(doc.get("/api/sessions/1/record")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["session_id"], 1);
    assert!(
        body["items"].is_array(),
        "the record is still there: {body}"
    );
    let first = &body["written"][0];
    assert_eq!(first["segment_id"], 1);
    assert_eq!(first["verbatim"], SPOKEN);
    assert_eq!(first["text"], WRITTEN);
    let parts = first["parts"].as_array().unwrap();
    let printed: String = parts.iter().map(|p| p["text"].as_str().unwrap()).collect();
    assert_eq!(printed, WRITTEN);
    let find = |kind: &str| {
        parts
            .iter()
            .find(|p| p["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {parts:?}"))
    };
    assert_eq!(find("filler")["spoken"], "ờ");
    assert_eq!(find("filler")["removed"], true);
    assert_eq!(find("roman")["text"], "XV");
    assert_eq!(find("roman")["spoken"], "mười lăm");
    assert!(find("roman").get("removed").is_none());
    assert_eq!(find("legal")["text"], "12");

    // Not for anyone without a login.
    let (status, _) = f.json(get("/api/sessions/1/record")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_version_prints_its_frozen_written_form_whatever_the_rules_are_later() {
    let f = fixture();
    let mut store = spoken(&f);
    publish(&mut store, 1);
    let lan = f.login("lan").await;
    let mut before = Vec::new();
    for format in ["txt", "akn", "docx", "json"] {
        before.push(export(&f, &lan, format, Some(1)).await);
    }
    let txt = String::from_utf8(before[0].clone()).unwrap();
    assert!(txt.contains(WRITTEN), "{txt}");

    // The same record served by a server with other rules: the filler
    // kept.
    let dir = tempfile::tempdir().unwrap();
    let later = AppState::new(ServerConfig {
        db: f.root.join("tocky.db"),
        // The first server holds its index.
        index_dir: Some(dir.path().join("index")),
        record: tocky_server::config::RecordConfig {
            keep_fillers: true,
            ..Default::default()
        },
        ..ServerConfig::default()
    })
    .unwrap();
    let g = Fixture {
        _dir: dir,
        root: f.root.clone(),
        state: later,
    };
    for (format, bytes) in ["txt", "akn", "docx", "json"].iter().zip(&before) {
        assert!(
            export(&g, &lan, format, Some(1)).await == *bytes,
            "version 1 as {format} changed with the rules"
        );
    }
    // The working record follows the new rules: the filler stays.
    let working = String::from_utf8(export(&g, &lan, "txt", None).await).unwrap();
    assert!(
        working.contains("Quốc hội khóa XV, ờ, đã thông qua"),
        "{working}"
    );
}

#[test]
fn a_version_published_before_the_written_form_was_frozen_is_written_by_todays_rules() {
    let f = fixture();
    let mut store = spoken(&f);
    publish(&mut store, 1);
    let version = store.version(1, 1).unwrap();
    let mut frozen: PublishedRecord = serde_json::from_str(&version.content).unwrap();
    assert_eq!(frozen.segments[0].written.as_deref(), Some(WRITTEN));
    for s in &mut frozen.segments {
        s.written = None; // as an older release froze it
    }
    let itn = Itn::new(Options::default());
    let export = SessionExport::from_published(frozen, &version.info, "t".into(), &itn);
    let txt = String::from_utf8(export.render(Format::Txt).unwrap()).unwrap();
    assert!(txt.contains(WRITTEN) && !has_spoken(&txt), "{txt}");
}

#[tokio::test]
async fn subtitles_of_a_changed_segment_keep_the_times_of_what_was_said() {
    const LONG: &str = "ờ, Quốc hội khóa mười lăm đã thông qua điều mười hai khoản ba của luật \
                        đất đai sửa đổi với bốn trăm tám mươi hai đại biểu tán thành chiếm chín \
                        mươi sáu phẩy hai phần trăm tổng số đại biểu";
    let f = fixture();
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    // Its words are aligned to its text: one every 100 ms from 0.
    let mut long = doc("dai.wav", 'c', &[LONG]);
    for (k, w) in long.transcript.segments[0].words.iter_mut().enumerate() {
        (w.start_ms, w.end_ms) = (k as u64 * 100, k as u64 * 100 + 80);
    }
    let outcome = store
        .ingest(&long, &SessionMeta::default(), "test")
        .unwrap();
    let tocky_store::IngestOutcome::Created { session_id, .. } = outcome else {
        panic!("created");
    };
    let lan = f.login("lan").await;
    let (status, _, body) = f
        .send(lan.get(&format!("/api/sessions/{session_id}/export/srt")))
        .await;
    assert_eq!(status, StatusCode::OK);
    let srt = String::from_utf8(body).unwrap();
    let cues: Vec<(&str, &str)> = srt
        .split("\n\n")
        .filter_map(|cue| {
            let mut lines = cue.lines().skip(1);
            Some((lines.next()?, lines.next()?))
        })
        .collect();
    assert_eq!(cues.len(), 2, "{srt}");
    assert!(
        cues[0]
            .1
            .starts_with("Quốc hội khóa XV đã thông qua điều 12 khoản 3"),
        "{srt}"
    );
    assert!(cues[1].1.ends_with("chiếm 96,2% tổng số đại biểu"), "{srt}");
    // The second cue starts when its first word was said, not at a share
    // of the bounds by letters.
    let start = cues[1].0.split(" --> ").next().unwrap();
    let (hms, ms) = start.split_once(',').unwrap();
    let secs: u64 = hms.rsplit(':').next().unwrap().parse().unwrap();
    let at = secs * 1_000 + ms.parse::<u64>().unwrap();
    let first = cues[1].1.split_whitespace().next().unwrap();
    let said = LONG.split_whitespace().position(|w| w == first).unwrap() as u64;
    assert_eq!(at, said * 100, "{srt}");
}
