//! Exports follow the sitting's record: agenda items, speeches under their
//! speakers (named from the people registry when linked), scene notes,
//! and no segment that is not speech; subtitles are timed by re-timed
//! words once they are aligned to the corrected text, by the segment's
//! bounds before. Session 1 holds "Kính thưa Quốc hội" (0–4 s), "luật đất
//! đai sửa đổi" (5–9 s) and "xin cảm ơn" (10–14 s), segments 1–3.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use tocky_store::{
    AgendaEntry, NewPerson, PersonRole, RoleSpan, SceneKind, SegmentEdit, SegmentState, StartChange,
};
use tocky_test_support::publish;

/// Segment 2's corrected text: long enough to make two cues.
const CORRECTED: &str = "luật đất đai sửa đổi năm nay được Quốc hội thảo luận kỹ lưỡng \
                         và thông qua với đa số đại biểu tán thành";

/// Gives session 1 a record: the chair (linked to the registry) opens the
/// first item, applause, then an unlinked speaker's corrected (not yet
/// re-timed) segment opens the second; segment 3 is not speech.
fn build_record(f: &Fixture) -> Store {
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    store
        .import_people(
            &[NewPerson {
                key: "tran-thanh-man".into(),
                name: "Trần Thanh Mẫn".into(),
                roles: vec![RoleSpan {
                    role: PersonRole::Chair,
                    title: None,
                    valid_from: Some("2024-05-20".into()),
                    valid_to: None,
                }],
                ..NewPerson::default()
            }],
            "test",
        )
        .unwrap();
    let person = store.person("tran-thanh-man").unwrap();
    let chair = store.add_speaker(1, "Chủ toạ", None, None).unwrap();
    store.link_speaker(chair, Some(person.id), "test").unwrap();
    let other = store.add_speaker(1, "Ông Bình", None, None).unwrap();
    let speaker = |id| SegmentEdit {
        speaker_id: Some(Some(id)),
        ..SegmentEdit::default()
    };
    store.edit_segment(1, 1, &speaker(chair), "test").unwrap();
    let edit = SegmentEdit {
        text: Some(CORRECTED.into()),
        ..speaker(other)
    };
    let seg = store.edit_segment(2, 1, &edit, "test").unwrap();
    assert!(!seg.words_aligned, "an edit leaves the words behind");
    let seg3 = store.segment(3).unwrap();
    store
        .set_segment_state(3, seg3.version, SegmentState::NotSpeech, "test")
        .unwrap();
    let entry = |title: &str, reference: Option<&str>, at| AgendaEntry {
        title: title.into(),
        reference: reference.map(Into::into),
        start: StartChange::At(at),
        ..AgendaEntry::default()
    };
    store
        .set_agenda(
            1,
            &[
                entry("Khai mạc", None, 1),
                entry("Luật Đất đai", Some("sửa đổi"), 2),
            ],
            "test",
        )
        .unwrap();
    store
        .add_note(1, 4_500, SceneKind::Applause, "", "test")
        .unwrap();
    store
}

async fn export(f: &Fixture, login: &Login, format: &str) -> Vec<u8> {
    let (status, _, body) = f
        .send(login.get(&format!("/api/sessions/1/export/{format}")))
        .await;
    assert_eq!(status, StatusCode::OK, "{format}");
    body
}

/// The cues of a SubRip file: start, end (ms) and text.
fn srt_cues(srt: &str) -> Vec<(u64, u64, String)> {
    let ms = |clock: &str| {
        let (hms, milli) = clock.split_once(',').unwrap();
        let parts: Vec<u64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
        ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + milli.parse::<u64>().unwrap()
    };
    srt.split("\n\n")
        .filter(|c| !c.trim().is_empty())
        .map(|cue| {
            let lines: Vec<&str> = cue.lines().collect();
            let (start, end) = lines[1].split_once(" --> ").unwrap();
            (ms(start), ms(end), lines[2..].join("\n"))
        })
        .collect()
}

#[tokio::test]
async fn json_txt_and_docx_carry_the_record() {
    let f = fixture();
    let _store = build_record(&f);
    let lan = f.login("lan").await;

    let json: Value = serde_json::from_slice(&export(&f, &lan, "json").await).unwrap();
    assert_eq!(json["schema"], "tocky.session");
    assert_eq!(json["schema_version"], 3);
    assert_eq!(json["session"]["id"], 1, "version 1's fields are kept");
    assert_eq!(json["speakers"].as_array().unwrap().len(), 2);
    let segments: Vec<i64> = json["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(segments, [1, 2], "not speech is left out");
    assert_eq!(json["persons"][0]["name"], "Trần Thanh Mẫn");
    assert_eq!(json["agenda"].as_array().unwrap().len(), 2);
    assert_eq!(json["notes"][0]["kind"], "applause");
    let record = json["record"].as_array().unwrap();
    assert_eq!(record.len(), 2, "{record:?}");
    assert_eq!(record[0]["item"]["title"], "Khai mạc");
    let first = record[0]["entries"].as_array().unwrap();
    assert_eq!(first[0]["type"], "speech");
    assert_eq!(first[0]["heading"], "Chủ tịch Quốc hội Trần Thanh Mẫn");
    assert_eq!(first[0]["speaker"], "Chủ toạ");
    assert_eq!(first[0]["text"], "Kính thưa Quốc hội");
    assert_eq!(first[1]["type"], "note");
    let second = record[1]["entries"].as_array().unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0]["heading"], "Ông Bình");
    assert_eq!(second[0]["text"], CORRECTED);
    assert_eq!(second[0]["segment_ids"], json!([2]));

    let txt = String::from_utf8(export(&f, &lan, "txt").await).unwrap();
    let expected = format!(
        "Phiên họp thứ nhất\nNgày họp: 2026-10-21\n\n1. KHAI MẠC\n\n\
         [0:00:00] Chủ tịch Quốc hội Trần Thanh Mẫn:\nKính thưa Quốc hội\n\n\
         (Hội trường vỗ tay)\n\n2. LUẬT ĐẤT ĐAI (SỬA ĐỔI)\n\n\
         [0:00:05] Ông Bình:\n{CORRECTED}\n"
    );
    assert_eq!(txt, expected);

    let docx = export(&f, &lan, "docx").await;
    assert!(docx_rs::read_docx(&docx).is_ok());
    // docx-rs stores its parts uncompressed: the XML can be looked at.
    let has = |needle: &str| docx.windows(needle.len()).any(|w| w == needle.as_bytes());
    for needle in [
        "Khai mạc",
        "2. Luật Đất đai (sửa đổi)",
        "Chủ tịch Quốc hội Trần Thanh Mẫn:",
        "(Hội trường vỗ tay)",
        "Ông Bình:",
        CORRECTED,
    ] {
        assert!(has(needle), "{needle}");
    }
    assert!(!has("xin cảm ơn"), "not speech is left out");
}

#[tokio::test]
async fn subtitles_follow_the_re_timed_words_and_not_stale_ones() {
    let f = fixture();
    let mut store = build_record(&f);
    let lan = f.login("lan").await;
    let letters = |s: &str| s.chars().filter(|c| !c.is_whitespace()).count() as u64;

    // Before re-timing: the bounds, split in proportion to the letters.
    let srt = String::from_utf8(export(&f, &lan, "srt").await).unwrap();
    let cues = srt_cues(&srt);
    assert_eq!(cues.len(), 3, "{srt}");
    assert_eq!(
        cues[0],
        (
            0,
            4_000,
            "Chủ tịch Quốc hội Trần Thanh Mẫn: Kính thưa Quốc hội".into()
        )
    );
    let (first, second) = (&cues[1], &cues[2]);
    assert!(first.2.starts_with("Ông Bình: luật đất đai"), "{srt}");
    let first_words = first.2.trim_start_matches("Ông Bình: ");
    let split = 5_000 + 4_000 * letters(first_words) / letters(CORRECTED);
    assert_eq!(
        (first.0, first.1, second.0, second.1),
        (5_000, split, split, 9_000)
    );
    // The old words started every 400 ms: none of their times is used.
    assert_ne!((split - 5_000) % 400, 0, "{split}");
    assert!(!srt.contains("xin cảm ơn"), "not speech is left out");
    let vtt = String::from_utf8(export(&f, &lan, "vtt").await).unwrap();
    assert_eq!(vtt.matches(" --> ").count(), 3, "{vtt}");
    assert!(!vtt.contains("xin cảm ơn"));

    // Re-timed: one word every 150 ms from 5.1 s; the split is a word's start.
    let seg = store.segment(2).unwrap();
    let words: Vec<Word> = CORRECTED
        .split_whitespace()
        .enumerate()
        .map(|(i, w)| Word {
            text: w.into(),
            start_ms: 5_100 + i as u64 * 150,
            end_ms: 5_200 + i as u64 * 150,
            probability: 0.9,
        })
        .collect();
    assert!(store.set_words(2, seg.version, &words).unwrap());
    let srt = String::from_utf8(export(&f, &lan, "srt").await).unwrap();
    let cues = srt_cues(&srt);
    assert_eq!(cues.len(), 3, "{srt}");
    let taken = cues[1]
        .2
        .trim_start_matches("Ông Bình: ")
        .split_whitespace()
        .count() as u64;
    let at = 5_100 + taken * 150;
    assert_eq!(
        (cues[1].0, cues[1].1, cues[2].0, cues[2].1),
        (5_000, at, at, 9_000)
    );
    assert!(cues[2].2.ends_with("tán thành"), "{srt}");
}

/// Version `number` of session 1 in `format`, with its file name checked.
async fn export_version(f: &Fixture, login: &Login, format: &str, number: i64) -> Vec<u8> {
    let uri = format!("/api/sessions/1/export/{format}?version={number}");
    let (status, headers, body) = f.send(login.get(&uri)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{format}: {}",
        String::from_utf8_lossy(&body)
    );
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.contains(&format!("session-1-v{number}.")),
        "{disposition}"
    );
    body
}

#[tokio::test]
async fn a_published_version_exports_the_same_bytes_after_edits() {
    const FORMATS: [&str; 6] = ["json", "txt", "srt", "vtt", "docx", "akn"];
    let f = fixture();
    let mut store = build_record(&f);
    let lan = f.login("lan").await;
    publish(&mut store, 1);
    let mut before = Vec::new();
    for format in FORMATS {
        before.push(export_version(&f, &lan, format, 1).await);
    }

    // The working record moves on, and version 2 is published from it.
    let seg = store.segment(1).unwrap();
    let edit = SegmentEdit {
        text: Some("Kính thưa toàn thể Quốc hội".into()),
        ..SegmentEdit::default()
    };
    store.edit_segment(1, seg.version, &edit, "lan").unwrap();
    publish(&mut store, 1);

    for (format, bytes) in FORMATS.iter().zip(&before) {
        let again = export_version(&f, &lan, format, 1).await;
        assert!(
            again == *bytes,
            "version 1 as {format} changed after the edits"
        );
    }
    let txt1 = String::from_utf8(before[1].clone()).unwrap();
    assert!(txt1.contains("Kính thưa Quốc hội"), "{txt1}");
    let txt2 = String::from_utf8(export_version(&f, &lan, "txt", 2).await).unwrap();
    assert!(txt2.contains("Kính thưa toàn thể Quốc hội"), "{txt2}");

    let json: Value = serde_json::from_slice(&before[0]).unwrap();
    assert_eq!(json["version"]["number"], 1);
    assert_eq!(json["version"]["published_by"], "thu");
    assert_eq!(
        json["record"][0]["entries"][0]["text"],
        "Kính thưa Quốc hội"
    );
    let working: Value = serde_json::from_slice(&export(&f, &lan, "json").await).unwrap();
    assert!(
        working.get("version").is_none(),
        "the working record is no version"
    );

    let (status, _, body) = f
        .send(lan.get("/api/sessions/1/export/txt?version=3"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains('3'));
    let (status, _, _) = f
        .send(lan.get("/api/sessions/1/export/txt?version=x"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
