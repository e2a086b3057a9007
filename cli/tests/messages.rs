//! What a new user reads when something is wrong: tocky's own clear line,
//! not a library's log, its colour codes, or the same reason twice.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn tocky(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tocky"))
        .args(args)
        .env_remove("TOCKY_LOG")
        .output()
        .expect("tocky runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_non_audio_file_gets_tockys_line_and_no_library_log() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "Biên bản phiên họp, không phải âm thanh.\n").unwrap();
    let o = tocky(&["transcribe", notes.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    // symphonia logs "ERROR symphonia_core::formats::probe: probe reached
    // EOF" at error level when nothing recognises the file.
    assert!(!err.contains("symphonia"), "{err}");
    assert!(!err.contains('\x1b'), "colour codes in: {err:?}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("notes.txt"), "{err}");
}

#[test]
fn a_file_that_is_not_a_model_is_refused_with_its_reason_once() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("ggml-model.bin");
    std::fs::write(&model, vec![0x42u8; 4096]).unwrap();
    let clip = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/vi/vivos_VIVOSDEV01_R034.wav");
    let o = tocky(&[
        "transcribe",
        "--model",
        model.to_str().unwrap(),
        clip.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("ggml-model.bin"), "{err}");
    assert_eq!(err.matches("bad magic number").count(), 1, "{err}");
    assert_eq!(err.matches("not a valid ggml file").count(), 1, "{err}");
}

#[test]
fn devices_keeps_the_sound_libraries_noise_off_the_terminal() {
    // No sound server for this process: ALSA's default device and its
    // plugins (pulse, jack) fail, and say so on fd 2.
    let o = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("devices")
        .env_remove("TOCKY_LOG")
        .env("PULSE_SERVER", "unix:/nonexistent/pulse")
        .env("JACK_NO_START_SERVER", "1")
        .output()
        .unwrap();
    let err = stderr(&o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("ALSA lib"), "{err}");
    assert!(!err.contains("Cannot connect to server"), "{err}");
    assert!(
        out.contains("no audio input devices found") || out.contains("DEVICE"),
        "{out}"
    );
    // The libraries' lines are still there for whoever asks (-vv).
    let o = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .args(["-vv", "devices"])
        .env_remove("TOCKY_LOG")
        .env("PULSE_SERVER", "unix:/nonexistent/pulse")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}
