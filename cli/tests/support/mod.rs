//! What the CLI's tests share: `tocky` run on a record; for the `tocky
//! live` tests, a running `tocky live`, sittings assembled from the
//! fixtures, and the archive's length.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A child process killed and reaped when dropped, so that a failing test
/// leaves no server or worker behind.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `tocky --db DB serve --bind 127.0.0.1:0 ARGS`, once it listens: the
/// process and its base URL (no trailing slash).
pub(crate) fn serve(db: &Path, args: &[&OsStr]) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("--db")
        .arg(db)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("tocky serve said {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    (Running(child), addr)
}

/// Runs `tocky --db DB ARGS` to its end.
pub(crate) fn tocky(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("tocky runs")
}

/// What a command wrote, as text (lossy: a failed test shows what it got).
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Live tests run one at a time: each needs the machine's cores to keep
/// up with real time (whisper.cpp's threads spin, and two sittings at once
/// on 2 cores fall behind).
pub(crate) fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) const RATE: u32 = 16_000;

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/vi")
        .join(name)
}

pub(crate) fn reference(clip: &str) -> String {
    std::fs::read_to_string(fixture(&format!("{clip}.txt")))
        .unwrap()
        .trim()
        .to_owned()
}

/// Writes `parts` (clip names, or `None` for a second of silence) as one
/// 16 kHz mono WAV; returns its length in seconds.
pub(crate) fn sitting(path: &Path, parts: &[Option<&str>]) -> f64 {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = hound::WavWriter::create(path, spec).unwrap();
    let mut frames = 0u64;
    for part in parts {
        match part {
            Some(clip) => {
                let mut reader = hound::WavReader::open(fixture(&format!("{clip}.wav"))).unwrap();
                assert_eq!(reader.spec().sample_rate, RATE, "{clip}");
                assert_eq!(reader.spec().channels, 1, "{clip}");
                for s in reader.samples::<i16>() {
                    out.write_sample(s.unwrap()).unwrap();
                    frames += 1;
                }
            }
            None => {
                for _ in 0..RATE {
                    out.write_sample(0i16).unwrap();
                    frames += 1;
                }
            }
        }
    }
    out.finalize().unwrap();
    frames as f64 / f64::from(RATE)
}

/// A running `tocky live`.
pub(crate) struct Live {
    pub(crate) child: Child,
    lines: Receiver<String>,
    stdout: Vec<String>,
    /// The review server's address.
    pub(crate) addr: String,
    /// The live session's id.
    pub(crate) session: i64,
    /// When capture began (a file starts playing then).
    pub(crate) capturing: Instant,
}

impl Live {
    /// Starts `tocky live ARGS` with a record and archive in `dir` and the
    /// extra environment `env`; returns once it is capturing.
    pub(crate) fn start(dir: &Path, args: &[OsString], env: &[(&str, OsString)]) -> Self {
        let stderr = std::fs::File::create(dir.join("stderr.log")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tocky"))
            .args(["live", "--public-read", "--bind", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .arg("--db")
            .arg(dir.join("record.db"))
            .arg("--archive-dir")
            .arg(dir.join("audio"))
            .args(["--date", "2026-12-02", "--threads", "2"])
            .env("TOCKY_LOG", "info,whisper_rs=off")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut live = Self {
            child,
            lines,
            stdout: Vec::new(),
            addr: String::new(),
            session: 0,
            capturing: Instant::now(),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let line = live
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("tocky live did not start: {}", live.stderr(dir)));
            if let Some(rest) = line.strip_prefix("listening on http://") {
                live.addr = rest.trim_end_matches('/').to_owned();
            } else if let Some(rest) = line.strip_prefix("live session ") {
                live.session = rest.split(':').next().unwrap().parse().unwrap();
            } else if line.starts_with("capturing") {
                live.capturing = Instant::now();
                live.stdout.push(line);
                return live;
            }
            live.stdout.push(line);
        }
    }

    pub(crate) fn stderr(&self, dir: &Path) -> String {
        std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
    }

    /// Waits for the process to end; returns its whole standard output.
    pub(crate) fn wait(&mut self, dir: &Path) -> String {
        let status = self.child.wait().unwrap();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.stdout.push(line);
        }
        let stdout = self.stdout.join("\n");
        assert!(
            status.success(),
            "tocky live failed\n{stdout}\n{}",
            self.stderr(dir)
        );
        stdout
    }
}

impl Drop for Live {
    /// A failed test does not leave the sitting running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The archive's length in seconds, as a player reads it.
pub(crate) fn archive_seconds(dir: &Path) -> f64 {
    let entries: Vec<_> = std::fs::read_dir(dir.join("audio"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "one archive: {entries:?}");
    let reader = hound::WavReader::open(&entries[0]).unwrap();
    f64::from(reader.duration()) / f64::from(reader.spec().sample_rate)
}
