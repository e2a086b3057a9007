//! The `tocky` binary as a person runs it: real model, real files.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tocky(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tocky"))
        .args(args)
        .output()
        .expect("tocky runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/vi")
        .join(name)
}

#[test]
fn help_explains_the_subcommands() {
    let o = tocky(&["--help"]);
    assert!(o.status.success());
    let text = stdout(&o);
    for word in ["transcribe", "model", "stenography"] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
    let o = tocky(&["model", "--help"]);
    for word in ["fetch", "info", "convert", "list", "path"] {
        assert!(stdout(&o).contains(word), "{word} missing");
    }
}

#[test]
fn model_fetch_again_does_nothing_and_info_prints_hyperparameters() {
    let o = tocky(&["model", "fetch"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("already in place, nothing to do"),
        "{}",
        stdout(&o)
    );

    let path = stdout(&tocky(&["model", "path"])).trim().to_owned();
    let o = tocky(&["model", "info", &path]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for line in [
        "n_vocab        51865",
        "n_audio_layer  6",
        "n_mels         80",
        "mel filters    80 x 201",
        "tensors        245",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
}

#[test]
fn transcribe_prints_timestamped_vietnamese_segments() {
    let clip = fixture("vivos_VIVOSSPK01_R003.wav"); // "trong số các quốc gia công nghiệp phát triển"
    let o = tocky(&["transcribe", "--threads", "2", clip.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let segment = text
        .lines()
        .find(|l| l.starts_with("[00:00:0"))
        .unwrap_or_else(|| panic!("no segment in:\n{text}"));
    assert!(segment.contains(" --> "), "{segment}");
    let lower = text.to_lowercase();
    assert!(lower.contains("công nghiệp phát triển"), "{text}");
}

#[test]
fn transcribe_json_has_word_times() {
    let clip = fixture("vivos_VIVOSDEV01_R003.wav");
    let o = tocky(&[
        "transcribe",
        "--format",
        "json",
        "--beam-size",
        "1",
        clip.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["language"], "vi");
    let words = v["segments"][0]["words"].as_array().unwrap();
    assert!(words.len() >= 5, "{v}");
    assert!(
        words
            .iter()
            .all(|w| w["end_ms"].as_u64() >= w["start_ms"].as_u64())
    );
}

#[test]
fn bad_files_get_one_clear_line_and_a_failing_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.wav");
    std::fs::write(&garbage, vec![0x5au8; 4096]).unwrap();
    let empty = dir.path().join("empty.mp3");
    std::fs::write(&empty, b"").unwrap();
    let good = fixture("vivos_VIVOSDEV01_R034.wav");
    let o = tocky(&[
        "transcribe",
        "--beam-size",
        "1",
        garbage.to_str().unwrap(),
        "/nonexistent/clip.wav",
        empty.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    let error_lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(error_lines.len(), 3, "{err}");
    assert!(
        error_lines[0].contains("garbage.wav") && error_lines[0].contains("unsupported or corrupt"),
        "{err}"
    );
    assert!(error_lines[1].contains("/nonexistent/clip.wav"), "{err}");
    assert!(error_lines[2].contains("empty"), "{err}");
    // The good file after the bad ones is still transcribed.
    assert!(stdout(&o).contains("R034"), "{}", stdout(&o));
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn an_unknown_model_name_says_what_to_do() {
    let clip = fixture("vivos_VIVOSDEV01_R034.wav");
    let o = tocky(&["transcribe", "--model", "large-v9", clip.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("neither a model file nor a known model name"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn transcribe_renders_subtitles() {
    let clip = fixture("vivos_VIVOSDEV01_R034.wav");
    let o = tocky(&[
        "transcribe",
        "--format",
        "srt",
        "--beam-size",
        "1",
        clip.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("1\n00:00:0"), "{}", stdout(&o));
    assert!(
        stdout(&o)
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains(",") && l.contains(" --> "))
    );

    let o = tocky(&[
        "transcribe",
        "--format",
        "vtt",
        "--beam-size",
        "1",
        clip.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("WEBVTT\n\n00:00:0"),
        "{}",
        stdout(&o)
    );
}
