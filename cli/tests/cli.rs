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

/// `tocky transcribe a.wav b.wav | head`: once the reader has gone, the
/// batch stops quietly with SIGPIPE's status; a worker's panic took the
/// whole process down with a backtrace.
#[test]
fn transcribing_into_a_closed_pipe_stops_quietly() {
    let clip = fixture("vivos_VIVOSSPK01_R003.wav");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .args(["transcribe", "--threads", "2", "--beam-size", "1"])
        .args([&clip, &fixture("vivos_VIVOSDEV01_R002.wav")])
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(141), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
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
    let p = v["segments"][0]["probability"].as_f64().unwrap();
    assert!(p > 0.0 && p <= 1.0, "segment probability {p}");
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
    // Bytes that made symphonia 0.5's ADTS probe panic (found by fuzzing).
    let panics = dir.path().join("panics.wav");
    let hex = "01fd000000ff667424ff66742424fff1307970667479700624fff124ff3079";
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    std::fs::write(&panics, bytes).unwrap();
    // An interrupted copy: transcribed as far as it goes, with a warning.
    let cut = dir.path().join("cut.mkv");
    let mkv =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/formats/speech.mkv"))
            .unwrap();
    std::fs::write(&cut, &mkv[..mkv.len() / 2]).unwrap();
    let good = fixture("vivos_VIVOSDEV01_R034.wav");
    let o = tocky(&[
        "transcribe",
        "--beam-size",
        "1",
        garbage.to_str().unwrap(),
        "/nonexistent/clip.wav",
        empty.to_str().unwrap(),
        panics.to_str().unwrap(),
        cut.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    let error_lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(error_lines.len(), 4, "{err}");
    let line_for = |name: &str| {
        error_lines
            .iter()
            .find(|l| l.contains(name))
            .copied()
            .unwrap_or_else(|| panic!("no error line for {name}: {err}"))
    };
    assert!(
        line_for("garbage.wav").contains("unsupported or corrupt"),
        "{err}"
    );
    assert!(
        line_for("/nonexistent/clip.wav").contains("no such file"),
        "{err}"
    );
    assert!(line_for("empty.mp3").contains("empty"), "{err}");
    assert!(
        line_for("panics.wav").contains("unsupported or corrupt"),
        "{err}"
    );
    // Once a panic inside symphonia (0.5); contained either way, and no
    // "panicked" message reaches the terminal.
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.contains("cut.mkv") && l.contains("cut short or damaged")),
        "{err}"
    );
    // The good file after the bad ones is still transcribed.
    assert!(stdout(&o).contains("R034"), "{}", stdout(&o));
    assert!(err.contains("2 transcribed"), "{err}");
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

fn copy_fixture(name: &str, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(fixture(name), to).unwrap();
}

fn summary(o: &Output) -> String {
    stderr(o).lines().last().unwrap_or_default().to_owned()
}

#[test]
fn batch_writes_every_format_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let out = dir.path().join("out");
    copy_fixture("vivos_VIVOSDEV01_R034.wav", &input.join("a.wav"));
    copy_fixture("vivos_VIVOSDEV01_R055.wav", &input.join("day2/b.WAV"));
    std::fs::write(input.join("notes.txt"), "not audio").unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "transcribe",
            "--beam-size",
            "1",
            "-f",
            "json,srt,vtt,txt",
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        args.push(input.to_str().unwrap());
        tocky(&args)
    };

    let o = run(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        summary(&o).starts_with("2 transcribed, 0 up to date, 0 failed"),
        "{}",
        stderr(&o)
    );
    for ext in ["json", "srt", "vtt", "txt"] {
        assert!(out.join(format!("a.{ext}")).is_file(), "a.{ext}");
        assert!(
            out.join(format!("day2/b.{ext}")).is_file(),
            "day2/b.{ext} (the folder is mirrored)"
        );
    }
    assert!(!out.join("notes.json").exists());
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("a.json")).unwrap()).unwrap();
    assert_eq!(doc["schema"], "tocky.transcript");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["source"]["file"], "a.wav");
    assert_eq!(doc["source"]["sha256"].as_str().unwrap().len(), 64);
    assert!(doc["segments"][0]["words"][0]["probability"].is_number());
    assert!(
        std::fs::read_to_string(out.join("a.vtt"))
            .unwrap()
            .starts_with("WEBVTT")
    );
    let leftovers: Vec<_> = walk(&out)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A rerun skips both; a changed input is redone; --force redoes all.
    let o = run(&[]);
    assert!(
        summary(&o).starts_with("0 transcribed, 2 up to date"),
        "{}",
        stderr(&o)
    );
    copy_fixture("vivos_VIVOSSPK01_R003.wav", &input.join("a.wav"));
    let o = run(&[]);
    assert!(
        summary(&o).starts_with("1 transcribed, 1 up to date"),
        "{}",
        stderr(&o)
    );
    assert!(
        std::fs::read_to_string(out.join("a.txt"))
            .unwrap()
            .contains("phát triển")
    );
    let o = run(&["--force", "--jobs", "2"]);
    assert!(
        summary(&o).starts_with("2 transcribed, 0 up to date"),
        "{}",
        stderr(&o)
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn each_channel_of_a_hall_recording_is_its_own_speaker() {
    let dir = tempfile::tempdir().unwrap();
    let stereo = dir.path().join("hall.wav");
    let ok = Command::new("sox")
        .arg("-M")
        .arg(fixture("vivos_VIVOSSPK01_R003.wav"))
        .arg(fixture("vivos_VIVOSSPK01_R048.wav"))
        .arg(&stereo)
        .status()
        .expect("sox runs");
    assert!(ok.success());
    let o = tocky(&[
        "transcribe",
        "--channel",
        "all",
        "-f",
        "json",
        stereo.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["source"]["channels"], 2);
    assert_eq!(
        doc["source"]["transcribed_channels"],
        serde_json::json!([0, 1])
    );
    let text_of = |channel: u64| {
        doc["segments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["channel"] == channel)
            .map(|s| s["text"].as_str().unwrap().to_lowercase())
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(
        text_of(0).contains("công nghiệp"),
        "channel 0: {}",
        text_of(0)
    );
    assert!(text_of(1).contains("khả năng"), "channel 1: {}", text_of(1));
    assert!(!text_of(0).contains("khả năng"));

    let o = tocky(&[
        "transcribe",
        "--channel",
        "1",
        "--beam-size",
        "1",
        stereo.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(
        stdout(&o).to_lowercase().contains("khả năng"),
        "{}",
        stdout(&o)
    );
    let o = tocky(&["transcribe", "--channel", "5", stereo.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("channel 5 does not exist"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn eval_agrees_with_the_shared_scorer() {
    // Pairs and figures from `wer.py` of the shared evaluation set: tone-mark
    // styles, punctuation, case, NFD input, digits, and a missing hypothesis.
    let dir = tempfile::tempdir().unwrap();
    let (refs, hyps) = (dir.path().join("r"), dir.path().join("h"));
    std::fs::create_dir_all(&refs).unwrap();
    std::fs::create_dir_all(&hyps).unwrap();
    let nfd: String = "đại biểu mười chín người quốc hội"
        .chars()
        .flat_map(|c| {
            // A hand-rolled NFD of the few letters used here.
            match c {
                'đ' => vec!['đ'],
                'ạ' => vec!['a', '\u{323}'],
                'ể' => vec!['e', '\u{302}', '\u{309}'],
                'ờ' => vec!['o', '\u{31b}', '\u{300}'],
                'ư' => vec!['u', '\u{31b}'],
                'í' => vec!['i', '\u{301}'],
                'ố' => vec!['o', '\u{302}', '\u{301}'],
                'ộ' => vec!['o', '\u{323}', '\u{302}'],
                other => vec![other],
            }
        })
        .collect();
    for (name, reference, hypothesis) in [
        (
            "a",
            "Hoà bình và thuỷ lợi, Quốc hội.",
            Some("hòa bình và thủy lợi quốc hội"),
        ),
        (
            "b",
            "cũng lên tiếng ủng hộ các kiến nghị này",
            Some("Cùng lên tiếng ủng hộ các ký ngày này."),
        ),
        ("c", "Đại biểu: 19 người, QUỐC HỘI!", Some(nfd.as_str())),
        ("d", "trong số các quốc gia công nghiệp phát triển", None),
    ] {
        std::fs::write(refs.join(format!("{name}.txt")), reference).unwrap();
        if let Some(h) = hypothesis {
            std::fs::write(hyps.join(format!("{name}.txt")), h).unwrap();
        }
    }
    let o = tocky(&[
        "eval",
        "--refs",
        refs.to_str().unwrap(),
        "--hyps",
        hyps.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "a\t0.000\t(0/7)\nb\t0.333\t(3/9)\nc\t0.333\t(2/6)\nd\t1.000\t(9/9)\noverall WER=0.4516 (14/31) CER=0.4307\n"
    );
}

#[test]
fn eval_transcribes_clips_beside_their_references() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["vivos_VIVOSSPK01_R003", "vivos_VIVOSSPK01_R048"] {
        copy_fixture(
            &format!("{name}.wav"),
            &dir.path().join(format!("{name}.wav")),
        );
        copy_fixture(
            &format!("{name}.txt"),
            &dir.path().join(format!("{name}.txt")),
        );
    }
    let o = tocky(&["eval", "--json", "--refs", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["clips"].as_array().unwrap().len(), 2);
    assert_eq!(v["words"], 21); // 10 + 11 syllables
    let wer = v["wer"].as_f64().unwrap();
    assert!(wer < 0.5, "WER {wer} on two clean clips: {v}");
}

#[test]
fn a_gpu_asked_of_a_cpu_build_is_a_clear_error_and_auto_runs_on_the_cpu() {
    let clip = fixture("vivos_VIVOSDEV01_R003.wav");
    let clip = clip.to_str().unwrap();
    let o = tocky(&["transcribe", clip, "--device", "gpu"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("built without CUDA"), "{}", stderr(&o));
    let o = tocky(&["transcribe", clip, "--device", "gpu:x"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("not auto, cpu, gpu or gpu:N"),
        "{}",
        stderr(&o)
    );
    let o = tocky(&["-v", "transcribe", clip, "--device", "auto", "-t", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("running on the CPU"), "{}", stderr(&o));
    assert!(stdout(&o).contains("-->"), "{}", stdout(&o));
}

/// Nine fixture clips with pauses as in a sitting (under a second to a
/// few seconds), and twice 31 s of quiet, longer than one window may span:
/// about 110 s in three VAD windows.
fn write_sitting(path: &Path) {
    let mut clips: Vec<PathBuf> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    clips.sort();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = hound::WavWriter::create(path, spec).unwrap();
    let pauses_ms = [1000, 2500, 31_000, 700, 1800, 31_000];
    for (i, clip) in clips.iter().take(9).enumerate() {
        for _ in 0..16 * pauses_ms[i % pauses_ms.len()] {
            out.write_sample(0i16).unwrap();
        }
        let mut reader = hound::WavReader::open(clip).unwrap();
        for sample in reader.samples::<i16>() {
            out.write_sample(sample.unwrap()).unwrap();
        }
    }
    out.finalize().unwrap();
}

fn segments_of(json: &Path) -> Vec<(u64, u64, String)> {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    doc["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["start_ms"].as_u64().unwrap(),
                s["end_ms"].as_u64().unwrap(),
                s["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_killed_transcription_resumes_at_its_checkpoint_with_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let sitting = dir.path().join("sitting.wav");
    write_sitting(&sitting);
    let (killed, whole) = (dir.path().join("killed"), dir.path().join("whole"));
    let args = |out: &Path| -> Vec<String> {
        [
            "transcribe",
            "--beam-size",
            "1",
            "--threads",
            "2",
            "-f",
            "json,txt",
            "-o",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([out.display().to_string(), sitting.display().to_string()])
        .collect()
    };

    // Killed with SIGKILL (as by a crash) once its first checkpoint is on
    // disk: after the first window, with two to go.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .args(args(&killed))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = killed.join("sitting.checkpoint-mix.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !checkpoint.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "tocky ended before its first checkpoint"
        );
        assert!(std::time::Instant::now() < deadline, "no checkpoint");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !killed.join("sitting.json").exists(),
        "finished before the kill"
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&checkpoint).unwrap()).unwrap();
    let resumed_at = saved["decoded_until_ms"].as_u64().unwrap();
    assert!(resumed_at > 0, "{saved}");

    // The rerun starts there, and ends where an uninterrupted run does.
    let o = tocky(&args(&killed).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("(resumed at "), "{}", stderr(&o));
    assert!(!checkpoint.exists(), "the checkpoint outlived the outputs");
    let o = tocky(&args(&whole).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let (resumed, uninterrupted) = (
        segments_of(&killed.join("sitting.json")),
        segments_of(&whole.join("sitting.json")),
    );
    assert!(uninterrupted.len() >= 5, "{uninterrupted:?}");
    assert!(
        uninterrupted.iter().any(|s| s.0 < resumed_at)
            && uninterrupted.iter().any(|s| s.0 > resumed_at),
        "the checkpoint at {resumed_at} ms should split the sitting"
    );
    assert_eq!(resumed, uninterrupted);
    // The very same text, times, words and scores.
    assert_eq!(
        std::fs::read_to_string(killed.join("sitting.txt")).unwrap(),
        std::fs::read_to_string(whole.join("sitting.txt")).unwrap()
    );
    let doc = |dir: &Path| -> serde_json::Value {
        let json = std::fs::read_to_string(dir.join("sitting.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&json).unwrap()["segments"].clone()
    };
    assert_eq!(doc(&killed), doc(&whole));
}
