//! The record as a standalone HTML5 page (no JavaScript): the title and
//! sitting, the version shown (number, provisional or final, who
//! published it and when, its SHA-256), agenda items as headings, each
//! speech under its speaker's heading with a permalink and a link to the
//! audio at its start, scene notes, and the corrections this version made
//! to the one before, linked both ways. `tocky serve` serves the same page
//! to the public (`/records/…`, see `crate::public`); the export (API and
//! CLI) writes it as a file.
//!
//! Every text goes through [`escape`]: typed text cannot open a tag or an
//! attribute. The only style is [`STYLE`], inline so that the file stands
//! alone, allowed by its hash in the public pages' CSP.
//!
//! Links are root-relative, the paths `tocky serve` answers: a version's
//! page `/records/{id}/v/{n}`, the audio `/api/sessions/{id}/audio#t=S`
//! (a media fragment: the browser starts playing at S seconds). A speech's
//! anchor is `s` and its first segment's id, which stays the same from one
//! version to the next; a note's is `n` and its id, an item's `i` and its
//! id, a correction's `c` and its id.

use std::collections::HashMap;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use tocky_core::transcript::format_clock;
use tocky_store::{Correction, Store, VersionState};

use super::model::{ExportEntry, SessionExport};
use super::text::{item_heading, note_text};

/// The page's media type.
pub const MEDIA_TYPE: &str = "text/html; charset=utf-8";

/// The page's stylesheet: readable on screen, and on paper a serif text
/// with no link decoration or navigation and each agenda item on a new
/// page.
pub const STYLE: &str = "
body{font-family:Georgia,'Times New Roman',serif;line-height:1.55;max-width:46rem;margin:0 auto;padding:1rem 1.25rem;color:#1b1b1b;background:#fff}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ccc}
h3.speaker{font-size:1rem;margin:1.2rem 0 .2rem}
.version{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;font-size:.9rem}
.version dt{font-weight:bold}.version dd{margin:0}code{font-size:.8rem;word-break:break-all}
.notice,.draft{padding:.4rem .6rem;border-left:4px solid #b35c00;background:#fff4e5}
.links{font-size:.8rem;margin-top:0}.links a{margin-right:.8rem}
.note{font-style:italic;text-align:center}
ins{background:#e6ffed}del{background:#ffeef0}
form.search{margin:1rem 0}form.search input{width:70%;font:inherit;padding:.3rem}
@media print{
nav,.links,form{display:none}
a{color:inherit;text-decoration:none}
body{max-width:none;font-family:'Times New Roman',Times,serif;font-size:12pt;color:#000}
section.item{break-before:page;page-break-before:always}
h2,h3{break-after:avoid;page-break-after:avoid}
.notice,.draft{border:1px solid #000;background:none}
}
";

/// The `style-src` source of [`STYLE`] for a Content-Security-Policy:
/// `'sha256-…'`.
pub fn style_source() -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(STYLE.as_bytes())))
}

/// Standard base64 with padding (for the CSP hash).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// What the page says beyond the export: the version's state and
/// neighbours (which may change after publication: a provisional version
/// is made final, a later one corrects it) and its corrections.
#[derive(Debug, Clone, Default)]
pub struct HtmlOptions {
    /// The version's corrections against the one before.
    pub corrections: Vec<Correction>,
    /// Provisional or final; not said when `None`.
    pub state: Option<VersionState>,
    /// The version that corrects this one, if any.
    pub next: Option<i64>,
}

/// The options of version `number` of session `id`'s page: its state, the
/// version that corrects it, and its corrections.
pub fn options(store: &Store, id: i64, number: i64) -> tocky_store::Result<HtmlOptions> {
    let info = store
        .versions(id)?
        .into_iter()
        .find(|v| v.number == number)
        .ok_or(tocky_store::Error::UnknownVersion {
            session: id,
            number,
        })?;
    Ok(HtmlOptions {
        corrections: store.corrections(id, number)?,
        state: Some(info.state),
        next: info.next,
    })
}

/// `text` safe in HTML text and in a quoted attribute: `& < > " '`
/// become references, and control characters (but line breaks and tabs),
/// which HTML does not allow, become spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The path of version `number` of session `id`'s public page.
pub fn version_path(id: i64, number: i64) -> String {
    format!("/records/{id}/v/{number}")
}

/// The audio of session `id` from `ms`, as a media-fragment link.
pub fn audio_link(id: i64, ms: i64) -> String {
    let ms = ms.max(0);
    format!("/api/sessions/{id}/audio#t={}.{:03}", ms / 1000, ms % 1000)
}

/// `YYYY-MM-DD` as Vietnamese write it, `DD/MM/YYYY` (as given when not a
/// date).
fn vietnamese_date(date: &str) -> String {
    match date.split('-').collect::<Vec<_>>().as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => format!("{d}/{m}/{y}"),
        _ => date.to_owned(),
    }
}

fn clock(ms: i64) -> String {
    format_clock(u64::try_from(ms).unwrap_or(0))
}

/// How a correction's change reads.
fn change_label(change: &str) -> &'static str {
    match change {
        "text" => "sửa lời",
        "speaker" => "sửa người nói",
        "added" => "thêm",
        "removed" => "bỏ",
        _ => "thay đổi",
    }
}

/// The page of `export` (a published version when it has one, else the
/// working record, marked as a draft).
pub fn html(export: &SessionExport, options: &HtmlOptions) -> String {
    let id = export.session.id;
    let title = escape(&export.session.title);
    let page = export.version.as_ref().map(|v| version_path(id, v.number));
    // The speech each segment is in: where a correction of it points.
    let mut speech_of: HashMap<i64, i64> = HashMap::new();
    for part in &export.record {
        for entry in &part.entries {
            if let ExportEntry::Speech(s) = entry
                && let Some(first) = s.speech.segment_ids.first()
            {
                for seg in &s.speech.segment_ids {
                    speech_of.insert(*seg, *first);
                }
            }
        }
    }
    // A speech's corrections, by its anchor.
    let mut corrected: HashMap<i64, Vec<i64>> = HashMap::new();
    for c in &options.corrections {
        if c.target == "segment"
            && let Some(first) = speech_of.get(&c.target_id)
        {
            corrected.entry(*first).or_default().push(c.id);
        }
    }

    let mut o = String::with_capacity(4096 + export.segments.len() * 256);
    let date = export.session.sitting_date.as_deref();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <nav><a href=\"/records\">Biên bản đã công bố</a></nav>\n<header>\n<h1>{title}</h1>\n",
        date.map(|d| format!(" — {}", escape(&vietnamese_date(d))))
            .unwrap_or_default(),
    );
    if let Some(date) = date {
        let _ = writeln!(
            o,
            "<p class=\"date\">Ngày họp: <time datetime=\"{}\">{}</time></p>",
            escape(date),
            escape(&vietnamese_date(date))
        );
    }
    if let Some(agenda) = export.session.agenda_item.as_deref() {
        let _ = writeln!(o, "<p class=\"subject\">Nội dung: {}</p>", escape(agenda));
    }
    match &export.version {
        Some(v) => {
            let state = match options.state {
                Some(VersionState::Provisional) => " (tạm thời)",
                Some(VersionState::Final) => " (chính thức)",
                None => "",
            };
            let _ = writeln!(
                o,
                "<dl class=\"version\">\n<dt>Phiên bản</dt><dd id=\"version\">{}{state}</dd>\n\
                 <dt>Công bố</dt><dd>{}, <time datetime=\"{at}\">{at}</time></dd>\n\
                 <dt>SHA-256</dt><dd><code>{}</code></dd>\n</dl>",
                v.number,
                escape(&v.published_by),
                escape(&v.sha256),
                at = escape(&v.published_at),
            );
            if let Some(next) = options.next {
                let _ = writeln!(
                    o,
                    "<p class=\"notice\">Phiên bản này đã được đính chính: xem \
                     <a href=\"{}\">phiên bản {next}</a>.</p>",
                    version_path(id, next)
                );
            }
        }
        None => o.push_str(
            "<p class=\"draft\">Bản làm việc: chưa được công bố, có thể còn thay đổi.</p>\n",
        ),
    }
    o.push_str("</header>\n<main>\n");

    for part in &export.record {
        match &part.item {
            Some(item) => {
                let _ = writeln!(
                    o,
                    "<section class=\"item\" id=\"i{}\">\n<h2>{}</h2>",
                    item.id,
                    escape(&item_heading(item))
                );
            }
            None => o.push_str("<section class=\"opening\">\n"),
        }
        for entry in &part.entries {
            match entry {
                ExportEntry::Note(note) => {
                    let _ = writeln!(
                        o,
                        "<p class=\"note\" id=\"n{}\">({})</p>",
                        note.id,
                        escape(&note_text(note))
                    );
                }
                ExportEntry::Speech(s) => {
                    let anchor = s.speech.segment_ids.first().copied().unwrap_or(0);
                    let heading = s.heading.as_deref().unwrap_or("Người phát biểu chưa rõ");
                    let _ = write!(
                        o,
                        "<article class=\"speech\" id=\"s{anchor}\">\n\
                         <h3 class=\"speaker\">{}</h3>\n<p class=\"text\">{}</p>\n\
                         <p class=\"links\"><a class=\"permalink\" href=\"{}#s{anchor}\">\
                         Liên kết</a><a class=\"audio\" href=\"{}\">Nghe từ {}</a>",
                        escape(heading),
                        escape(&s.text),
                        page.as_deref().unwrap_or(""),
                        audio_link(id, s.speech.start_ms),
                        clock(s.speech.start_ms),
                    );
                    for c in corrected.get(&anchor).into_iter().flatten() {
                        let _ =
                            write!(o, "<a class=\"corrected\" href=\"#c{c}\">Đã đính chính</a>");
                    }
                    o.push_str("</p>\n</article>\n");
                }
            }
        }
        o.push_str("</section>\n");
    }
    o.push_str("</main>\n");
    if let Some(v) = &export.version {
        corrections(&mut o, id, v.number, &options.corrections, &speech_of);
    }
    o.push_str("</body>\n</html>\n");
    o
}

/// The corrections section: each one where it is (a link to its speech,
/// note or item on this page), what changed, and why; and the version it
/// corrects, linked.
fn corrections(
    o: &mut String,
    id: i64,
    number: i64,
    list: &[Correction],
    speech_of: &HashMap<i64, i64>,
) {
    let Some(previous) = list.first().map(|c| c.previous_version) else {
        if number > 1 {
            let _ = writeln!(
                o,
                "<section id=\"corrections\">\n<h2>Đính chính</h2>\n<p>Không có đính chính so \
                 với <a class=\"previous\" href=\"{}\">phiên bản {}</a>.</p>\n</section>",
                version_path(id, number - 1),
                number - 1
            );
        }
        return;
    };
    let _ = writeln!(
        o,
        "<section id=\"corrections\">\n<h2>Đính chính</h2>\n<p>Phiên bản này sửa \
         <a class=\"previous\" href=\"{}\">phiên bản {previous}</a>:</p>\n<ol>",
        version_path(id, previous)
    );
    for c in list {
        let at = c.at_ms.map(clock).unwrap_or_else(|| "—".into());
        let anchor = match c.target.as_str() {
            "segment" => speech_of.get(&c.target_id).map(|s| format!("#s{s}")),
            "note" if c.change != "removed" => Some(format!("#n{}", c.target_id)),
            "agenda_item" if c.change != "removed" => Some(format!("#i{}", c.target_id)),
            _ => None,
        };
        // What was removed is only in the version before.
        let href = anchor.unwrap_or_else(|| version_path(id, c.previous_version));
        let _ = write!(
            o,
            "<li id=\"c{}\"><a href=\"{href}\">{at}</a>: {}",
            c.id,
            change_label(&c.change)
        );
        if let Some(before) = &c.before {
            let _ = write!(o, " <del>{}</del>", escape(before));
        }
        if let Some(after) = &c.after {
            let _ = write!(o, " → <ins>{}</ins>", escape(after));
        }
        if let Some(reason) = c.reason.as_deref().filter(|r| !r.trim().is_empty()) {
            let _ = write!(o, ". Lý do: {}", escape(reason));
        }
        o.push_str("</li>\n");
    }
    o.push_str("</ol>\n</section>\n");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn hostile_text_stays_text() {
        assert_eq!(
            escape("</p><script>alert('x')</script>\"&\0"),
            "&lt;/p&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp; "
        );
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn audio_links_are_media_fragments() {
        assert_eq!(audio_link(3, 65_250), "/api/sessions/3/audio#t=65.250");
        assert_eq!(audio_link(3, -5), "/api/sessions/3/audio#t=0.000");
        assert_eq!(vietnamese_date("2026-10-21"), "21/10/2026");
    }
}
