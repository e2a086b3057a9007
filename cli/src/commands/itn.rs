//! `tocky itn`: lines of speech on standard input, each written out in the
//! record's written form on standard output (same line count; an empty line
//! stays empty). The rules and conventions are in docs/itn.md.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use tocky_itn::{Itn, Options};

/// The written form's filler flags, the same for `tocky itn`, `tocky
/// export` and `tocky workflow move` (which freezes the written form when
/// it publishes), as the server's `[record]` settings.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct WrittenArgs {
    /// Keep fillers (ờ, à, ừm) and repeated words in the text instead of
    /// removing them.
    #[arg(long)]
    keep_fillers: bool,
    /// The fillers, comma-separated, instead of the default list.
    #[arg(long, value_delimiter = ',', value_name = "WORDS")]
    fillers: Option<Vec<String>>,
}

impl WrittenArgs {
    /// The written form's options these flags give.
    pub(crate) fn options(&self) -> Options {
        let mut options = Options {
            remove_marked: !self.keep_fillers,
            ..Options::default()
        };
        if let Some(words) = &self.fillers {
            options.filler_words = words
                .iter()
                .map(|w| w.trim().to_owned())
                .filter(|w| !w.is_empty())
                .collect();
        }
        options
    }
}

#[derive(Debug, Args)]
pub(crate) struct ItnArgs {
    #[command(flatten)]
    written: WrittenArgs,
    /// Do not mark repeated words (false starts) at all.
    #[arg(long)]
    no_repeats: bool,
    /// Print each line's changes as JSON (`{"text":…,"spans":[…]}`) instead
    /// of the text alone.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: ItnArgs) -> Result<ExitCode> {
    let options = Options {
        repeats: !args.no_repeats,
        ..args.written.options()
    };
    let itn = Itn::new(options);
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut bytes = Vec::new();
    for n in 1u64.. {
        bytes.clear();
        let read = input
            .read_until(b'\n', &mut bytes)
            .with_context(|| format!("reading line {n} of standard input"))?;
        if read == 0 {
            break;
        }
        let line = std::str::from_utf8(&bytes)
            .with_context(|| format!("line {n} of standard input is not UTF-8"))?;
        // The line ending (\n or \r\n) stays out of the rules and in the output.
        let line = line.strip_suffix('\n').unwrap_or(line);
        let (body, cr) = match line.strip_suffix('\r') {
            Some(body) => (body, "\r"),
            None => (line, ""),
        };
        let written = itn.line(body);
        if args.json {
            let spans: Vec<serde_json::Value> = written
                .spans
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "kind": s.kind.name(),
                        "input": body.get(s.input.clone()).unwrap_or(""),
                        "output": written.text.get(s.output.clone()).unwrap_or(""),
                        "input_bytes": [s.input.start, s.input.end],
                        "output_bytes": [s.output.start, s.output.end],
                        "removed": s.removed,
                    })
                })
                .collect();
            let value = serde_json::json!({ "text": written.text, "spans": spans });
            out!("{value}\n")?;
        } else {
            out!("{}{cr}\n", written.text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
