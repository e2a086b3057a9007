//! `tocky people`: the registry of people who speak in the Assembly,
//! imported from CSV or TOML (the formats are in docs/people.md) and listed.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use serde::Deserialize;
use tocky_store::{NewPerson, Person, PersonRole, RoleSpan, Store};

use crate::commands::store::whoami;

/// The largest file `tocky people import` reads: the Assembly has about
/// 500 delegates, so this is many times any real list.
const MAX_PEOPLE_FILE_BYTES: u64 = 16 << 20;

/// The CSV columns, in the order docs/people.md lists them.
const CSV_COLUMNS: [&str; 8] = [
    "id",
    "name",
    "delegation",
    "seat",
    "role",
    "title",
    "from",
    "to",
];

#[derive(Debug, Subcommand)]
pub(crate) enum PeopleCommand {
    /// Add or update people from a CSV or TOML file, matched by their id
    /// (a re-import updates, never duplicates). One bad line and nothing
    /// is imported.
    Import {
        /// A `.csv` or `.toml` file (columns and keys in docs/people.md).
        file: std::path::PathBuf,
    },
    /// List the people in the registry, by id.
    List {
        /// Print JSON instead of one line per person.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(cmd: PeopleCommand, db: &Path) -> Result<ExitCode> {
    match cmd {
        PeopleCommand::Import { file } => import(&file, db),
        PeopleCommand::List { json } => list(json, db),
    }
}

/// People read from a file, each with where it came from ("line 7",
/// "entry 3") for error messages.
struct Entries {
    people: Vec<NewPerson>,
    origins: Vec<String>,
}

fn import(file: &Path, db: &Path) -> Result<ExitCode> {
    let entries =
        read_people(file).with_context(|| format!("{}: nothing was imported", file.display()))?;
    let mut store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let summary = match store.import_people(&entries.people, &whoami()) {
        Ok(summary) => summary,
        Err(tocky_store::Error::InvalidPerson { index, reason, .. }) => {
            let origin = entries.origins.get(index).map_or("?", String::as_str);
            bail!(
                "{}: nothing was imported: {origin}: {reason}",
                file.display()
            );
        }
        Err(e) => {
            return Err(e).with_context(|| format!("{}: nothing was imported", file.display()));
        }
    };
    outln!(
        "{}: {} added, {} updated, {} unchanged",
        file.display(),
        summary.added,
        summary.updated,
        summary.unchanged
    )?;
    Ok(ExitCode::SUCCESS)
}

fn list(json: bool, db: &Path) -> Result<ExitCode> {
    let store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let people = store.people().context("reading the people registry")?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&people)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if people.is_empty() {
        eprintln!("no people in the record; add them with `tocky people import FILE`");
    }
    for person in &people {
        outln!("{}", describe(person))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One line: id, name, delegation, seat, and each role with its dates.
fn describe(person: &Person) -> String {
    let mut line = format!("{}\t{}", person.key, person.name);
    if let Some(delegation) = &person.delegation {
        line.push_str(&format!("\t{delegation}"));
    }
    if let Some(seat) = &person.seat {
        line.push_str(&format!("\tseat {seat}"));
    }
    for role in &person.roles {
        line.push_str(&format!("\t{}", role.role.as_str()));
        if let Some(title) = &role.title {
            line.push_str(&format!(" ({title})"));
        }
        match (&role.valid_from, &role.valid_to) {
            (None, None) => {}
            (from, to) => line.push_str(&format!(
                " {}..{}",
                from.as_deref().unwrap_or(""),
                to.as_deref().unwrap_or("")
            )),
        }
    }
    line
}

/// Reads a CSV or TOML file of people, by its extension.
fn read_people(path: &Path) -> Result<Entries> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    // Decide the format before reading, so a wrong file is named at once.
    let parse: fn(&str) -> Result<Entries> = match extension.as_deref() {
        Some("csv") => parse_csv,
        Some("toml") => parse_toml,
        _ => bail!("not a .csv or .toml file"),
    };
    let size = std::fs::metadata(path).context("reading it")?.len();
    if size > MAX_PEOPLE_FILE_BYTES {
        bail!("{size} bytes is over the {MAX_PEOPLE_FILE_BYTES}-byte limit");
    }
    let bytes = std::fs::read(path).context("reading it")?;
    let text = String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()))?;
    // Spreadsheets write a byte-order mark before the first column's name.
    let entries = parse(text.strip_prefix('\u{feff}').unwrap_or(&text))?;
    if entries.people.is_empty() {
        bail!("the file names no people");
    }
    Ok(entries)
}

/// A role from its parts, or `None` when the role column is blank.
fn role_span(
    role: &str,
    title: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Option<RoleSpan>> {
    let owned = |v: Option<&str>| v.filter(|v| !v.is_empty()).map(str::to_owned);
    if role.is_empty() {
        if [title, from, to]
            .into_iter()
            .flatten()
            .any(|v| !v.is_empty())
        {
            bail!("a title or dates need a role");
        }
        return Ok(None);
    }
    let role: PersonRole = role.parse().map_err(anyhow::Error::msg)?;
    Ok(Some(RoleSpan {
        role,
        title: owned(title),
        valid_from: owned(from),
        valid_to: owned(to),
    }))
}

/// CSV: one line per person and role; a person's further roles are further
/// lines with the same id, which may leave name, delegation and seat blank.
fn parse_csv(text: &str) -> Result<Entries> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().context("reading the header line")?.clone();
    let mut column: HashMap<&str, usize> = HashMap::new();
    for (i, name) in headers.iter().enumerate() {
        let name = name.to_ascii_lowercase();
        let Some(known) = CSV_COLUMNS.iter().find(|c| **c == name) else {
            bail!(
                "line 1: unknown column {name:?} (the columns are {})",
                CSV_COLUMNS.join(", ")
            );
        };
        if column.insert(known, i).is_some() {
            bail!("line 1: column {name:?} appears twice");
        }
    }
    for required in ["id", "name"] {
        if !column.contains_key(required) {
            bail!("line 1: the column {required:?} is missing");
        }
    }
    let mut entries = Entries {
        people: Vec::new(),
        origins: Vec::new(),
    };
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = record.context("reading a line")?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |name: &str| column.get(name).and_then(|&i| record.get(i));
        let row = || -> Result<NewPerson> {
            let role = role_span(
                field("role").unwrap_or(""),
                field("title"),
                field("from"),
                field("to"),
            )?;
            let person = NewPerson {
                key: field("id").unwrap_or("").to_owned(),
                name: field("name").unwrap_or("").to_owned(),
                delegation: field("delegation").map(str::to_owned),
                seat: field("seat").map(str::to_owned),
                roles: role.into_iter().collect(),
            };
            Ok(person)
        };
        let person = row().with_context(|| format!("line {line}"))?;
        match by_key.get(person.key.trim()) {
            None => {
                let person = check(&person).with_context(|| format!("line {line}"))?;
                by_key.insert(person.key.clone(), entries.people.len());
                entries.people.push(person);
                entries.origins.push(format!("line {line}"));
            }
            Some(&index) => {
                let first = &mut entries.people[index];
                let more = NewPerson {
                    // Blank means "as on the person's first line".
                    name: nonblank(&person.name).unwrap_or(&first.name).to_owned(),
                    delegation: nonblank_or(&person.delegation, &first.delegation),
                    seat: nonblank_or(&person.seat, &first.seat),
                    ..person
                };
                let more = check(&more).with_context(|| format!("line {line}"))?;
                if (&more.name, &more.delegation, &more.seat)
                    != (&first.name, &first.delegation, &first.seat)
                {
                    bail!(
                        "line {line}: id {} has another name, delegation or seat on {}",
                        more.key,
                        entries.origins[index]
                    );
                }
                first.roles.extend(more.roles);
            }
        }
    }
    Ok(entries)
}

/// The person as the store would keep it; a refusal is said as the store
/// words it, without its "invalid input" prefix, after the line it names.
fn check(person: &NewPerson) -> Result<NewPerson> {
    tocky_store::people::check(person).map_err(|e| match e {
        tocky_store::Error::Invalid(reason) => anyhow::Error::msg(reason),
        other => other.into(),
    })
}

fn nonblank(value: &str) -> Option<&str> {
    Some(value).filter(|v| !v.trim().is_empty())
}

fn nonblank_or(value: &Option<String>, first: &Option<String>) -> Option<String> {
    match value.as_deref().and_then(nonblank) {
        Some(v) => Some(v.to_owned()),
        None => first.clone(),
    }
}

/// A TOML file: `[[person]]` tables, each with `[[person.roles]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    person: Vec<TomlPerson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlPerson {
    id: String,
    name: String,
    delegation: Option<String>,
    seat: Option<TomlText>,
    #[serde(default)]
    roles: Vec<TomlRole>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlRole {
    role: String,
    title: Option<String>,
    from: Option<TomlText>,
    to: Option<TomlText>,
}

/// A seat or a date as TOML may write it: quoted, a bare number
/// (`seat = 12`) or a bare date (`from = 2021-07-20`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TomlText {
    Text(String),
    Number(i64),
    Date(toml::value::Datetime),
}

impl TomlText {
    fn text(&self) -> String {
        match self {
            Self::Text(s) => s.clone(),
            Self::Number(n) => n.to_string(),
            Self::Date(d) => d.to_string(),
        }
    }
}

fn parse_toml(text: &str) -> Result<Entries> {
    let file: TomlFile = toml::from_str(text)?;
    let mut entries = Entries {
        people: Vec::new(),
        origins: Vec::new(),
    };
    for (i, person) in file.person.into_iter().enumerate() {
        let origin = format!("entry {} (id {:?})", i + 1, person.id);
        let roles = person
            .roles
            .iter()
            .map(|r| {
                let from = r.from.as_ref().map(TomlText::text);
                let to = r.to.as_ref().map(TomlText::text);
                let span = role_span(&r.role, r.title.as_deref(), from.as_deref(), to.as_deref())?;
                span.context("a role needs its name")
            })
            .collect::<Result<Vec<_>>>()
            .with_context(|| origin.clone())?;
        let person = check(&NewPerson {
            key: person.id,
            name: person.name,
            delegation: person.delegation,
            seat: person.seat.as_ref().map(TomlText::text),
            roles,
        })
        .with_context(|| origin.clone())?;
        if let Some(first) = entries.people.iter().position(|p| p.key == person.key) {
            bail!("{origin}: the same id as {}", entries.origins[first]);
        }
        entries.people.push(person);
        entries.origins.push(origin);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn csv_lines_with_one_id_make_one_person_with_their_roles() {
        let entries = parse_csv(
            "id,name,delegation,seat,role,title,from,to\n\
             dbqh-1,Trần Thanh Mẫn,Hậu Giang,,delegate,,2021-07-20,\n\
             dbqh-1,,,,chair,Chủ tịch Quốc hội,2024-05-20,\n",
        )
        .unwrap();
        assert_eq!(entries.people.len(), 1);
        assert_eq!(entries.origins, ["line 2"]);
        let roles: Vec<_> = entries.people[0].roles.iter().map(|r| r.role).collect();
        assert_eq!(roles, [PersonRole::Delegate, PersonRole::Chair]);
    }

    #[test]
    fn csv_headers_take_any_case_and_order_and_fields_may_be_quoted() {
        let entries = parse_csv("Name,SEAT,Id\n\"Nguyễn Văn A, con\",\"12\",dbqh-7\n").unwrap();
        let person = &entries.people[0];
        assert_eq!(person.key, "dbqh-7");
        assert_eq!(person.name, "Nguyễn Văn A, con");
        assert_eq!(person.seat.as_deref(), Some("12"));
        assert!(person.roles.is_empty());
    }

    #[test]
    fn a_title_or_dates_without_a_role_are_refused() {
        let error = parse_csv("id,name,role,from\nx-1,A,,2021-01-01\n")
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert_eq!(error, "line 2: a title or dates need a role");
    }

    #[test]
    fn toml_takes_bare_dates_and_numbers() {
        let entries = parse_toml(
            "[[person]]\nid = \"dbqh-1\"\nname = \"A\"\nseat = 12\n\
             [[person.roles]]\nrole = \"delegate\"\nfrom = 2021-07-20\n",
        )
        .unwrap();
        let person = &entries.people[0];
        assert_eq!(person.seat.as_deref(), Some("12"));
        assert_eq!(person.roles[0].valid_from.as_deref(), Some("2021-07-20"));
    }
}
