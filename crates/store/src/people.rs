//! The registry of people who speak in the Assembly, kept across sittings:
//! delegates, the chair and vice-chairs, the Secretary-General, ministers
//! and invited speakers.
//!
//! A person is known by the Assembly's own stable id (its *key*, such as
//! `dbqh-0123`), which is what an import matches on, and by a row id that
//! a session's speakers point at. Offices change over time, so roles carry
//! the dates between which they held. Every write is one transaction with
//! its audit entries; a list of people is written whole or not at all.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use tocky_core::transcript::check_date;

use crate::clean::{check_label, check_seat};
use crate::edits::MAX_SPEAKER_NAME_BYTES;
use crate::model::Speaker;
use crate::{Error, Result, Store, audit};

/// The longest stable id, in bytes.
pub const MAX_PERSON_KEY_BYTES: usize = 64;
/// The longest delegation (province or city), in bytes.
pub const MAX_DELEGATION_BYTES: usize = 128;
/// The longest role title (such as "Bộ trưởng Bộ Tài chính"), in bytes.
pub const MAX_ROLE_TITLE_BYTES: usize = 256;

/// What a person is in the Assembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    /// A delegate (đại biểu Quốc hội).
    Delegate,
    /// The Chair of the National Assembly (Chủ tịch Quốc hội).
    Chair,
    /// A Vice-Chair (Phó Chủ tịch Quốc hội).
    ViceChair,
    /// The Secretary-General (Tổng Thư ký Quốc hội).
    SecretaryGeneral,
    /// A minister or other member of the government.
    Minister,
    /// Anyone else invited to speak.
    Invited,
}

impl PersonRole {
    /// Every role, in the order documented.
    pub const ALL: [Self; 6] = [
        Self::Delegate,
        Self::Chair,
        Self::ViceChair,
        Self::SecretaryGeneral,
        Self::Minister,
        Self::Invited,
    ];

    /// The stored (and imported) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delegate => "delegate",
            Self::Chair => "chair",
            Self::ViceChair => "vice_chair",
            Self::SecretaryGeneral => "secretary_general",
            Self::Minister => "minister",
            Self::Invited => "invited",
        }
    }
}

impl std::str::FromStr for PersonRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role {s:?} (expected {})", names.join(", "))
            })
    }
}

/// A role and the days it holds, both ends included; an open end is
/// unbounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSpan {
    /// The role.
    pub role: PersonRole,
    /// The office as the record prints it, if more precise than the role.
    pub title: Option<String>,
    /// The first day, YYYY-MM-DD.
    pub valid_from: Option<String>,
    /// The last day, YYYY-MM-DD.
    pub valid_to: Option<String>,
}

impl RoleSpan {
    /// Whether the role holds on `date` (YYYY-MM-DD).
    pub fn holds_on(&self, date: &str) -> bool {
        // ISO dates compare correctly as text.
        self.valid_from.as_deref().is_none_or(|from| from <= date)
            && self.valid_to.as_deref().is_none_or(|to| date <= to)
    }
}

/// A person as written to the registry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPerson {
    /// The Assembly's stable id: 1 to [`MAX_PERSON_KEY_BYTES`] ASCII
    /// letters, digits, '-', '_' or '.'.
    pub key: String,
    /// The full name.
    pub name: String,
    /// The delegation (province or city) a delegate was elected in.
    pub delegation: Option<String>,
    /// The seat in the hall.
    pub seat: Option<String>,
    /// Every role, with its dates.
    pub roles: Vec<RoleSpan>,
}

/// A person in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The row id, which speakers point at.
    pub id: i64,
    /// The Assembly's stable id.
    pub key: String,
    /// The full name, NFC.
    pub name: String,
    /// The delegation, if any.
    pub delegation: Option<String>,
    /// The seat in the hall, if known.
    pub seat: Option<String>,
    /// Every role, in the order imported.
    pub roles: Vec<RoleSpan>,
    /// When it was added.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

impl Person {
    /// The roles that hold on `date` (YYYY-MM-DD).
    pub fn roles_on<'a>(&'a self, date: &'a str) -> impl Iterator<Item = &'a RoleSpan> + 'a {
        self.roles.iter().filter(move |r| r.holds_on(date))
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// People new to the registry.
    pub added: usize,
    /// People whose name, delegation, seat or roles changed.
    pub updated: usize,
    /// People already there as given.
    pub unchanged: usize,
}

/// The reason an error gives, without the "invalid input" prefix.
fn reason(e: Error) -> String {
    match e {
        Error::Invalid(reason) => reason,
        other => other.to_string(),
    }
}

/// A stable id as stored, or why it is refused.
fn check_key(key: &str) -> Result<String, String> {
    let key = key.trim();
    let ok = !key.is_empty()
        && key.len() <= MAX_PERSON_KEY_BYTES
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(key.to_owned())
    } else {
        Err(format!(
            "an id has 1 to {MAX_PERSON_KEY_BYTES} ASCII letters, digits, '-', '_' or '.'"
        ))
    }
}

/// An optional free-text field: `None` when absent or blank.
fn optional(value: Option<&str>, check: impl Fn(&str) -> Result<String>) -> Result<Option<String>> {
    Ok(value.map(check).transpose()?.filter(|v| !v.is_empty()))
}

fn check_date_field(what: &str, date: Option<&str>) -> Result<Option<String>, String> {
    match date.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(date) => check_date(date)
            .map(|()| Some(date.to_owned()))
            .map_err(|e| format!("{what}: {e}")),
    }
}

fn check_role(role: &RoleSpan) -> Result<RoleSpan, String> {
    let title = optional(role.title.as_deref(), |t| {
        check_label("a role title", t, MAX_ROLE_TITLE_BYTES)
    })
    .map_err(reason)?;
    let valid_from = check_date_field("valid from", role.valid_from.as_deref())?;
    let valid_to = check_date_field("valid to", role.valid_to.as_deref())?;
    if let (Some(from), Some(to)) = (&valid_from, &valid_to)
        && from > to
    {
        return Err(format!(
            "role {} ends ({to}) before it starts ({from})",
            role.role.as_str()
        ));
    }
    Ok(RoleSpan {
        role: role.role,
        title,
        valid_from,
        valid_to,
    })
}

/// A person as stored (NFC, trimmed, bounded), or why it is refused.
fn check_person(person: &NewPerson) -> Result<NewPerson, String> {
    let key = check_key(&person.key)?;
    let name = check_label("a name", &person.name, MAX_SPEAKER_NAME_BYTES).map_err(reason)?;
    if name.is_empty() {
        return Err("a name is required".into());
    }
    let delegation = optional(person.delegation.as_deref(), |d| {
        check_label("a delegation", d, MAX_DELEGATION_BYTES)
    })
    .map_err(reason)?;
    let seat = optional(person.seat.as_deref(), check_seat).map_err(reason)?;
    let roles = person
        .roles
        .iter()
        .map(check_role)
        .collect::<Result<_, _>>()?;
    Ok(NewPerson {
        key,
        name,
        delegation,
        seat,
        roles,
    })
}

/// `person` as the registry would store it (NFC, trimmed, blank fields as
/// none), or [`Error::Invalid`] saying why it would be refused: lets an
/// importer name the line at fault before it merges lines into people.
pub fn check(person: &NewPerson) -> Result<NewPerson> {
    check_person(person).map_err(Error::Invalid)
}

const PERSON_COLUMNS: &str =
    "SELECT id, key, name, delegation, seat, created_at, updated_at FROM persons";

fn person_from_row(r: &Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person {
        id: r.get(0)?,
        key: r.get(1)?,
        name: r.get(2)?,
        delegation: r.get(3)?,
        seat: r.get(4)?,
        roles: Vec::new(),
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

fn role_from_row(r: &Row<'_>) -> rusqlite::Result<RoleSpan> {
    let role: String = r.get(0)?;
    Ok(RoleSpan {
        // The CHECK constraint keeps roles valid; an unknown one reads as
        // the least particular.
        role: role.parse().unwrap_or(PersonRole::Invited),
        title: r.get(1)?,
        valid_from: r.get(2)?,
        valid_to: r.get(3)?,
    })
}

/// A person's roles, in the order they were written.
fn roles_of(conn: &Connection, person_id: i64) -> Result<Vec<RoleSpan>> {
    let mut stmt = conn.prepare_cached(
        "SELECT role, title, valid_from, valid_to FROM person_roles
         WHERE person_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([person_id], role_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One person with their roles, found by `column` (`id` or `key`).
fn find_person(
    conn: &Connection,
    column: &str,
    value: &dyn rusqlite::ToSql,
) -> Result<Option<Person>> {
    let person = conn
        .query_row(
            &format!("{PERSON_COLUMNS} WHERE {column} = ?1"),
            [value],
            person_from_row,
        )
        .optional()?;
    match person {
        Some(mut person) => {
            person.roles = roles_of(conn, person.id)?;
            Ok(Some(person))
        }
        None => Ok(None),
    }
}

fn insert_roles(conn: &Connection, person_id: i64, roles: &[RoleSpan]) -> Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO person_roles (person_id, role, title, valid_from, valid_to)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for role in roles {
        insert.execute(params![
            person_id,
            role.role.as_str(),
            role.title,
            role.valid_from,
            role.valid_to
        ])?;
    }
    Ok(())
}

/// What [`write_person`] did.
enum Written {
    Added,
    Updated,
    Unchanged,
}

/// Writes a checked person over `existing` (or as a new person), with its
/// audit entry; returns the row id. An update may change the key.
fn write_person(
    conn: &Connection,
    existing: Option<&Person>,
    person: &NewPerson,
    actor: &str,
) -> Result<(i64, Written)> {
    let subject = format!("person {}", person.key);
    let Some(existing) = existing else {
        conn.execute(
            "INSERT INTO persons (key, name, delegation, seat) VALUES (?1, ?2, ?3, ?4)",
            params![person.key, person.name, person.delegation, person.seat],
        )?;
        let id = conn.last_insert_rowid();
        insert_roles(conn, id, &person.roles)?;
        audit(conn, actor, "person_add", &subject, &person.name)?;
        return Ok((id, Written::Added));
    };
    if existing.key == person.key
        && existing.name == person.name
        && existing.delegation == person.delegation
        && existing.seat == person.seat
        && existing.roles == person.roles
    {
        return Ok((existing.id, Written::Unchanged));
    }
    conn.execute(
        "UPDATE persons SET key = ?1, name = ?2, delegation = ?3, seat = ?4,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE id = ?5",
        params![
            person.key,
            person.name,
            person.delegation,
            person.seat,
            existing.id
        ],
    )?;
    conn.execute(
        "DELETE FROM person_roles WHERE person_id = ?1",
        [existing.id],
    )?;
    insert_roles(conn, existing.id, &person.roles)?;
    audit(conn, actor, "person_update", &subject, &person.name)?;
    Ok((existing.id, Written::Updated))
}

impl Store {
    /// Adds one person ([`Error::Invalid`] if refused, or if their stable
    /// id is taken), with its audit entry (`person_add`).
    pub fn add_person(&mut self, person: &NewPerson, actor: &str) -> Result<Person> {
        let person = check(person)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if find_person(&tx, "key", &person.key)?.is_some() {
            return Err(Error::Invalid(format!(
                "a person with id {:?} is in the registry already",
                person.key
            )));
        }
        let (id, _) = write_person(&tx, None, &person, actor)?;
        let added =
            find_person(&tx, "id", &id)?.ok_or_else(|| Error::UnknownPerson(id.to_string()))?;
        tx.commit()?;
        Ok(added)
    }

    /// Replaces the stable id, name, delegation, seat and roles of the
    /// person with row id `id` ([`Error::UnknownPerson`] if none;
    /// [`Error::Invalid`] if refused or if the new id is another's), with
    /// its audit entry (`person_update`) when anything changed.
    pub fn update_person(&mut self, id: i64, person: &NewPerson, actor: &str) -> Result<Person> {
        let person = check(person)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing =
            find_person(&tx, "id", &id)?.ok_or_else(|| Error::UnknownPerson(id.to_string()))?;
        if let Some(other) = find_person(&tx, "key", &person.key)?
            && other.id != id
        {
            return Err(Error::Invalid(format!(
                "the id {:?} is another person's ({})",
                person.key, other.name
            )));
        }
        write_person(&tx, Some(&existing), &person, actor)?;
        let updated =
            find_person(&tx, "id", &id)?.ok_or_else(|| Error::UnknownPerson(id.to_string()))?;
        tx.commit()?;
        Ok(updated)
    }
}

impl Store {
    /// Adds or updates people by their stable id, all in one transaction:
    /// if any entry is refused ([`Error::InvalidPerson`], naming it), nothing
    /// is written. An entry replaces the name, delegation, seat and roles of
    /// the person with its id; people not in `people` are left as they are.
    pub fn import_people(&mut self, people: &[NewPerson], actor: &str) -> Result<ImportSummary> {
        let mut checked = Vec::with_capacity(people.len());
        let mut first_with_key: HashMap<String, usize> = HashMap::new();
        for (index, person) in people.iter().enumerate() {
            let invalid = |reason: String| Error::InvalidPerson {
                index,
                key: person.key.clone(),
                reason,
            };
            let person = check_person(person).map_err(invalid)?;
            if let Some(first) = first_with_key.insert(person.key.clone(), index) {
                return Err(invalid(format!("the same id as person {first}")));
            }
            checked.push(person);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut summary = ImportSummary::default();
        for person in &checked {
            let existing = find_person(&tx, "key", &person.key)?;
            match write_person(&tx, existing.as_ref(), person, actor)?.1 {
                Written::Added => summary.added += 1,
                Written::Updated => summary.updated += 1,
                Written::Unchanged => summary.unchanged += 1,
            }
        }
        let ImportSummary {
            added,
            updated,
            unchanged,
        } = summary;
        audit(
            &tx,
            actor,
            "people_import",
            "people",
            &format!("{added} added, {updated} updated, {unchanged} unchanged"),
        )?;
        tx.commit()?;
        Ok(summary)
    }

    /// Every person in the registry, by stable id, with their roles.
    pub fn people(&self) -> Result<Vec<Person>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{PERSON_COLUMNS} ORDER BY key"))?;
        let mut people: Vec<Person> = stmt
            .query_map([], person_from_row)?
            .collect::<Result<_, _>>()?;
        for person in &mut people {
            person.roles = roles_of(&self.conn, person.id)?;
        }
        Ok(people)
    }

    /// The person with this stable id.
    pub fn person(&self, key: &str) -> Result<Person> {
        find_person(&self.conn, "key", &key.trim())?.ok_or_else(|| Error::UnknownPerson(key.into()))
    }

    /// The person with this row id.
    pub fn person_by_id(&self, id: i64) -> Result<Person> {
        find_person(&self.conn, "id", &id)?.ok_or_else(|| Error::UnknownPerson(id.to_string()))
    }

    /// Says which person a session's speaker is (`None`: unknown), on
    /// behalf of `actor`, with its audit entry (`speaker_link`).
    pub fn link_speaker(
        &mut self,
        speaker_id: i64,
        person_id: Option<i64>,
        actor: &str,
    ) -> Result<Speaker> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let person = match person_id {
            Some(id) => Some(
                find_person(&tx, "id", &id)?.ok_or_else(|| Error::UnknownPerson(id.to_string()))?,
            ),
            None => None,
        };
        let changed = tx.execute(
            "UPDATE speakers SET person_id = ?1 WHERE id = ?2",
            params![person_id, speaker_id],
        )?;
        if changed == 0 {
            return Err(Error::UnknownSpeaker(speaker_id));
        }
        let detail = person.map_or_else(|| "none".to_owned(), |p| format!("person {}", p.key));
        audit(
            &tx,
            actor,
            "speaker_link",
            &format!("speaker {speaker_id}"),
            &detail,
        )?;
        let speaker = tx.query_row(
            "SELECT id, name, seat, channel, person_id FROM speakers WHERE id = ?1",
            [speaker_id],
            |r| {
                Ok(Speaker {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    seat: r.get(2)?,
                    channel: r.get(3)?,
                    person_id: r.get(4)?,
                })
            },
        )?;
        tx.commit()?;
        Ok(speaker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_and_write_by_their_names() {
        for role in PersonRole::ALL {
            assert_eq!(role.as_str().parse::<PersonRole>(), Ok(role));
        }
        assert!("speaker".parse::<PersonRole>().is_err());
    }

    #[test]
    fn a_span_holds_between_its_days_both_included() {
        let span = RoleSpan {
            role: PersonRole::Minister,
            title: None,
            valid_from: Some("2021-04-08".into()),
            valid_to: Some("2024-06-08".into()),
        };
        assert!(!span.holds_on("2021-04-07"));
        assert!(span.holds_on("2021-04-08"));
        assert!(span.holds_on("2024-06-08"));
        assert!(!span.holds_on("2024-06-09"));
        let open = RoleSpan {
            valid_to: None,
            ..span
        };
        assert!(open.holds_on("2099-01-01"));
    }

    #[test]
    fn keys_are_short_plain_ascii() {
        assert_eq!(check_key(" dbqh-0123 "), Ok("dbqh-0123".into()));
        assert!(check_key("").is_err());
        assert!(check_key("dbqh 0123").is_err());
        assert!(check_key("đbqh").is_err());
        assert!(check_key(&"k".repeat(MAX_PERSON_KEY_BYTES + 1)).is_err());
    }
}
