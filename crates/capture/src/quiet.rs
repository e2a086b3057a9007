//! Keeps the sound libraries' own messages off the user's terminal.
//!
//! alsa-lib and the plugins it loads (JACK's among them) print to the
//! process's standard error while devices are listed or probed: on a
//! machine without a sound card that is a screen of "ALSA lib …" and
//! "Cannot connect to server socket" lines before tocky's own message.
//! ALSA's error handler would catch only ALSA's lines, and only through
//! unsafe FFI; redirecting file descriptor 2 for the duration catches every
//! library. The lines are kept and logged at debug level (`-vv`).

use std::io::{Read, Seek};
use std::os::fd::AsFd;

/// Runs `f` with file descriptor 2 sent to a temporary file, then restores
/// it and logs what the libraries wrote there. If the redirection cannot be
/// set up, `f` runs with standard error as it is.
pub(crate) fn with_library_stderr_captured<T>(f: impl FnOnce() -> T) -> T {
    let Some(redirect) = Redirect::start() else {
        return f();
    };
    let result = f();
    for line in redirect.finish() {
        tracing::debug!(target: "tocky_capture::library", "{line}");
    }
    result
}

struct Redirect {
    saved: std::os::fd::OwnedFd,
    capture: std::fs::File,
}

impl Redirect {
    fn start() -> Option<Self> {
        let stderr = std::io::stderr();
        let saved = rustix::io::dup(stderr.as_fd()).ok()?;
        let capture = tempfile::tempfile().ok()?;
        rustix::stdio::dup2_stderr(capture.as_fd()).ok()?;
        Some(Self { saved, capture })
    }

    /// Restores standard error and returns the lines written meanwhile.
    fn finish(mut self) -> Vec<String> {
        if let Err(e) = rustix::stdio::dup2_stderr(self.saved.as_fd()) {
            // Standard error stays on the capture file; say so there.
            tracing::warn!("could not restore standard error: {e}");
        }
        let mut text = String::new();
        if self.capture.rewind().is_ok() {
            // Bounded: libraries print a few kilobytes at most.
            let _ = (&self.capture).take(1 << 20).read_to_string(&mut text);
        }
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_library_writes_to_fd_2_is_captured_and_fd_2_restored() {
        let fd2 = std::io::stderr();
        let before = rustix::fs::fstat(fd2.as_fd()).unwrap();
        let redirect = Redirect::start().unwrap();
        // Written to the descriptor itself, as a C library does.
        rustix::io::write(fd2.as_fd(), b"ALSA lib pcm.c:2721: noise\n\n").unwrap();
        let during = rustix::fs::fstat(fd2.as_fd()).unwrap();
        let lines = redirect.finish();
        let after = rustix::fs::fstat(fd2.as_fd()).unwrap();
        assert_eq!(lines, ["ALSA lib pcm.c:2721: noise"]);
        assert_ne!(
            (during.st_dev, during.st_ino),
            (before.st_dev, before.st_ino)
        );
        assert_eq!((after.st_dev, after.st_ino), (before.st_dev, before.st_ino));
        assert_eq!(with_library_stderr_captured(|| 42), 42);
    }
}
