//! Reading a DOCX back, for the tests: its parts (docx-rs stores them
//! uncompressed), the paragraphs of a part with their style and runs, and
//! LibreOffice's conversion of it (a private profile per call, so that
//! parallel tests do not share one, and a time limit).

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// The archive's parts by name. A test reader: it panics on anything but
/// the stored (uncompressed) entries docx-rs writes, with sizes in their
/// local headers.
pub(crate) fn parts(zip: &[u8]) -> HashMap<String, Vec<u8>> {
    let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
    let u32_at = |i: usize| u32::from_le_bytes(zip[i..i + 4].try_into().unwrap()) as usize;
    let mut out = HashMap::new();
    let mut at = 0;
    while zip.len() >= at + 30 && zip[at..at + 4] == *b"PK\x03\x04" {
        let (flags, method) = (u16_at(at + 6), u16_at(at + 8));
        let size = u32_at(at + 18);
        let (name_len, extra_len) = (u16_at(at + 26), u16_at(at + 28));
        assert_eq!(flags & 8, 0, "entry sizes are in a data descriptor");
        assert_eq!(method, 0, "entry is compressed (method {method})");
        let name = String::from_utf8(zip[at + 30..at + 30 + name_len].to_vec()).unwrap();
        let start = at + 30 + name_len + extra_len;
        out.insert(name, zip[start..start + size].to_vec());
        at = start + size;
    }
    assert!(!out.is_empty(), "not a zip archive");
    out
}

/// A run of a paragraph.
#[derive(Debug, Default, Clone)]
pub(crate) struct Run {
    pub(crate) text: String,
    pub(crate) bold: bool,
    pub(crate) italic: bool,
    /// A field's instruction (`instrText`), if the run holds one.
    pub(crate) instr: String,
}

/// A paragraph of a part.
#[derive(Debug, Default, Clone)]
pub(crate) struct Para {
    pub(crate) style: Option<String>,
    pub(crate) runs: Vec<Run>,
}

impl Para {
    /// Its text, runs joined.
    pub(crate) fn text(&self) -> String {
        self.runs.iter().map(|r| r.text.as_str()).collect()
    }
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .map(|a| a.unwrap())
        .find(|a| a.key.as_ref() == name.as_bytes())
        .map(|a| String::from_utf8(a.value.to_vec()).unwrap())
}

/// `w:b`/`w:i` with no value or a true one.
fn on(e: &BytesStart) -> bool {
    !matches!(attr(e, "w:val").as_deref(), Some("false" | "0"))
}

/// The paragraphs of a WordprocessingML part, in order (a test parser: it
/// panics on XML that is not well-formed).
pub(crate) fn paragraphs(xml: &[u8]) -> Vec<Para> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out: Vec<Para> = Vec::new();
    let (mut in_para, mut in_run_props, mut target) = (false, false, "");
    let mut open = 0usize;
    loop {
        let event = reader.read_event_into(&mut buf).unwrap();
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                if matches!(event, Event::Start(_)) {
                    open += 1;
                }
                match e.name().as_ref() {
                    b"w:p" => {
                        in_para = true;
                        out.push(Para::default());
                    }
                    b"w:pStyle" if in_para => {
                        out.last_mut().unwrap().style = attr(e, "w:val");
                    }
                    b"w:r" if in_para => out.last_mut().unwrap().runs.push(Run::default()),
                    b"w:rPr" => in_run_props = true,
                    b"w:b" | b"w:i" if in_run_props && in_para => {
                        if let Some(run) = out.last_mut().unwrap().runs.last_mut() {
                            match e.name().as_ref() {
                                b"w:b" => run.bold = on(e),
                                _ => run.italic = on(e),
                            }
                        }
                    }
                    b"w:t" => target = "text",
                    b"w:instrText" => target = "instr",
                    b"w:tab" if in_para => {
                        if let Some(run) = out.last_mut().unwrap().runs.last_mut() {
                            run.text.push('\t');
                        }
                    }
                    _ => {}
                }
                if matches!(event, Event::Empty(_)) && e.name().as_ref() == b"w:p" {
                    in_para = false;
                }
            }
            Event::End(e) => {
                open -= 1;
                match e.name().as_ref() {
                    b"w:p" => in_para = false,
                    b"w:rPr" => in_run_props = false,
                    b"w:t" | b"w:instrText" => target = "",
                    _ => {}
                }
            }
            Event::Text(t) if !target.is_empty() => {
                let text = t.decode().unwrap();
                push(&mut out, target, &text);
            }
            Event::GeneralRef(r) if !target.is_empty() => {
                let c = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => match r.decode().unwrap().as_ref() {
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "amp" => "&".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => panic!("unknown entity {other}"),
                    },
                };
                push(&mut out, target, &c);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    assert_eq!(open, 0, "unclosed elements");
    out
}

fn push(out: &mut [Para], target: &str, text: &str) {
    let run = out
        .last_mut()
        .and_then(|p| p.runs.last_mut())
        .expect("text outside a run");
    match target {
        "text" => run.text.push_str(text),
        _ => run.instr.push_str(text),
    }
}

/// The attributes of every `name` element of `xml`, in order.
pub(crate) fn elements(xml: &[u8], name: &str) -> Vec<HashMap<String, String>> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).unwrap() {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == name.as_bytes() => {
                out.push(
                    e.attributes()
                        .map(|a| a.unwrap())
                        .map(|a| {
                            (
                                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                                String::from_utf8(a.value.to_vec()).unwrap(),
                            )
                        })
                        .collect(),
                );
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

/// How long one conversion may take: LibreOffice's first start on a cold
/// machine takes seconds, a hung one would hang the suite.
const CONVERT_LIMIT: Duration = Duration::from_secs(180);

/// `docx` converted by LibreOffice headless to `filter` (such as
/// `txt:Text (encoded):UTF8`), the converted file's bytes. Fails, never
/// skips, where LibreOffice is missing.
pub(crate) fn convert(docx: &[u8], filter: &str, extension: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("record.docx");
    std::fs::write(&input, docx).unwrap();
    let profile = dir.path().join("profile");
    let out_dir = dir.path().join("out");
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let child = Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--norestore", "--nolockcheck", "--convert-to"])
        .arg(filter)
        .arg("--outdir")
        .arg(&out_dir)
        .arg(&input)
        .stdin(Stdio::null())
        // To a file, not a pipe: a full pipe would stall it while it is
        // polled below.
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => panic!(
            "soffice (LibreOffice) is needed to check the DOCX export: {e}; \
             scripts/setup installs it (Debian's libreoffice-writer-nogui)"
        ),
    };
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > CONVERT_LIMIT {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("soffice took more than {CONVERT_LIMIT:?} to convert the DOCX");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    let converted = out_dir.join(format!("record.{extension}"));
    assert!(
        status.success() && converted.exists(),
        "soffice did not convert the DOCX ({status}):\n{}",
        std::fs::read_to_string(dir.path().join("log")).unwrap_or_default()
    );
    std::fs::read(&converted).unwrap()
}

/// The DOCX as LibreOffice reads it, as UTF-8 text: a line per paragraph.
pub(crate) fn libreoffice_text(docx: &[u8]) -> Vec<String> {
    let bytes = convert(docx, "txt:Text (encoded):UTF8", "txt");
    let text = String::from_utf8(bytes).unwrap();
    text.trim_start_matches('\u{feff}')
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The DOCX as LibreOffice reads it, saved as a flat OpenDocument text
/// (one XML file): its page layout, footer and outline as LibreOffice
/// understood them.
pub(crate) fn libreoffice_odt(docx: &[u8]) -> String {
    String::from_utf8(convert(docx, "fodt", "fodt")).unwrap()
}

/// The headings of a flat OpenDocument text: (outline level, text).
pub(crate) fn odt_headings(xml: &str) -> Vec<(String, String)> {
    let mut reader = Reader::from_str(xml);
    let mut out: Vec<(String, String)> = Vec::new();
    let mut depth = 0usize;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) if e.name().as_ref() == b"text:h" => {
                let level = attr(&e, "text:outline-level").unwrap_or_default();
                out.push((level, String::new()));
                depth = 1;
            }
            Event::Start(_) if depth > 0 => depth += 1,
            Event::End(_) if depth > 0 => depth -= 1,
            Event::Text(t) if depth > 0 => {
                out.last_mut().unwrap().1.push_str(&t.decode().unwrap());
            }
            Event::GeneralRef(r) if depth > 0 => {
                let c = r.resolve_char_ref().unwrap().map(String::from);
                let c = c.unwrap_or_else(|| match r.decode().unwrap().as_ref() {
                    "lt" => "<".into(),
                    "gt" => ">".into(),
                    "amp" => "&".into(),
                    "quot" => "\"".into(),
                    _ => "'".into(),
                });
                out.last_mut().unwrap().1.push_str(&c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// A length of an OpenDocument attribute ("8.2681in", "21.001cm") in
/// millimetres.
pub(crate) fn odt_mm(length: &str) -> f64 {
    let (number, factor) = if let Some(n) = length.strip_suffix("in") {
        (n, 25.4)
    } else if let Some(n) = length.strip_suffix("cm") {
        (n, 10.0)
    } else if let Some(n) = length.strip_suffix("mm") {
        (n, 1.0)
    } else {
        panic!("unknown unit in {length}")
    };
    number.parse::<f64>().unwrap() * factor
}
