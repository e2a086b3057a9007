//! The DOCX export is the printed record: read back part by part (the
//! document's paragraphs with their styles and runs, the styles, the
//! footer, the page) and converted by LibreOffice headless, whose text
//! must be the record's, in order, and whose HTML must show the headings
//! as headings and the page number as a field. Three sittings: (a) a full
//! one, as the working record and as a published version, (b) one of
//! hostile text, (c) an empty one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod ooxml;

use common::*;
use ooxml::{
    Para, elements, libreoffice_odt, libreoffice_text, odt_headings, odt_mm, paragraphs, parts,
};
use tocky_server::export::docx::{ASSEMBLY, DRAFT, layout, xml_text};
use tocky_server::export::model::ExportEntry;
use tocky_server::export::{Format, SessionExport};
use tocky_store::{AgendaEntry, SceneKind, SegmentEdit, StartChange};
use tocky_test_support::{FullSitting, ingest, publish};

const TEXTS: [&str; 6] = [
    "Xin mời các đại biểu ổn định chỗ ngồi",
    "Kính thưa Quốc hội",
    "tôi xin trình bày tờ trình dự án luật",
    "đề nghị làm rõ khoản ba điều mười hai",
    "xin cảm ơn",
    "chính phủ xin tiếp thu",
];

/// Session 3: a sitting of six segments by a chair, a minister, a
/// delegate and an unknown speaker (the last), two agenda items started
/// (and one not), two scene notes.
fn full_sitting(f: &Fixture) -> Store {
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    let sitting = FullSitting {
        texts: &TEXTS,
        guest: false,
    };
    let id = tocky_test_support::full_sitting(&mut store, &sitting);
    assert_eq!(id, 3);
    store
}

/// Each speech's text as the export gives it (the written form of its
/// segments), in order.
fn speech_texts(export: &SessionExport) -> Vec<String> {
    export
        .record
        .iter()
        .flat_map(|part| &part.entries)
        .filter_map(|entry| match entry {
            ExportEntry::Speech(s) => Some(s.text.clone()),
            ExportEntry::Note(_) => None,
        })
        .collect()
}

/// The record's body as the export must print it, after the masthead,
/// title and sitting lines: (style, text) per paragraph.
fn full_body(export: &SessionExport) -> Vec<(&'static str, String)> {
    let texts = speech_texts(export);
    assert_eq!(texts.len(), 5, "{texts:?}");
    assert!(texts[3].starts_with("đề nghị") && texts[3].ends_with("cảm ơn"));
    let body = [
        (layout::HEADING_2, "Chủ tịch Quốc hội Trần Thanh Mẫn:"),
        (layout::BODY, &texts[0]),
        (layout::HEADING_1, "1. Luật Đất đai (sửa đổi)"),
        (layout::HEADING_2, "Chủ tịch Quốc hội Trần Thanh Mẫn:"),
        (layout::BODY, &texts[1]),
        (layout::HEADING_2, "Thành viên Chính phủ Hồ Đức Phớc:"),
        (layout::BODY, &texts[2]),
        (layout::NOTE, "(Hội trường vỗ tay)"),
        (layout::HEADING_2, "Đại biểu Nguyễn Thị Lan (Hà Nội):"),
        (layout::BODY, &texts[3]),
        (layout::NOTE, "(Quốc hội biểu quyết)"),
        (layout::HEADING_1, "2. Chất vấn"),
        (layout::BODY, &texts[4]),
    ];
    body.into_iter().map(|(s, t)| (s, t.to_owned())).collect()
}

/// The paragraphs of the export's document part, checked to be a DOCX
/// that docx-rs reads back.
fn document(docx: &[u8]) -> Vec<Para> {
    assert!(docx_rs::read_docx(docx).is_ok(), "docx-rs cannot read it");
    paragraphs(&parts(docx)["word/document.xml"])
}

/// (style, text) of each paragraph.
fn styled(paras: &[Para]) -> Vec<(String, String)> {
    paras
        .iter()
        .map(|p| (p.style.clone().unwrap_or_default(), p.text()))
        .collect()
}

fn owned(rows: &[(&str, String)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(s, t)| (s.to_string(), t.clone()))
        .collect()
}

fn head(title: &str, lines: &[&str]) -> Vec<(&'static str, String)> {
    let mut out = vec![
        (layout::MASTHEAD, ASSEMBLY.to_owned()),
        (layout::TITLE, title.to_owned()),
    ];
    out.extend(lines.iter().map(|l| (layout::SUBTITLE, (*l).to_owned())));
    out
}

#[test]
fn the_working_record_is_laid_out_as_printed() {
    let f = fixture();
    let store = full_sitting(&f);
    let export = SessionExport::load(&store, 3).unwrap();
    let docx = export.render(Format::Docx).unwrap();
    let paras = document(&docx);

    let mut expected = head(
        "Phiên họp toàn thể sáng 21/10",
        &[
            "Ngày 21 tháng 10 năm 2026",
            "Nội dung: Kỳ họp thứ mười",
            DRAFT,
        ],
    );
    expected.extend(full_body(&export));
    assert_eq!(styled(&paras), owned(&expected));

    // Speakers in bold runs, notes in italic ones, speeches in neither.
    for p in &paras {
        let style = p.style.as_deref().unwrap_or_default();
        for run in &p.runs {
            assert_eq!(run.bold, style == layout::HEADING_2, "{p:?}");
            assert_eq!(run.italic, style == layout::NOTE, "{p:?}");
        }
    }

    // The headings are Word's: named "heading N", at outline level N-1.
    let all = parts(&docx);
    let styles = String::from_utf8(all["word/styles.xml"].clone()).unwrap();
    for (id, name, level) in [
        (layout::HEADING_1, "heading 1", "0"),
        (layout::HEADING_2, "heading 2", "1"),
    ] {
        let start = styles
            .find(&format!("w:styleId=\"{id}\""))
            .unwrap_or_else(|| panic!("no style {id}"));
        let style = &styles[start..start + styles[start..].find("</w:style>").unwrap()];
        assert!(
            style.contains(&format!("<w:name w:val=\"{name}\"")),
            "{style}"
        );
        assert!(
            style.contains(&format!("<w:outlineLvl w:val=\"{level}\"")),
            "{style}"
        );
        assert!(style.contains("<w:keepNext"), "{style}");
    }
    // Times New Roman throughout, 13 pt.
    let defaults = elements(&all["word/styles.xml"], "w:rFonts");
    assert_eq!(defaults[0]["w:ascii"], layout::FONT);
    assert_eq!(defaults[0]["w:hAnsi"], layout::FONT);

    // A4 with official margins; a footer with a PAGE field.
    let size = &elements(&all["word/document.xml"], "w:pgSz")[0];
    assert_eq!(size["w:w"], "11906");
    assert_eq!(size["w:h"], "16838");
    let margins = &elements(&all["word/document.xml"], "w:pgMar")[0];
    assert_eq!(margins["w:left"], "1701", "30 mm");
    assert_eq!(
        elements(&all["word/document.xml"], "w:footerReference").len(),
        1
    );
    let footer = paragraphs(&all["word/footer1.xml"]);
    assert_eq!(footer.len(), 1);
    assert_eq!(footer[0].style.as_deref(), Some(layout::FOOTER));
    assert!(footer[0].text().starts_with("Trang "), "{footer:?}");
    assert!(
        footer[0].runs.iter().any(|r| r.instr.trim() == "PAGE"),
        "{footer:?}"
    );
    let fields: Vec<String> = elements(&all["word/footer1.xml"], "w:fldChar")
        .iter()
        .map(|f| f["w:fldCharType"].clone())
        .collect();
    assert_eq!(fields, ["begin", "separate", "end"]);

    // Paragraph ids are unique, and the same export is the same bytes,
    // whatever thread renders it.
    let ids: Vec<String> = elements(&all["word/document.xml"], "w:p")
        .iter()
        .map(|p| p["w14:paraId"].clone())
        .collect();
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    let again = std::thread::spawn(move || export.render(Format::Docx).unwrap())
        .join()
        .unwrap();
    assert!(again == docx, "the same export gave other bytes");

    // LibreOffice reads the same text, in the same order.
    let text = libreoffice_text(&docx);
    let expected_text: Vec<String> = expected.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(text, expected_text);
    // And sees A4, the footer's page number, and the headings as outline.
    let odt = libreoffice_odt(&docx);
    let layouts = elements(odt.as_bytes(), "style:page-layout-properties");
    let page = layouts
        .iter()
        .find(|l| l.contains_key("fo:page-width"))
        .expect("a page layout");
    assert!(
        (odt_mm(&page["fo:page-width"]) - 210.0).abs() < 0.5,
        "{page:?}"
    );
    assert!(
        (odt_mm(&page["fo:page-height"]) - 297.0).abs() < 0.5,
        "{page:?}"
    );
    assert!(
        (odt_mm(&page["fo:margin-left"]) - 30.0).abs() < 0.5,
        "{page:?}"
    );
    let footer = &odt[odt.find("<style:footer>").expect("a footer")..];
    let footer = &footer[..footer.find("</style:footer>").unwrap()];
    assert!(
        footer.contains("Trang <text:page-number"),
        "no page number: {footer}"
    );
    let outline: Vec<(String, String)> = expected
        .iter()
        .filter_map(|(style, text)| match *style {
            layout::HEADING_1 => Some(("1".to_owned(), text.clone())),
            layout::HEADING_2 => Some(("2".to_owned(), text.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(odt_headings(&odt), outline);
}

#[tokio::test]
async fn a_published_version_says_which_it_is_and_never_changes() {
    let f = fixture();
    let mut store = full_sitting(&f);
    publish(&mut store, 3);
    let lan = f.login("lan").await;
    let url = "/api/sessions/3/export/docx?version=1";
    let (status, headers, v1) = f.send(lan.get(url)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&v1));
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let version = store.version(3, 1).unwrap();
    let date = &version.info.published_at[..10];
    let (y, m, d) = (&date[..4], &date[5..7], &date[8..10]);
    let line = format!("Bản công bố số 1, ngày {d} tháng {m} năm {y}");
    let paras = document(&v1);
    let export = SessionExport::load_version(&store, 3, 1).unwrap();
    let mut expected = head(
        "Phiên họp toàn thể sáng 21/10",
        &[
            "Ngày 21 tháng 10 năm 2026",
            "Nội dung: Kỳ họp thứ mười",
            &line,
        ],
    );
    expected.extend(full_body(&export));
    assert_eq!(styled(&paras), owned(&expected));

    // A change to the record is the working record's, a draft again; the
    // version's bytes stay as they were.
    let first = store.segments(3).unwrap()[0].clone();
    let edit = SegmentEdit {
        text: Some("Xin mời các đại biểu ngồi".into()),
        ..SegmentEdit::default()
    };
    store
        .edit_segment(first.id, first.version, &edit, "lan")
        .unwrap();
    let (_, _, again) = f.send(lan.get(url)).await;
    assert!(again == v1, "version 1 changed");
    let (_, _, working) = f.send(lan.get("/api/sessions/3/export/docx")).await;
    let working = styled(&document(&working));
    assert_eq!(working[4], (layout::SUBTITLE.into(), DRAFT.into()));
    assert!(working[6].1.contains("ngồi") && working[6].1 != expected[6].1);
    // LibreOffice opens the version too.
    assert_eq!(libreoffice_text(&v1)[4], line);
}

#[test]
fn hostile_text_keeps_it_a_valid_docx() {
    let f = fixture();
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    // A line of 40,000 words that never repeats itself word for word
    // (the written form drops repeated words and phrases): the square-free
    // differences of the Thue-Morse sequence.
    let thue_morse = |n: u32| n.count_ones() % 2;
    let long = (0..40_000u32)
        .map(|n| ["lời", "nói", "dài"][(thue_morse(n + 1) + 1 - thue_morse(n)) as usize])
        .collect::<Vec<_>>()
        .join(" ");
    let texts = [
        "<script>alert(\"x\")</script> & &amp; ]]> <!-- --> <?pi?> </w:t></w:p>",
        "nul\u{0} bell\u{7} vtab\u{b} ffff\u{ffff} fffe\u{fffe} esc\u{1b}[31m",
        long.as_str(),
        "مرحبا بالعالم שלום 👏🏽 🇻🇳 \u{202e}đảo ngược",
    ];
    let meta = SessionMeta {
        title: Some("</w:t><w:p>&lt; '\u{1}".into()),
        sitting_date: Some("không phải ngày".into()),
        agenda_item: Some("]]>&".into()),
    };
    let id = ingest(&mut store, &doc("hostile.wav", 'd', &texts), &meta);
    let speaker = store
        .add_speaker(id, "Ông \"<Bình>\" & 'Co'", None, None)
        .unwrap();
    let segments = store.segments(id).unwrap();
    for segment in &segments {
        let edit = SegmentEdit {
            speaker_id: Some(Some(speaker)),
            ..SegmentEdit::default()
        };
        store
            .edit_segment(segment.id, segment.version, &edit, "test")
            .unwrap();
    }
    let item = AgendaEntry {
        title: "<h1>Mục</h1> & \u{b}".into(),
        reference: Some("</w:body>".into()),
        start: StartChange::At(segments[0].id),
        ..AgendaEntry::default()
    };
    store.set_agenda(id, &[item], "test").unwrap();
    store
        .add_note(id, 1_000, SceneKind::Other, "<b>&\"</b>", "test")
        .unwrap();

    let export = SessionExport::load(&store, id).unwrap();
    let docx = export.render(Format::Docx).unwrap();
    let paras = document(&docx);
    // The note falls inside the first segment: the speech is cut there.
    let speeches = speech_texts(&export);
    assert_eq!(speeches.len(), 2, "{speeches:?}");
    assert_eq!(speeches[0], texts[0]);
    let mut expected = head(
        "</w:t><w:p>&lt; ' ",
        &["không phải ngày", "Nội dung: ]]>&", DRAFT],
    );
    let speaker = "Ông \"<Bình>\" & 'Co':";
    expected.extend([
        (
            layout::HEADING_1,
            "1. <h1>Mục</h1> & (</w:body>)".to_owned(),
        ),
        (layout::HEADING_2, speaker.to_owned()),
        (layout::BODY, texts[0].to_owned()),
        (layout::NOTE, "(<b>&\"</b>)".to_owned()),
        (layout::HEADING_2, speaker.to_owned()),
        (layout::BODY, xml_text(&speeches[1])),
    ]);
    assert_eq!(styled(&paras), owned(&expected));
    let rest = &expected[10].1;
    assert!(
        rest.starts_with("nul  bell  vtab  ffff  fffe  esc [31m"),
        "control characters become spaces"
    );
    assert!(rest.contains(&long), "the long line is all there");
    assert!(rest.ends_with("\u{202e}đảo ngược"));

    let text = libreoffice_text(&docx);
    let expected_text: Vec<String> = expected.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(text, expected_text);
}

#[test]
fn an_empty_sitting_is_a_title_page() {
    let f = fixture();
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    store
        .ingest(&doc("trong.wav", 'e', &[]), &SessionMeta::default(), "test")
        .unwrap();
    let export = SessionExport::load(&store, 3).unwrap();
    let docx = export.render(Format::Docx).unwrap();
    let title = export.session.title.clone();
    assert_eq!(styled(&document(&docx)), owned(&head(&title, &[DRAFT])));
    assert_eq!(libreoffice_text(&docx), [ASSEMBLY, &title, DRAFT]);
}
