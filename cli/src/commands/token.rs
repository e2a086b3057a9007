//! `tocky token`: API keys for scripts, workers and OpenAI-compatible
//! clients (`Authorization: Bearer …` on the review server's `/v1`
//! routes). A key's secret is printed once, when it is made; the record
//! keeps only its hash.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use tocky_store::{Role, Store};

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Make a key and print its secret (shown this once).
    Add {
        /// The key's name (who or what uses it: `subtitles-pc`).
        name: String,
        /// What the key may do, as an account of this role: admin, editor,
        /// stenographer (transcribes on /v1) or reader.
        #[arg(long, default_value = "stenographer")]
        role: Role,
    },
    /// List the keys (never their secrets), revoked ones included.
    List,
    /// Revoke a key: it stops working at once.
    Revoke {
        /// The key's name.
        name: String,
    },
}

/// A Unix time as `YYYY-MM-DD HH:MM` UTC, or `-`.
fn when(t: Option<i64>) -> String {
    let Some(t) = t else { return "-".into() };
    // Howard Hinnant's days-to-civil, for dates from 1970 on.
    let days = t.div_euclid(86_400) + 719_468;
    let secs = t.rem_euclid(86_400);
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        secs / 3600,
        secs / 60 % 60
    )
}

pub(crate) fn run(cmd: TokenCommand, db: &Path) -> Result<ExitCode> {
    let mut store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let actor = crate::commands::store::whoami();
    match cmd {
        TokenCommand::Add { name, role } => {
            let (token, secret) = store.add_api_token(&name, role, Some(&actor))?;
            eprintln!(
                "API key {} ({}) made; its secret is shown only now:",
                token.name,
                token.role.as_str()
            );
            // The secret alone on standard output, for scripts.
            outln!("{secret}")?;
        }
        TokenCommand::List => {
            outln!("name\trole\tcreated\tby\tlast used\trevoked")?;
            for t in store.api_tokens()? {
                outln!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    t.name,
                    t.role.as_str(),
                    when(Some(t.created_at)),
                    t.created_by.as_deref().unwrap_or("-"),
                    when(t.last_used_at),
                    when(t.revoked_at)
                )?;
            }
        }
        TokenCommand::Revoke { name } => {
            if !store.revoke_api_token(&name, Some(&actor))? {
                bail!("no live API key named {name:?} (`tocky token list` shows them)");
            }
            outln!("API key {name} revoked")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::when;

    #[test]
    fn times_print_as_utc_dates() {
        assert_eq!(when(None), "-");
        assert_eq!(when(Some(0)), "1970-01-01 00:00");
        assert_eq!(when(Some(951_782_400 + 3_660)), "2000-02-29 01:01");
        assert_eq!(when(Some(1_796_601_600)), "2026-12-07 00:00");
    }
}
