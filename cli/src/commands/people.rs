//! `tocky people`: the registry of people who speak in the Assembly,
//! imported from CSV or TOML (the formats are in docs/people.md, the parser
//! in `tocky_server::people::file`) and listed.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use tocky_server::people::file::{Entries, Format, parse};
use tocky_store::{Person, Store};

use crate::commands::store::whoami;

/// The largest file `tocky people import` reads: the Assembly has about
/// 500 delegates, so this is many times any real list.
const MAX_PEOPLE_FILE_BYTES: u64 = 16 << 20;

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

fn import(file: &Path, db: &Path) -> Result<ExitCode> {
    let entries =
        read_people(file).with_context(|| format!("{}: nothing was imported", file.display()))?;
    let mut store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let summary = match store.import_people(&entries.people, &whoami()) {
        Ok(summary) => summary,
        Err(tocky_store::Error::InvalidPerson { index, reason, .. }) => {
            let origin = entries.origin(index);
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

/// Reads a CSV or TOML file of people, by its extension (the parser is the
/// server's, so that a file and an upload read the same).
fn read_people(path: &Path) -> Result<Entries> {
    // Decide the format before reading, so a wrong file is named at once.
    let format = path
        .extension()
        .and_then(|e| e.to_str())
        .and_then(Format::from_extension)
        .context("not a .csv or .toml file")?;
    let size = std::fs::metadata(path).context("reading it")?.len();
    if size > MAX_PEOPLE_FILE_BYTES {
        bail!("{size} bytes is over the {MAX_PEOPLE_FILE_BYTES}-byte limit");
    }
    let bytes = std::fs::read(path).context("reading it")?;
    let text = String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()))?;
    Ok(parse(&text, format)?)
}
