//! People lists as files: the CSV and TOML that `tocky people import` and
//! `POST /api/people/import` take (docs/people.md). Each person keeps
//! where it came from ("line 7", "entry 3 (id …)"), so that a refusal
//! names the line or entry at fault.

use std::collections::HashMap;

use serde::Deserialize;
use tocky_store::{NewPerson, PersonRole, RoleSpan};

/// The CSV columns, in the order docs/people.md lists them.
pub const CSV_COLUMNS: [&str; 8] = [
    "id",
    "name",
    "delegation",
    "seat",
    "role",
    "title",
    "from",
    "to",
];

/// Why a people file was refused: the line or entry at fault and what is
/// wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

type Result<T, E = FileError> = std::result::Result<T, E>;

fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(FileError(message.into()))
}

/// Prefixes an error with where it happened ("line 7: …").
fn at<T>(origin: &str, result: Result<T>) -> Result<T> {
    result.map_err(|e| FileError(format!("{origin}: {}", e.0)))
}

/// A people file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line per person and role.
    Csv,
    /// `[[person]]` tables with `[[person.roles]]`.
    Toml,
}

impl Format {
    /// The format a file name's extension (`csv`, `toml`, any case) says.
    pub fn from_extension(extension: &str) -> Option<Self> {
        match extension.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "toml" => Some(Self::Toml),
            _ => None,
        }
    }
}

/// People read from a file, each with where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entries {
    /// The people, checked as the store would keep them.
    pub people: Vec<NewPerson>,
    /// Where each came from ("line 7", "entry 3 (id \"dbqh-1\")").
    pub origins: Vec<String>,
}

impl Entries {
    /// Where the person at `index` came from, for a refusal of the store
    /// ([`tocky_store::Error::InvalidPerson`]).
    pub fn origin(&self, index: usize) -> &str {
        self.origins.get(index).map_or("?", String::as_str)
    }
}

/// Parses a people file; a leading byte-order mark is skipped. A file that
/// names nobody is refused.
pub fn parse(text: &str, format: Format) -> Result<Entries> {
    // Spreadsheets write a byte-order mark before the first column's name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let entries = match format {
        Format::Csv => parse_csv(text)?,
        Format::Toml => parse_toml(text)?,
    };
    if entries.people.is_empty() {
        return fail("the file names no people");
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
            return fail("a title or dates need a role");
        }
        return Ok(None);
    }
    let role: PersonRole = role.parse().map_err(FileError)?;
    Ok(Some(RoleSpan {
        role,
        title: owned(title),
        valid_from: owned(from),
        valid_to: owned(to),
    }))
}

/// The person as the store would keep it; a refusal is said as the store
/// words it, without its "invalid input" prefix.
fn check(person: &NewPerson) -> Result<NewPerson> {
    tocky_store::people::check(person).map_err(|e| match e {
        tocky_store::Error::Invalid(reason) => FileError(reason),
        other => FileError(other.to_string()),
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

/// CSV: one line per person and role; a person's further roles are further
/// lines with the same id, which may leave name, delegation and seat blank.
fn parse_csv(text: &str) -> Result<Entries> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| FileError(format!("reading the header line: {e}")))?
        .clone();
    let mut column: HashMap<&str, usize> = HashMap::new();
    for (i, name) in headers.iter().enumerate() {
        let name = name.to_ascii_lowercase();
        let Some(known) = CSV_COLUMNS.iter().find(|c| **c == name) else {
            return fail(format!(
                "line 1: unknown column {name:?} (the columns are {})",
                CSV_COLUMNS.join(", ")
            ));
        };
        if column.insert(known, i).is_some() {
            return fail(format!("line 1: column {name:?} appears twice"));
        }
    }
    for required in ["id", "name"] {
        if !column.contains_key(required) {
            return fail(format!("line 1: the column {required:?} is missing"));
        }
    }
    let mut entries = Entries::default();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| FileError(format!("reading a line: {e}")))?;
        let line = format!("line {}", record.position().map_or(0, |p| p.line()));
        let field = |name: &str| column.get(name).and_then(|&i| record.get(i));
        let role = at(
            &line,
            role_span(
                field("role").unwrap_or(""),
                field("title"),
                field("from"),
                field("to"),
            ),
        )?;
        let person = NewPerson {
            key: field("id").unwrap_or("").to_owned(),
            name: field("name").unwrap_or("").to_owned(),
            delegation: field("delegation").map(str::to_owned),
            seat: field("seat").map(str::to_owned),
            roles: role.into_iter().collect(),
        };
        match by_key.get(person.key.trim()) {
            None => {
                let person = at(&line, check(&person))?;
                by_key.insert(person.key.clone(), entries.people.len());
                entries.people.push(person);
                entries.origins.push(line);
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
                let more = at(&line, check(&more))?;
                if (&more.name, &more.delegation, &more.seat)
                    != (&first.name, &first.delegation, &first.seat)
                {
                    return fail(format!(
                        "{line}: id {} has another name, delegation or seat on {}",
                        more.key, entries.origins[index]
                    ));
                }
                first.roles.extend(more.roles);
            }
        }
    }
    Ok(entries)
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
    let file: TomlFile =
        toml::from_str(text).map_err(|e| FileError(e.to_string().trim_end().to_owned()))?;
    let mut entries = Entries::default();
    for (i, person) in file.person.into_iter().enumerate() {
        let origin = format!("entry {} (id {:?})", i + 1, person.id);
        let roles = person
            .roles
            .iter()
            .map(|r| {
                let from = r.from.as_ref().map(TomlText::text);
                let to = r.to.as_ref().map(TomlText::text);
                let span = role_span(&r.role, r.title.as_deref(), from.as_deref(), to.as_deref())?;
                span.ok_or_else(|| FileError("a role needs its name".into()))
            })
            .collect::<Result<Vec<_>>>();
        let roles = at(&origin, roles)?;
        let person = at(
            &origin,
            check(&NewPerson {
                key: person.id,
                name: person.name,
                delegation: person.delegation,
                seat: person.seat.as_ref().map(TomlText::text),
                roles,
            }),
        )?;
        if let Some(first) = entries.people.iter().position(|p| p.key == person.key) {
            return fail(format!(
                "{origin}: the same id as {}",
                entries.origins[first]
            ));
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
        let entries = parse(
            "id,name,delegation,seat,role,title,from,to\n\
             dbqh-1,Trần Thanh Mẫn,Hậu Giang,,delegate,,2021-07-20,\n\
             dbqh-1,,,,chair,Chủ tịch Quốc hội,2024-05-20,\n",
            Format::Csv,
        )
        .unwrap();
        assert_eq!(entries.people.len(), 1);
        assert_eq!(entries.origins, ["line 2"]);
        let roles: Vec<_> = entries.people[0].roles.iter().map(|r| r.role).collect();
        assert_eq!(roles, [PersonRole::Delegate, PersonRole::Chair]);
    }

    #[test]
    fn csv_headers_take_any_case_and_order_and_fields_may_be_quoted() {
        let entries = parse(
            "\u{feff}Name,SEAT,Id\n\"Nguyễn Văn A, con\",\"12\",dbqh-7\n",
            Format::Csv,
        )
        .unwrap();
        let person = &entries.people[0];
        assert_eq!(person.key, "dbqh-7");
        assert_eq!(person.name, "Nguyễn Văn A, con");
        assert_eq!(person.seat.as_deref(), Some("12"));
        assert!(person.roles.is_empty());
    }

    #[test]
    fn a_title_or_dates_without_a_role_are_refused() {
        let error = parse("id,name,role,from\nx-1,A,,2021-01-01\n", Format::Csv).unwrap_err();
        assert_eq!(error.0, "line 2: a title or dates need a role");
        let error = parse("id,name\n", Format::Csv).unwrap_err();
        assert_eq!(error.0, "the file names no people");
    }

    #[test]
    fn toml_takes_bare_dates_and_numbers() {
        let entries = parse(
            "[[person]]\nid = \"dbqh-1\"\nname = \"A\"\nseat = 12\n\
             [[person.roles]]\nrole = \"delegate\"\nfrom = 2021-07-20\n",
            Format::Toml,
        )
        .unwrap();
        let person = &entries.people[0];
        assert_eq!(person.seat.as_deref(), Some("12"));
        assert_eq!(person.roles[0].valid_from.as_deref(), Some("2021-07-20"));
        assert_eq!(Format::from_extension("TOML"), Some(Format::Toml));
        assert_eq!(Format::from_extension("txt"), None);
    }
}
