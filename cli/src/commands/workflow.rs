//! `tocky workflow`: where a sitting stands, its steps (checked, approved,
//! published, final) and its published versions and their corrections
//! (docs/workflow.md). The command line acts as the local user, as every
//! command that writes the record does; the server checks roles, the
//! command line trusts whoever can write the database file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use tocky_store::{Reasons, Store, WorkflowState};

use crate::commands::store::whoami;

#[derive(Debug, Subcommand)]
pub(crate) enum WorkflowCommand {
    /// Show where a sitting stands: its state, its review counts, its
    /// published versions and every step so far.
    Show {
        /// The session's id.
        session: i64,
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Move a sitting to a state: checked, approved, published (a new
    /// frozen version), final, or back to draft. A step that is not
    /// allowed is refused with its reason, and nothing changes.
    Move {
        /// The session's id.
        session: i64,
        /// draft, checked, approved, published or final.
        to: WorkflowState,
        /// A note for the log (and, when publishing, the reason of its
        /// corrections).
        #[arg(long)]
        note: Option<String>,
        /// The written form's fillers, frozen into a version it publishes.
        #[command(flatten)]
        written: crate::commands::itn::WrittenArgs,
    },
    /// Write a published version exactly as published (JSON).
    Version {
        /// The session's id.
        session: i64,
        /// The version's number.
        number: i64,
        /// Write to FILE (atomically) instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// List what a version corrected against the one before it.
    Corrections {
        /// The session's id.
        session: i64,
        /// The version's number.
        number: i64,
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(cmd: WorkflowCommand, db: &Path) -> Result<ExitCode> {
    let mut store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    match cmd {
        WorkflowCommand::Show { session, json } => show(&store, session, json),
        WorkflowCommand::Move {
            session,
            to,
            note,
            written,
        } => {
            store.set_written(written.options());
            let step = match store.move_workflow(
                session,
                to,
                &whoami(),
                note.as_deref(),
                &Reasons::default(),
            ) {
                Ok(step) => step,
                // Said as the store words it: the reason is the message.
                Err(e @ tocky_store::Error::WorkflowRefused { .. }) => {
                    bail!("session {session}: {e}; nothing was changed")
                }
                Err(e) => return Err(e).with_context(|| format!("moving session {session}")),
            };
            match &step.version {
                Some(v) => outln!(
                    "session {session}: {} → {} (version {}, sha256 {})",
                    step.from.as_str(),
                    step.to.as_str(),
                    v.number,
                    v.sha256
                )?,
                None => outln!(
                    "session {session}: {} → {}",
                    step.from.as_str(),
                    step.to.as_str()
                )?,
            }
            Ok(ExitCode::SUCCESS)
        }
        WorkflowCommand::Version {
            session,
            number,
            output,
        } => {
            let version = store
                .version(session, number)
                .with_context(|| format!("reading session {session}"))?;
            match output {
                Some(path) => tocky_core::atomic::write(&path, version.content.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?,
                None => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(version.content.as_bytes())?;
                    out.flush()?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        WorkflowCommand::Corrections {
            session,
            number,
            json,
        } => {
            let list = store
                .corrections(session, number)
                .with_context(|| format!("reading session {session}"))?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&list)?)?;
                return Ok(ExitCode::SUCCESS);
            }
            if list.is_empty() {
                outln!("version {number} of session {session} lists no corrections")?;
            }
            for c in list {
                let at = c.at_ms.map_or_else(String::new, |ms| {
                    format!(" at {}:{:02}", ms / 60_000, ms / 1000 % 60)
                });
                outln!(
                    "{} {}{at} ({}): {:?} → {:?}{}",
                    c.target,
                    c.target_id,
                    c.change,
                    c.before.unwrap_or_default(),
                    c.after.unwrap_or_default(),
                    c.reason.map_or_else(String::new, |r| format!(" — {r}"))
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn show(store: &Store, session: i64, json: bool) -> Result<ExitCode> {
    let workflow = store
        .workflow(session)
        .with_context(|| format!("reading session {session}"))?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&workflow)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "session {session}: {} ({} segments, {} not reviewed)",
        workflow.state.as_str(),
        workflow.segments,
        workflow.unreviewed
    )?;
    for v in store.versions(session)? {
        outln!(
            "version {} ({:?}), published by {} at {}, {} corrections, sha256 {}",
            v.number,
            v.state,
            v.published_by,
            v.published_at,
            v.corrections,
            v.sha256
        )?;
    }
    for s in &workflow.history {
        outln!(
            "{} {}: {} → {}{}",
            s.at,
            s.actor,
            s.from,
            s.to,
            s.note
                .as_deref()
                .map_or_else(String::new, |n| format!(" ({n})"))
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
