//! The Akoma Ntoso export validates against the official AKN 3.0 schema
//! (a copy in tests/data/akn, checked offline by xmllint from Debian's
//! libxml2-utils) and carries the record: a debateSection per part, a
//! speech per speech, each by a TLCPerson and as a TLCRole listed in the
//! references, scene notes, unique eIds. Three sittings: (a) a full one,
//! (b) one of hostile text, (c) an empty one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::process::Command;

use common::*;
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use tocky_store::{Reasons, SceneKind, SegmentEdit, WorkflowState};
use tocky_test_support::{FullSitting, full_sitting, ingest, publish};

/// One element of a parsed document: its name, attributes and own text.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: HashMap<String, String>,
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }
}

/// Every element of `xml` in document order (a test parser: it panics on
/// what is not well-formed).
fn elements(xml: &[u8]) -> Vec<Element> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let (mut out, mut open): (Vec<Element>, Vec<usize>) = (Vec::new(), Vec::new());
    loop {
        let event = reader.read_event_into(&mut buf).unwrap();
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let decoder = reader.decoder();
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                        (
                            key,
                            a.decoded_and_normalized_value(XmlVersion::Explicit1_0, decoder)
                                .unwrap()
                                .into_owned(),
                        )
                    })
                    .collect();
                out.push(Element {
                    name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                    attrs,
                    text: String::new(),
                });
                if matches!(event, Event::Start(_)) {
                    open.push(out.len() - 1);
                }
            }
            Event::End(_) => {
                open.pop().unwrap();
            }
            Event::Text(t) => {
                if let Some(&i) = open.last() {
                    out[i].text.push_str(&t.decode().unwrap());
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().unwrap() {
                    Some(c) => c,
                    None => match r.decode().unwrap().as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("unknown entity {other}"),
                    },
                };
                if let Some(&i) = open.last() {
                    out[i].text.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    assert!(open.is_empty(), "unclosed elements");
    out
}

/// Validates `xml` with xmllint against the copied schema, offline.
fn validate(xml: &[u8], name: &str) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/akn/akomantoso30.xsd");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.akn.xml"));
    std::fs::write(&file, xml).unwrap();
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(&schema)
        .arg(&file)
        .output()
        .expect("xmllint (Debian's libxml2-utils; scripts/setup installs it)");
    let shown: String = String::from_utf8_lossy(xml).chars().take(20_000).collect();
    assert!(
        output.status.success(),
        "{name} does not validate:\n{}\n{shown}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The session's AKN export through the API, checked for its headers,
/// validated and parsed.
async fn export(f: &Fixture, session: i64, name: &str) -> (Vec<u8>, Vec<Element>) {
    let lan = f.login("lan").await;
    let (status, headers, body) = f
        .send(lan.get(&format!("/api/sessions/{session}/export/akn")))
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers[header::CONTENT_TYPE], "application/akn+xml");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.ends_with(&format!("session-{session}.akn.xml\"")),
        "{disposition}"
    );
    validate(&body, name);
    let parsed = elements(&body);
    check_structure(&parsed);
    (body, parsed)
}

/// What every export must hold: unique eIds, and each speech by a listed
/// TLCPerson, as a listed TLCRole.
fn check_structure(doc: &[Element]) {
    let mut eids = HashSet::new();
    for eid in doc.iter().filter_map(|e| e.attr("eId")) {
        assert!(eids.insert(eid), "eId {eid} twice");
    }
    let listed = |kind: &str| -> HashSet<String> {
        doc.iter()
            .filter(|e| e.name == kind)
            .map(|e| format!("#{}", e.attr("eId").unwrap()))
            .collect()
    };
    let (persons, roles) = (listed("TLCPerson"), listed("TLCRole"));
    for speech in doc.iter().filter(|e| e.name == "speech") {
        let by = speech.attr("by").unwrap();
        assert!(persons.contains(by), "{by} is not a TLCPerson");
        if let Some(role) = speech.attr("as") {
            assert!(roles.contains(role), "{role} is not a TLCRole");
        }
    }
    assert_eq!(doc[0].name, "akomaNtoso");
    assert_eq!(doc[1].name, "debate");
}

fn all<'a>(doc: &'a [Element], name: &str) -> Vec<&'a Element> {
    doc.iter().filter(|e| e.name == name).collect()
}

fn value<'a>(doc: &'a [Element], name: &str) -> Vec<&'a str> {
    all(doc, name)
        .iter()
        .filter_map(|e| e.attr("value"))
        .collect()
}

#[tokio::test]
async fn a_full_sitting_validates_and_carries_the_record() {
    let f = fixture();
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    // Seven segments, the sixth by a guest outside the registry.
    let id = full_sitting(&mut store, &FullSitting::default());

    let (body, doc) = export(&f, id, "full").await;
    let xml = String::from_utf8(body).unwrap();

    // Identification.
    let work = format!("/akn/vn/debate/2026-10-21/{id}");
    let expression = format!("{work}/vie@2026-10-21");
    assert_eq!(
        value(&doc, "FRBRthis")[..2],
        [format!("{work}/!main"), format!("{expression}/!main")]
    );
    assert_eq!(
        value(&doc, "FRBRuri")[..2],
        [work.as_str(), expression.as_str()]
    );
    assert_eq!(
        value(&doc, "FRBRthis")[2],
        format!("{expression}/!main.xml")
    );
    assert_eq!(value(&doc, "FRBRcountry"), ["vn"]);
    assert_eq!(all(&doc, "FRBRlanguage")[0].attr("language"), Some("vie"));
    assert_eq!(
        all(&doc, "docTitle")[0].text,
        "Phiên họp toàn thể sáng 21/10"
    );
    let steps = all(&doc, "step");
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].attr("refersTo"), Some("#workflow-recorded"));
    assert_eq!(steps[0].attr("by"), Some("#quochoi"));
    let concepts: Vec<_> = all(&doc, "TLCConcept")
        .iter()
        .map(|c| c.attr("eId"))
        .collect();
    assert_eq!(concepts, [Some("workflow-recorded")]);

    // References: the registry's people by key, the others by name.
    let persons: Vec<(&str, &str)> = all(&doc, "TLCPerson")
        .iter()
        .map(|p| (p.attr("eId").unwrap(), p.attr("showAs").unwrap()))
        .collect();
    for expected in [
        ("person-tran-thanh-man", "Trần Thanh Mẫn"),
        ("person-dbqh-0123", "Nguyễn Thị Lan"),
        ("person-bt-tc", "Hồ Đức Phớc"),
        ("speaker-ong-binh", "Ông Bình"),
        ("unknown-speaker", "Chưa xác định"),
    ] {
        assert!(persons.contains(&expected), "{expected:?} in {persons:?}");
    }
    let roles: Vec<&str> = all(&doc, "TLCRole")
        .iter()
        .map(|r| r.attr("eId").unwrap())
        .collect();
    assert_eq!(roles, ["role-delegate", "role-chair", "role-minister"]);
    assert_eq!(all(&doc, "TLCOrganization")[0].attr("eId"), Some("quochoi"));

    // The body: what came before the first item, then the two started items.
    let sections = all(&doc, "debateSection");
    let names: Vec<_> = sections.iter().map(|s| s.attr("name").unwrap()).collect();
    assert_eq!(names, ["preliminaries", "agendaItem", "agendaItem"]);
    let headings: Vec<_> = all(&doc, "heading")
        .iter()
        .map(|h| h.text.as_str())
        .collect();
    assert_eq!(headings, ["Luật Đất đai", "Chất vấn"]);
    assert_eq!(all(&doc, "subheading")[0].text, "sửa đổi");
    let speeches = all(&doc, "speech");
    let summary: Vec<(&str, &str, Option<&str>)> = speeches
        .iter()
        .map(|s| (s.attr("eId").unwrap(), s.attr("by").unwrap(), s.attr("as")))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "dbsect_1__spch_1",
                "#person-tran-thanh-man",
                Some("#role-chair")
            ),
            (
                "dbsect_2__spch_1",
                "#person-tran-thanh-man",
                Some("#role-chair")
            ),
            ("dbsect_2__spch_2", "#person-bt-tc", Some("#role-minister")),
            (
                "dbsect_2__spch_3",
                "#person-dbqh-0123",
                Some("#role-delegate")
            ),
            ("dbsect_3__spch_1", "#speaker-ong-binh", None),
            ("dbsect_3__spch_2", "#unknown-speaker", None),
        ]
    );
    let delegate = speeches[3];
    assert_eq!(delegate.attr("startTime"), Some("2026-10-21T00:00:15"));
    assert_eq!(delegate.attr("endTime"), Some("2026-10-21T00:00:24"));
    let froms: Vec<_> = all(&doc, "from").iter().map(|f| f.text.as_str()).collect();
    assert_eq!(froms[3], "Đại biểu Nguyễn Thị Lan (Hà Nội)");
    assert_eq!(froms.len(), 5, "the unknown speaker has no heading");
    // One paragraph per segment, in written form: the delegate's two segments.
    assert!(xml.contains("<p>đề nghị làm rõ khoản 3 điều 12</p>"));
    assert_eq!(
        all(&doc, "p")
            .iter()
            .filter(|p| p.text == "xin cảm ơn")
            .count(),
        1
    );
    let scenes = all(&doc, "scene");
    assert_eq!(scenes.len(), 1);
    assert_eq!(scenes[0].text, "Hội trường vỗ tay");
    assert_eq!(scenes[0].attr("eId"), Some("dbsect_2__scene_1"));
    let narratives = all(&doc, "narrative");
    assert_eq!(narratives.len(), 1);
    assert_eq!(narratives[0].text, "Quốc hội biểu quyết");
}

#[tokio::test]
async fn hostile_text_stays_valid_xml() {
    let f = fixture();
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    let long = "dài ".repeat(50_000);
    let texts = [
        "<script>alert(\"x\")</script> & &amp; ]]> <!-- --> <?pi?>",
        "nul\u{0} bell\u{7} vtab\u{b} ffff\u{ffff} fffe\u{fffe} esc\u{1b}[31m",
        long.as_str(),
        "مرحبا بالعالم שלום 👏🏽 🇻🇳 \u{202e}đảo ngược",
    ];
    let meta = SessionMeta {
        title: Some("</docTitle><x a=\"1\">&lt; '\u{1}".into()),
        sitting_date: Some("2026-10-22".into()),
        agenda_item: Some("]]>&".into()),
    };
    let id = ingest(&mut store, &doc("hostile.wav", 'd', &texts), &meta);
    let speaker = store
        .add_speaker(id, "Ông \"<Bình>\" & 'Co'", None, None)
        .unwrap();
    for segment in store.segments(id).unwrap() {
        let edit = SegmentEdit {
            speaker_id: Some(Some(speaker)),
            ..SegmentEdit::default()
        };
        store
            .edit_segment(segment.id, segment.version, &edit, "test")
            .unwrap();
    }
    store
        .add_note(id, 1_000, SceneKind::Other, "<b>&\"</b>", "test")
        .unwrap();

    let (_, doc) = export(&f, id, "hostile").await;
    assert!(all(&doc, "x").is_empty() && all(&doc, "script").is_empty());
    assert_eq!(
        all(&doc, "docTitle")[0].text,
        "</docTitle><x a=\"1\">&lt; ' "
    );
    let paragraphs: Vec<&str> = all(&doc, "p").iter().map(|p| p.text.as_str()).collect();
    assert!(paragraphs.contains(&texts[0]), "{paragraphs:?}");
    assert!(
        paragraphs.contains(&"nul  bell  vtab  ffff  fffe  esc [31m"),
        "control characters become spaces: {paragraphs:?}"
    );
    // In written form: the word said again and again is said once.
    assert!(paragraphs.contains(&tocky_itn::written(long.trim()).text.as_str()));
    assert!(paragraphs.contains(&texts[3]));
    let from = &all(&doc, "from")[0].text;
    assert_eq!(from, "Ông \"<Bình>\" & 'Co'");
    let person = all(&doc, "TLCPerson")[0];
    assert_eq!(person.attr("eId"), Some("speaker-ong-binh-co"));
    assert_eq!(person.attr("showAs"), Some("Ông \"<Bình>\" & 'Co'"));
    assert_eq!(all(&doc, "narrative")[0].text, "<b>&\"</b>");
}

#[tokio::test]
async fn an_empty_sitting_validates() {
    let f = fixture();
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    let id = ingest(
        &mut store,
        &doc("trong.wav", 'e', &[]),
        &SessionMeta::default(),
    );
    let (_, doc) = export(&f, id, "empty").await;
    assert!(all(&doc, "speech").is_empty());
    let sections = all(&doc, "debateSection");
    assert_eq!(sections.len(), 1, "the schema wants one section");
    // No sitting date: the work is dated by the session's recording.
    let created = store.session(id).unwrap().created_at;
    let work = format!("/akn/vn/debate/{}/{id}", &created[..10]);
    assert_eq!(value(&doc, "FRBRuri")[0], work);
    assert_eq!(all(&doc, "TLCPerson").len(), 0);
}

#[tokio::test]
async fn the_formats_list_names_akn() {
    let f = fixture();
    let lan = f.login("lan").await;
    let (status, body) = f.json(lan.get("/api/sessions/1/export/xml")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("akn"), "{body}");
}

#[test]
fn workflow_steps_are_listed_with_their_accounts() {
    use tocky_server::export::SessionExport;
    use tocky_server::export::akn::{WorkflowStep, akn_with, sitting_steps};

    let f = fixture();
    let store = Store::open(&f.root.join("tocky.db")).unwrap();
    let export = SessionExport::load(&store, 1).unwrap();
    let mut steps = sitting_steps(&export);
    let step = |date: &str, action: &str, by: &str| WorkflowStep {
        date: date.into(),
        action: action.into(),
        by: Some(by.into()),
    };
    steps.push(step("2026-10-22T09:00:00Z", "checked", "lan"));
    steps.push(step("2026-10-22", "approved", "Trưởng ban <biên tập>"));
    steps.push(step("soon", "published", "lan"));
    let xml = akn_with(&export, &steps, "2026-10-23").unwrap();
    validate(&xml, "workflow");
    let doc = elements(&xml);
    check_structure(&doc);
    let steps: Vec<(&str, &str, &str)> = all(&doc, "step")
        .iter()
        .map(|s| {
            let attr = |name| s.attr(name).unwrap();
            (attr("date"), attr("by"), attr("refersTo"))
        })
        .collect();
    assert_eq!(
        steps[1..],
        [
            ("2026-10-22T09:00:00Z", "#user-lan", "#workflow-checked"),
            (
                "2026-10-22",
                "#user-truong-ban-bien-tap",
                "#workflow-approved"
            ),
        ],
        "a step without a date is left out"
    );
    let persons: Vec<_> = all(&doc, "TLCPerson")
        .iter()
        .map(|p| p.attr("eId").unwrap())
        .collect();
    assert!(persons.contains(&"user-lan"), "{persons:?}");
    let concepts: Vec<_> = all(&doc, "TLCConcept")
        .iter()
        .map(|c| c.attr("eId").unwrap())
        .collect();
    assert_eq!(
        concepts,
        ["workflow-recorded", "workflow-checked", "workflow-approved"]
    );
    let manifestation = all(&doc, "FRBRdate")[2];
    assert_eq!(manifestation.attr("date"), Some("2026-10-23"));
}

/// Version `number` of session 1 as AKN, validated and parsed.
async fn version_akn(f: &Fixture, login: &Login, number: i64) -> Vec<Element> {
    let uri = format!("/api/sessions/1/export/akn?version={number}");
    let (status, _, body) = f.send(login.get(&uri)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    validate(&body, &format!("version-{number}"));
    let doc = elements(&body);
    check_structure(&doc);
    doc
}

/// Version 1 of session 1 (published, made final, then corrected by
/// version 2) lists its steps up to its publication, by whom, and is the
/// expression of its publication date.
#[tokio::test]
async fn a_published_version_lists_its_workflow_steps() {
    let f = fixture();
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    publish(&mut store, 1);
    let reasons = Reasons::default();
    store
        .move_workflow(1, WorkflowState::Final, "thu", None, &reasons)
        .unwrap();
    let seg = store.segment(1).unwrap();
    let edit = SegmentEdit {
        text: Some("đã sửa".into()),
        ..SegmentEdit::default()
    };
    store.edit_segment(1, seg.version, &edit, "lan").unwrap();
    publish(&mut store, 1);
    let published = store.versions(1).unwrap()[0].published_at[..10].to_owned();

    let lan = f.login("lan").await;
    let doc = version_akn(&f, &lan, 1).await;
    let steps: Vec<(&str, &str)> = all(&doc, "step")
        .iter()
        .map(|s| (s.attr("by").unwrap(), s.attr("refersTo").unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("#quochoi", "#workflow-recorded"),
            ("#user-lan", "#workflow-checked"),
            ("#user-thu", "#workflow-approved"),
            ("#user-thu", "#workflow-published"),
        ],
        "nothing after its publication"
    );
    assert_eq!(value(&doc, "FRBRversionNumber"), ["1"]);
    let uris = value(&doc, "FRBRuri");
    assert!(
        uris[1].ends_with(&format!("/1/vie@{published}")),
        "{uris:?}"
    );
    assert_eq!(all(&doc, "FRBRdate")[2].attr("date"), Some(&*published));

    let doc = version_akn(&f, &lan, 2).await;
    let steps: Vec<_> = all(&doc, "step")
        .iter()
        .map(|s| s.attr("refersTo"))
        .collect();
    assert_eq!(steps.len(), 8, "{steps:?}");
    assert_eq!(steps[4], Some("#workflow-final"));
    assert_eq!(value(&doc, "FRBRversionNumber"), ["2"]);
    let uri = "/api/sessions/1/export/akn?version=9";
    assert_eq!(f.send(lan.get(uri)).await.0, StatusCode::NOT_FOUND);
}
