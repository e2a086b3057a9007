//! Standard output that a closed pipe (`tocky search … | head`) ends
//! quietly: `println!` panics when its reader has gone, since Rust
//! ignores SIGPIPE.

use std::fmt;
use std::io::{ErrorKind, Write};

/// Standard output's reader has gone: stop, and say nothing more.
#[derive(Debug)]
pub(crate) struct StdoutClosed;

impl fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// The exit status of a command whose output was cut off: what a shell
/// reports for a program ended by SIGPIPE (128 + 13).
pub(crate) const STDOUT_CLOSED_STATUS: u8 = 141;

/// Writes to standard output and flushes it.
pub(crate) fn write(args: fmt::Arguments<'_>) -> anyhow::Result<()> {
    write_to(&mut std::io::stdout().lock(), args)
}

fn write_to(out: &mut dyn Write, args: fmt::Arguments<'_>) -> anyhow::Result<()> {
    match out.write_fmt(args).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing to standard output")),
    }
}

/// `print!` that returns an error instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*))
    };
}

/// `println!` that returns an error instead of panicking.
macro_rules! outln {
    () => {
        $crate::out::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// An error and its causes on one line, as `{:#}` prints them, but a cause
/// that the message above it already ends with is said once: many library
/// errors both print their source and return it as `source()`, so `{:#}`
/// would say "not a valid ggml file: bad magic number" twice.
pub(crate) fn error_chain(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Inner {
        #[error("not a valid ggml file: bad magic number")]
        Magic,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("m.bin is not a usable model: {source}")]
    struct Outer {
        #[source]
        source: Inner,
    }

    #[test]
    fn a_cause_already_in_its_message_is_said_once() {
        let e = anyhow::Error::new(Outer {
            source: Inner::Magic,
        })
        .context("loading the model");
        assert_eq!(
            format!("{e:#}").matches("bad magic number").count(),
            2,
            "the doubling this avoids"
        );
        assert_eq!(
            error_chain(&e),
            "loading the model: m.bin is not a usable model: not a valid ggml file: bad magic number"
        );
        // A cause that adds something is kept.
        let e = anyhow::Error::new(Inner::Magic).context("reading m.bin");
        assert_eq!(
            error_chain(&e),
            "reading m.bin: not a valid ggml file: bad magic number"
        );
    }

    /// A reader that has gone away.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_told_apart_from_other_write_errors() {
        let e = write_to(&mut ClosedPipe, format_args!("x")).unwrap_err();
        assert!(e.is::<StdoutClosed>());
        let full = &mut [0u8; 0][..];
        let e = write_to(&mut std::io::Cursor::new(full), format_args!("x")).unwrap_err();
        assert!(!e.is::<StdoutClosed>());
        assert!(
            format!("{e:#}").contains("writing to standard output"),
            "{e:#}"
        );
    }
}
