//! The export as an Akoma Ntoso 3.0 (OASIS LegalDocML) `debate`: FRBR
//! identification, references to the Assembly, the speakers and their
//! roles, the sitting's workflow steps, then one `debateSection` per part
//! of the record with its speeches (`@by`, `@as`, `@startTime`,
//! `@endTime`, `<from>`, one `<p>` per segment) and scene notes (`scene`
//! or `narrative`). URIs follow the AKN naming convention
//! (`/akn/vn/debate/DATE/SESSION/vie@DATE/!main`), eIds its hierarchical
//! form (`dbsect_1__spch_2`); docs/api.md lists the conventions. The
//! document validates against the official schema (server/tests/akn.rs).

use std::collections::HashMap;
use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use tocky_store::{Person, PersonRole, SceneKind, SceneNote};

use super::docx::xml_text;
use super::model::{ExportEntry, ExportSpeech, SessionExport, role_label};
use super::text::note_text;

mod dates;
mod steps;

use dates::{date_time, format_date, parse_date, today};
pub use steps::{WorkflowStep, sitting_steps};
use steps::{action_eid, action_label, step_date};

/// The Akoma Ntoso 3.0 namespace.
pub const NAMESPACE: &str = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0";
/// The media type of an AKN document.
pub const MEDIA_TYPE: &str = "application/akn+xml";
/// The eId of the Assembly's `TLCOrganization`: the record's author and
/// source.
pub const ASSEMBLY: &str = "quochoi";
/// The eId of the `TLCPerson` that speeches without a speaker are by.
pub const UNKNOWN_SPEAKER: &str = "unknown-speaker";

/// The AKN document with [`sitting_steps`], its manifestation made today;
/// a version's on its publication date, so that its bytes never change.
pub fn akn(export: &SessionExport) -> io::Result<Vec<u8>> {
    let generated = match &export.version {
        Some(v) => parse_date(&v.published_at).map_or_else(|| format_date(today()), format_date),
        None => format_date(today()),
    };
    akn_with(export, &sitting_steps(export), &generated)
}

/// The AKN document with these workflow `steps`, its manifestation made
/// on `generated` (YYYY-MM-DD).
pub fn akn_with(
    export: &SessionExport,
    steps: &[WorkflowStep],
    generated: &str,
) -> io::Result<Vec<u8>> {
    let refs = References::new(export, steps);
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("akomaNtoso")
        .with_attribute(("xmlns", NAMESPACE))
        .write_inner_content(|w| {
            w.create_element("debate")
                .with_attribute(("name", "sitting"))
                .write_inner_content(|w| {
                    meta(w, export, &refs, steps, generated)?;
                    preface(w, export, &refs)?;
                    body(w, export, &refs)
                })?;
            Ok(())
        })?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

type W = Writer<Vec<u8>>;

/// A `TLC*` reference: eId, href and the name shown.
#[derive(Debug, Clone)]
struct Tlc {
    eid: String,
    href: String,
    show_as: String,
}

/// Everything `meta/references` lists, and who each speech is by.
struct References {
    /// The sitting's date, as days since 1970-01-01.
    day: i64,
    persons: Vec<Tlc>,
    roles: Vec<Tlc>,
    concepts: Vec<Tlc>,
    /// Each speaker id's person eId.
    by_speaker: HashMap<i64, String>,
    /// Each registry person's eId and role eId on the sitting's date.
    by_person: HashMap<i64, (String, Option<String>)>,
}

impl References {
    fn new(export: &SessionExport, steps: &[WorkflowStep]) -> Self {
        let day = sitting_day(export);
        let date = format_date(day);
        let mut refs = Self {
            day,
            persons: Vec::new(),
            roles: Vec::new(),
            concepts: Vec::new(),
            by_speaker: HashMap::new(),
            by_person: HashMap::new(),
        };
        for person in &export.persons {
            let eid = format!("person-{}", slug(&person.key));
            refs.persons.push(Tlc {
                eid: eid.clone(),
                href: format!("/akn/ontology/person/vn/{}", slug(&person.key)),
                show_as: attr_text(&person.name),
            });
            let role = person_role(person, &date).map(|role| refs.role(role));
            refs.by_person.insert(person.id, (eid, role));
        }
        let session = export.session.id;
        for speaker in &export.speakers {
            if let Some((eid, _)) = speaker.person_id.and_then(|p| refs.by_person.get(&p)) {
                refs.by_speaker.insert(speaker.id, eid.clone());
                continue;
            }
            let base = format!("speaker-{}", slug(&speaker.name));
            let eid = refs.unique_person_eid(&base);
            refs.persons.push(Tlc {
                eid: eid.clone(),
                href: format!("/akn/ontology/person/vn/session-{session}/{eid}"),
                show_as: attr_text(&speaker.name),
            });
            refs.by_speaker.insert(speaker.id, eid);
        }
        let speeches = export.record.iter().flat_map(|part| &part.entries);
        let unknown = speeches.into_iter().any(
            |entry| matches!(entry, ExportEntry::Speech(s) if refs.agent(s).0 == UNKNOWN_SPEAKER),
        );
        if unknown {
            refs.persons.push(Tlc {
                eid: UNKNOWN_SPEAKER.into(),
                href: "/akn/ontology/person/vn/unknown".into(),
                show_as: "Chưa xác định".into(),
            });
        }
        // Only the steps `meta` writes: those with a date.
        for step in steps.iter().filter(|s| step_date(s).is_some()) {
            if let Some(user) = &step.by {
                let eid = format!("user-{}", slug(user));
                if refs.persons.iter().all(|p| p.eid != eid) {
                    refs.persons.push(Tlc {
                        href: format!("/akn/ontology/person/vn/tocky-user/{}", slug(user)),
                        eid,
                        show_as: attr_text(user),
                    });
                }
            }
            let action = slug(&step.action);
            let eid = action_eid(&step.action);
            if refs.concepts.iter().all(|c| c.eid != eid) {
                refs.concepts.push(Tlc {
                    href: format!("/akn/ontology/concept/vn/workflow/{action}"),
                    show_as: action_label(&action).unwrap_or(&action).to_owned(),
                    eid,
                });
            }
        }
        // In the order roles are documented, whoever speaks first.
        let rank = |eid: &str| {
            PersonRole::ALL
                .iter()
                .position(|r| eid == format!("role-{}", r.as_str().replace('_', "-")))
        };
        refs.roles.sort_by_key(|r| rank(&r.eid));
        refs
    }

    /// `base`, or `base-2`, `base-3`… if a person already has it.
    fn unique_person_eid(&self, base: &str) -> String {
        let taken = |eid: &str| self.persons.iter().any(|p| p.eid == eid);
        if !taken(base) {
            return base.to_owned();
        }
        (2..)
            .map(|n| format!("{base}-{n}"))
            .find(|eid| !taken(eid))
            .unwrap_or_else(|| base.to_owned())
    }

    /// The eId of `role`'s `TLCRole`, listed on first use.
    fn role(&mut self, role: PersonRole) -> String {
        let name = role.as_str().replace('_', "-");
        let eid = format!("role-{name}");
        if self.roles.iter().all(|r| r.eid != eid) {
            self.roles.push(Tlc {
                eid: eid.clone(),
                href: format!("/akn/ontology/role/vn/{name}"),
                show_as: role_label(role).unwrap_or("Khách mời").to_owned(),
            });
        }
        eid
    }

    /// Who `speech` is by, and as what.
    fn agent(&self, speech: &ExportSpeech) -> (&str, Option<&str>) {
        if let Some((eid, role)) = speech.speech.person_id.and_then(|p| self.by_person.get(&p)) {
            return (eid, role.as_deref());
        }
        match speech
            .speech
            .speaker_id
            .and_then(|s| self.by_speaker.get(&s))
        {
            Some(eid) => (eid, None),
            None => (UNKNOWN_SPEAKER, None),
        }
    }
}

/// The role `person` holds on `date` (the first when none holds then), as
/// the record's headings take it.
fn person_role(person: &Person, date: &str) -> Option<PersonRole> {
    person
        .roles_on(date)
        .next()
        .or_else(|| person.roles.first())
        .map(|r| r.role)
}

fn meta(
    w: &mut W,
    export: &SessionExport,
    refs: &References,
    steps: &[WorkflowStep],
    generated: &str,
) -> io::Result<()> {
    let date = format_date(refs.day);
    let work = format!("/akn/vn/debate/{date}/{}", export.session.id);
    // A version is its own expression, dated by its publication (AKN
    // naming: `lang@version-date`), and numbered in FRBRversionNumber.
    let (expression_date, number) = match &export.version {
        Some(v) => (
            parse_date(&v.published_at).map_or_else(|| date.clone(), format_date),
            Some(v.number.to_string()),
        ),
        None => (date.clone(), None),
    };
    let expression = format!("{work}/vie@{expression_date}");
    let author = format!("#{ASSEMBLY}");
    let source = author.as_str();
    w.create_element("meta").write_inner_content(|w| {
        w.create_element("identification")
            .with_attribute(("source", source))
            .write_inner_content(|w| {
                w.create_element("FRBRWork").write_inner_content(|w| {
                    frbr_core(w, &work, &date, "sitting", source)?;
                    value(w, "FRBRcountry", "vn")?;
                    value(w, "FRBRnumber", &export.session.id.to_string())?;
                    value(w, "FRBRname", "debate")
                })?;
                w.create_element("FRBRExpression")
                    .write_inner_content(|w| {
                        match &number {
                            Some(number) => {
                                frbr_core(w, &expression, &expression_date, "publication", source)?;
                                w.create_element("FRBRversionNumber")
                                    .with_attribute(("value", number.as_str()))
                                    .write_empty()?;
                            }
                            None => frbr_core(w, &expression, &date, "sitting", source)?,
                        }
                        w.create_element("FRBRlanguage")
                            .with_attribute(("language", "vie"))
                            .write_empty()?;
                        Ok(())
                    })?;
                w.create_element("FRBRManifestation")
                    .write_inner_content(|w| {
                        let manifestation = format!("{expression}.xml");
                        frbr_core(w, &manifestation, generated, "generation", source)?;
                        value(w, "FRBRformat", MEDIA_TYPE)
                    })?;
                Ok(())
            })?;
        // A step without a readable date is left out: the schema needs one.
        let steps: Vec<(String, &WorkflowStep)> = steps
            .iter()
            .filter_map(|s| Some((step_date(s)?, s)))
            .collect();
        if !steps.is_empty() {
            w.create_element("workflow")
                .with_attribute(("source", source))
                .write_inner_content(|w| {
                    for (date, step) in steps {
                        let by = match &step.by {
                            Some(user) => format!("#user-{}", slug(user)),
                            None => author.clone(),
                        };
                        let concept = format!("#{}", action_eid(&step.action));
                        w.create_element("step")
                            .with_attribute(("date", date.as_str()))
                            .with_attribute(("by", by.as_str()))
                            .with_attribute(("refersTo", concept.as_str()))
                            .write_empty()?;
                    }
                    Ok(())
                })?;
        }
        w.create_element("references")
            .with_attribute(("source", source))
            .write_inner_content(|w| {
                tlc(
                    w,
                    "TLCOrganization",
                    &Tlc {
                        eid: ASSEMBLY.into(),
                        href: "/akn/ontology/organization/vn/quocHoi".into(),
                        show_as: "Quốc hội nước Cộng hòa xã hội chủ nghĩa Việt Nam".into(),
                    },
                )?;
                for person in &refs.persons {
                    tlc(w, "TLCPerson", person)?;
                }
                for role in &refs.roles {
                    tlc(w, "TLCRole", role)?;
                }
                for concept in &refs.concepts {
                    tlc(w, "TLCConcept", concept)?;
                }
                Ok(())
            })?;
        Ok(())
    })?;
    Ok(())
}

/// FRBRthis (`…/!main`), FRBRuri, FRBRdate and FRBRauthor of one level.
fn frbr_core(w: &mut W, uri: &str, date: &str, name: &str, author: &str) -> io::Result<()> {
    // A manifestation's "this" names its main file, like its URI.
    let this = match uri.strip_suffix(".xml") {
        Some(expression) => format!("{expression}/!main.xml"),
        None => format!("{uri}/!main"),
    };
    value(w, "FRBRthis", &this)?;
    value(w, "FRBRuri", uri)?;
    w.create_element("FRBRdate")
        .with_attribute(("date", date))
        .with_attribute(("name", name))
        .write_empty()?;
    w.create_element("FRBRauthor")
        .with_attribute(("href", author))
        .write_empty()?;
    Ok(())
}

fn value(w: &mut W, element: &str, value: &str) -> io::Result<()> {
    w.create_element(element)
        .with_attribute(("value", value))
        .write_empty()?;
    Ok(())
}

fn tlc(w: &mut W, element: &str, tlc: &Tlc) -> io::Result<()> {
    w.create_element(element)
        .with_attribute(("eId", tlc.eid.as_str()))
        .with_attribute(("href", tlc.href.as_str()))
        .with_attribute(("showAs", tlc.show_as.as_str()))
        .write_empty()?;
    Ok(())
}

/// The title, the date and the session's own agenda note.
fn preface(w: &mut W, export: &SessionExport, refs: &References) -> io::Result<()> {
    let date = format_date(refs.day);
    w.create_element("preface").write_inner_content(|w| {
        inline_p(w, |w| text_element(w, "docTitle", &export.session.title))?;
        inline_p(w, |w| {
            w.create_element("docDate")
                .with_attribute(("date", date.as_str()))
                .write_text_content(BytesText::new(&date))?;
            Ok(())
        })?;
        if let Some(note) = export.session.agenda_item.as_deref() {
            text_element(w, "p", note)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// A `<p>` of inline elements on one line: the indenting writer would put
/// its whitespace into the paragraph's text.
fn inline_p(w: &mut W, inner: impl FnOnce(&mut W) -> io::Result<()>) -> io::Result<()> {
    let mut line = Writer::new(Vec::new());
    inner(&mut line)?;
    let line = String::from_utf8(line.into_inner()).map_err(io::Error::other)?;
    // Already escaped by the writer that made it.
    w.create_element("p")
        .write_text_content(BytesText::from_escaped(line))?;
    Ok(())
}

/// One `debateSection` per part of the record (at least one: the schema
/// wants one even for an empty sitting).
fn body(w: &mut W, export: &SessionExport, refs: &References) -> io::Result<()> {
    w.create_element("debateBody").write_inner_content(|w| {
        if export.record.is_empty() {
            w.create_element("debateSection")
                .with_attribute(("eId", "dbsect_1"))
                .with_attribute(("name", "record"))
                .write_empty()?;
        }
        for (i, part) in export.record.iter().enumerate() {
            let eid = format!("dbsect_{}", i + 1);
            let name = if part.item.is_some() {
                "agendaItem"
            } else {
                "preliminaries"
            };
            w.create_element("debateSection")
                .with_attribute(("eId", eid.as_str()))
                .with_attribute(("name", name))
                .write_inner_content(|w| {
                    if let Some(item) = &part.item {
                        text_element(w, "num", &format!("{}.", item.position + 1))?;
                        text_element(w, "heading", &item.title)?;
                        if let Some(reference) =
                            item.reference.as_deref().filter(|r| !r.trim().is_empty())
                        {
                            text_element(w, "subheading", reference)?;
                        }
                    }
                    let (mut speeches, mut scenes, mut narratives) = (0, 0, 0);
                    for entry in &part.entries {
                        match entry {
                            ExportEntry::Speech(s) => {
                                speeches += 1;
                                speech(w, &format!("{eid}__spch_{speeches}"), s, refs)?;
                            }
                            ExportEntry::Note(note) => {
                                let (element, n) = if is_scene(note) {
                                    scenes += 1;
                                    ("scene", scenes)
                                } else {
                                    narratives += 1;
                                    ("narrative", narratives)
                                };
                                w.create_element(element)
                                    .with_attribute((
                                        "eId",
                                        format!("{eid}__{element}_{n}").as_str(),
                                    ))
                                    .write_text_content(BytesText::new(&xml_text(&note_text(
                                        note,
                                    ))))?;
                            }
                        }
                    }
                    Ok(())
                })?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Applause and the gavel are the hall's scene; a vote or anything else
/// is told as narrative.
fn is_scene(note: &SceneNote) -> bool {
    matches!(note.kind, SceneKind::Applause | SceneKind::Gavel)
}

fn speech(w: &mut W, eid: &str, s: &ExportSpeech, refs: &References) -> io::Result<()> {
    let (by, role) = refs.agent(s);
    let by = format!("#{by}");
    let role = role.map(|r| format!("#{r}"));
    let start = date_time(refs.day, s.speech.start_ms);
    let end = date_time(refs.day, s.speech.end_ms.max(s.speech.start_ms));
    let mut element = w
        .create_element("speech")
        .with_attribute(("eId", eid))
        .with_attribute(("by", by.as_str()));
    if let Some(role) = &role {
        element = element.with_attribute(("as", role.as_str()));
    }
    element
        .with_attribute(("startTime", start.as_str()))
        .with_attribute(("endTime", end.as_str()))
        .write_inner_content(|w| {
            if let Some(heading) = &s.heading {
                text_element(w, "from", heading)?;
            }
            // A paragraph per segment, in written form.
            let paragraphs = &s.paragraphs;
            // A speech holds at least one block: an empty one keeps `<p/>`.
            if paragraphs.is_empty() {
                w.create_element("p").write_empty()?;
            }
            for p in paragraphs {
                text_element(w, "p", p)?;
            }
            Ok(())
        })?;
    Ok(())
}

/// `<element>text</element>`, with what XML cannot hold replaced.
fn text_element(w: &mut W, element: &str, text: &str) -> io::Result<()> {
    w.create_element(element)
        .write_text_content(BytesText::new(&xml_text(text)))?;
    Ok(())
}

/// `text` for an attribute: what XML cannot hold and line breaks and tabs
/// (which a parser turns into spaces anyway) as spaces.
fn attr_text(text: &str) -> String {
    xml_text(text).replace(['\t', '\n', '\r'], " ")
}

/// `text` as an eId or URI segment: ASCII letters and digits, lower
/// case, with single '-' between runs (and '.' and '_' kept, as registry
/// keys have them); `x` when nothing is left.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in tocky_core::text::fold(text).chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "x".to_owned()
    } else {
        out.to_owned()
    }
}

/// The sitting's date (else the day the session was recorded) as days
/// since 1970-01-01.
fn sitting_day(export: &SessionExport) -> i64 {
    let session = &export.session;
    session
        .sitting_date
        .as_deref()
        .and_then(parse_date)
        .or_else(|| parse_date(&session.created_at))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_plain_ascii() {
        assert_eq!(slug("Ông Đinh Tiến Dũng"), "ong-dinh-tien-dung");
        assert_eq!(slug("dbqh-0123"), "dbqh-0123");
        assert_eq!(slug("<&>\"'"), "x");
        assert_eq!(slug("  a\u{0}b  "), "a-b");
    }
}
