//! Lines on standard input in written form on standard output, with the
//! spans on standard error when `SPANS=1`: `tocky itn` without building the
//! whole CLI (whisper.cpp), for trying rules quickly.

use std::io::{BufRead, Write};

fn main() -> std::io::Result<()> {
    let itn = tocky_itn::Itn::new(tocky_itn::Options::default());
    let spans = std::env::var_os("SPANS").is_some();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let w = itn.line(&line);
        writeln!(out, "{}", w.text)?;
        if spans {
            for s in &w.spans {
                eprintln!(
                    "  {:?} {:?} -> {:?}{}",
                    s.kind,
                    &line[s.input.clone()],
                    &w.text[s.output.clone()],
                    if s.removed { " (removed)" } else { "" }
                );
            }
        }
    }
    Ok(())
}
