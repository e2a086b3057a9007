//! A private PulseAudio daemon for tests: a null sink `tocky_test` (whose
//! monitor captures what is played into it) and a sine source. Shared by
//! the capture tests and the CLI's live tests (`#[path]`-included).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private PulseAudio daemon, killed on drop.
pub(crate) struct Pulse {
    dir: PathBuf,
    source: String,
    child: Option<Child>,
}

impl Pulse {
    /// Starts a daemon in `dir` (its runtime directory) whose default
    /// source is `source`: `tocky_test.monitor` (what plays into the null
    /// sink `tocky_test`) or `tocky_sine` (a sine, without end).
    pub(crate) fn start(dir: &Path, source: &str) -> Self {
        let mut pulse = Self {
            dir: dir.to_owned(),
            source: source.to_owned(),
            child: None,
        };
        pulse.restart();
        pulse
    }

    pub(crate) fn command(&self, program: &str) -> Command {
        with_env(Command::new(program), &self.dir)
    }

    /// Starts the daemon (again) and waits until it answers.
    pub(crate) fn restart(&mut self) {
        let log = std::fs::File::create(self.dir.join("pulseaudio.log")).unwrap();
        let child = self
            .command("pulseaudio")
            .args([
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--disallow-exit",
                "-n",
                "--load=module-null-sink sink_name=tocky_test",
                "--load=module-sine-source source_name=tocky_sine frequency=440 rate=48000",
                "--load=module-native-protocol-unix",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("pulseaudio is missing: run scripts/setup");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let ok = self
                .command("pactl")
                .args(["set-default-source", &self.source])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "pulseaudio did not start: {}",
                std::fs::read_to_string(self.dir.join("pulseaudio.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills the daemon, as a crash or a restart of the audio server would.
    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Plays a file into the null sink, in the background.
    pub(crate) fn play(&self, file: &Path) -> Child {
        self.command("paplay")
            .arg("--device=tocky_test")
            .arg(file)
            .spawn()
            .unwrap()
    }
}

impl Drop for Pulse {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Points a command at the daemon whose runtime directory is `dir`.
pub(crate) fn with_env(mut c: Command, dir: &Path) -> Command {
    c.env("PULSE_RUNTIME_PATH", dir)
        .env("XDG_RUNTIME_DIR", dir)
        .env("HOME", dir)
        .env(
            "PULSE_SERVER",
            format!("unix:{}", dir.join("native").display()),
        );
    c
}
