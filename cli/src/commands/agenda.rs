//! `tocky agenda`: a sitting's agenda, set from a TOML file (the format is
//! in docs/agenda.md) and shown.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use serde::Deserialize;
use tocky_store::{AgendaEntry, AgendaItem, StartChange, Store, StoredSegment};

use crate::commands::store::whoami;

/// The largest agenda file read: an agenda is a few dozen lines.
const MAX_AGENDA_FILE_BYTES: u64 = 1 << 20;

#[derive(Debug, Subcommand)]
pub(crate) enum AgendaCommand {
    /// Set a session's agenda from a TOML file. Items already there keep
    /// their ids and starts (matched by title, else by place); setting the
    /// same file again changes nothing. One bad entry and nothing changes.
    Set {
        /// The session's id.
        session: i64,
        /// A `.toml` file of `[[item]]` tables (keys in docs/agenda.md).
        file: std::path::PathBuf,
    },
    /// Show a session's agenda, in order, with where each item starts.
    Show {
        /// The session's id.
        session: i64,
        /// Print JSON instead of one line per item.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(cmd: AgendaCommand, db: &Path) -> Result<ExitCode> {
    match cmd {
        AgendaCommand::Set { session, file } => set(session, &file, db),
        AgendaCommand::Show { session, json } => show(session, json, db),
    }
}

fn set(session: i64, file: &Path, db: &Path) -> Result<ExitCode> {
    let nothing = || format!("{}: nothing was changed", file.display());
    let text = read(file).with_context(nothing)?;
    let mut store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let segments = store
        .segments(session)
        .with_context(|| format!("reading session {session}"))?;
    let entries = parse(&text, &segments).with_context(nothing)?;
    let change = match store.set_agenda(session, &entries, &whoami()) {
        Ok(change) => change,
        // Said as the store words it, without its "invalid input" prefix.
        Err(tocky_store::Error::Invalid(reason)) => bail!("{}: {reason}", nothing()),
        Err(e) => return Err(e).with_context(nothing),
    };
    if change.operation_id.is_none() {
        outln!(
            "{}: session {session}'s agenda is as the file says already ({} items)",
            file.display(),
            change.items.len()
        )?;
    } else {
        outln!(
            "{}: {} added, {} changed, {} removed ({} items)",
            file.display(),
            change.added,
            change.changed,
            change.removed,
            change.items.len()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn show(session: i64, json: bool, db: &Path) -> Result<ExitCode> {
    let store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let items = store
        .agenda(session)
        .with_context(|| format!("reading session {session}'s agenda"))?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&items)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if items.is_empty() {
        eprintln!(
            "session {session} has no agenda; set one with `tocky agenda set {session} FILE`"
        );
    }
    for item in &items {
        let start = match item.start_segment_id {
            Some(id) => match store.segment(id) {
                Ok(s) => format!("starts {} (segment {id})", clock(s.start_ms)),
                Err(_) => format!("starts at segment {id}"),
            },
            None => "not started".to_owned(),
        };
        outln!("{}", describe(item, &start))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One line: place, title, reference, start.
fn describe(item: &AgendaItem, start: &str) -> String {
    let mut line = format!("{}.\t{}", item.position + 1, item.title);
    if let Some(reference) = &item.reference {
        line.push_str(&format!(" [{reference}]"));
    }
    line.push_str(&format!("\t{start}"));
    line
}

fn read(path: &Path) -> Result<String> {
    let size = std::fs::metadata(path).context("reading it")?.len();
    if size > MAX_AGENDA_FILE_BYTES {
        bail!("{size} bytes is over the {MAX_AGENDA_FILE_BYTES}-byte limit");
    }
    let bytes = std::fs::read(path).context("reading it")?;
    let text = String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()))?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned())
}

/// The file: `[[item]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    item: Vec<TomlItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlItem {
    title: toml::Spanned<String>,
    reference: Option<String>,
    start: Option<toml::Spanned<TomlStart>>,
}

/// A start as TOML may write it: quoted (`"00:12:30"`, `"none"`) or a bare
/// time (`00:12:30`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TomlStart {
    Text(String),
    Time(toml::value::Datetime),
}

/// The entries of an agenda file, each start resolved to the first of
/// `segments` that starts at or after it; a refusal names the line.
fn parse(text: &str, segments: &[StoredSegment]) -> Result<Vec<AgendaEntry>> {
    let file: TomlFile = toml::from_str(text)?;
    if file.item.is_empty() {
        bail!("the file has no [[item]]");
    }
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let mut entries = Vec::with_capacity(file.item.len());
    // The last start so far: (its line, its time, its segment's place).
    let mut last: Option<(usize, i64, usize)> = None;
    for item in file.item {
        let line = line_of(item.title.span().start);
        if item.title.get_ref().trim().is_empty() {
            bail!("line {line}: an item needs a title");
        }
        let start = match &item.start {
            None => StartChange::Keep,
            Some(start) => {
                let line = line_of(start.span().start);
                match start.get_ref() {
                    TomlStart::Text(t) if t.trim().eq_ignore_ascii_case("none") => {
                        StartChange::Clear
                    }
                    start => {
                        let ms = match start {
                            TomlStart::Text(t) => parse_clock(t),
                            TomlStart::Time(t) => t.time.map(|t| {
                                (i64::from(t.hour) * 3600
                                    + i64::from(t.minute) * 60
                                    + i64::from(t.second))
                                    * 1000
                                    + i64::from(t.nanosecond / 1_000_000)
                            }),
                        }
                        .with_context(|| {
                            format!(
                                "line {line}: start is a time such as \"00:12:30\", or \"none\""
                            )
                        })?;
                        let place = segments
                            .iter()
                            .position(|s| s.start_ms >= ms)
                            .with_context(|| {
                                format!("line {line}: no segment starts at or after {}", clock(ms))
                            })?;
                        if let Some((before, at, other)) = last {
                            if place == other {
                                bail!(
                                    "line {line}: {} falls on the same segment as the start on \
                                     line {before}; an item starts at its own segment",
                                    clock(ms)
                                );
                            }
                            if place < other {
                                bail!(
                                    "line {line}: {} is before the start on line {before} ({}); \
                                     keep items in time order",
                                    clock(ms),
                                    clock(at)
                                );
                            }
                        }
                        last = Some((line, ms, place));
                        StartChange::At(segments[place].id)
                    }
                }
            }
        };
        entries.push(AgendaEntry {
            id: None,
            version: None,
            title: item.title.into_inner(),
            reference: item.reference,
            start,
        });
    }
    Ok(entries)
}

/// `H:MM:SS`, `MM:SS` or either with `.mmm`, in ms.
fn parse_clock(text: &str) -> Option<i64> {
    let text = text.trim();
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) if !f.is_empty() && f.len() <= 3 && f.bytes().all(|b| b.is_ascii_digit()) => {
            (w, f.parse::<i64>().ok()? * 10_i64.pow(3 - f.len() as u32))
        }
        Some(_) => return None,
        None => (text, 0),
    };
    let parts: Vec<&str> = whole.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let numbers: Vec<i64> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    let (h, m, s) = match numbers[..] {
        [m, s] => (0, m, s),
        [h, m, s] => (h, m, s),
        _ => return None,
    };
    if m >= 60 || s >= 60 {
        return None;
    }
    Some((h * 3600 + m * 60 + s) * 1000 + fraction)
}

/// ms as `H:MM:SS`.
fn clock(ms: i64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn clock_times_are_read_with_or_without_hours_and_ms() {
        assert_eq!(parse_clock("00:12:30"), Some(750_000));
        assert_eq!(parse_clock("12:30"), Some(750_000));
        assert_eq!(parse_clock("1:02:03.5"), Some(3_723_500));
        for bad in [
            "",
            "12",
            "1:60",
            "a:bc",
            "1:2:3:4",
            "00:12:30.",
            "00:12:30.1234",
        ] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
        assert_eq!(clock(3_723_500), "1:02:03");
    }
}
