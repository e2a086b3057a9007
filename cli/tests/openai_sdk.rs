//! The official `openai` Python SDK (from PyPI, installed by scripts/setup
//! in a virtual environment under tocky's cache) against `tocky serve`
//! with the real model: an API key made with `tocky token add`, the same
//! text as `tocky transcribe` in json, text and srt, verbose_json with
//! words and segments, the SDK's exceptions for bad input, and the key
//! refused once revoked. A missing SDK or model fails the test (run
//! scripts/setup and `tocky model fetch`), it is not skipped.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The clip: 5 s of read speech.
const CLIP: &str = "vivos_VIVOSSPK01_R025";

fn tocky(db: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tocky {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The virtual environment's Python, with the SDK.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TOCKY_OPENAI_PYTHON") {
        return p.into();
    }
    let python = tocky_models::default_cache_dir().join("openai-venv/bin/python");
    assert!(
        python.is_file(),
        "this test needs the openai SDK in {}: run scripts/setup",
        python.display()
    );
    python
}

fn sdk(base: &str, key: &str, mode: &str, clips: &[&Path]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openai_sdk.py");
    let out = Command::new(python())
        .arg(script)
        .args([base, key, mode])
        .args(clips)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openai_sdk.py {mode}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_openai_sdk_gets_what_tocky_transcribe_gives() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("record.db");
    let clip = support::fixture(&format!("{CLIP}.wav"));

    // What `tocky transcribe` gives for the clip.
    let out = dir.path().join("out");
    tocky(
        &db,
        &[
            "transcribe",
            "-f",
            "srt,json",
            "-o",
            out.to_str().unwrap(),
            clip.to_str().unwrap(),
        ],
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(format!("{CLIP}.json"))).unwrap())
            .unwrap();
    let segments = doc["segments"].as_array().unwrap();
    let text: Vec<&str> = segments
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    let text = text.join(" ");
    assert!(!text.is_empty());
    let srt = std::fs::read_to_string(out.join(format!("{CLIP}.srt"))).unwrap();

    let key = tocky(&db, &["token", "add", "sdk", "--role", "stenographer"]);
    let key = key.trim();
    assert!(key.starts_with("tocky_"), "{key}");
    let list = tocky(&db, &["token", "list"]);
    assert!(
        list.lines().any(|l| l.starts_with("sdk\tstenographer")),
        "{list}"
    );
    assert!(!list.contains(key), "the secret is never listed");

    let (server, base) = support::serve(&db, &[]);
    let got = sdk(&base, key, "formats", &[&clip]);
    assert_eq!(got["models"], serde_json::json!(["base"]));
    assert_eq!(got["json"], text.as_str(), "{got}");
    assert_eq!(got["text"].as_str().unwrap().trim_end(), text);
    assert_eq!(got["srt"], srt.as_str());
    let v = &got["verbose"];
    assert_eq!(v["text"], text.as_str());
    assert_eq!(v["language"], "vietnamese");
    assert!((v["duration"].as_f64().unwrap() - 5.0).abs() < 0.1, "{v}");
    assert_eq!(v["segments"].as_array().unwrap().len(), segments.len());
    let words = v["words"].as_array().unwrap();
    let word_count: usize = segments
        .iter()
        .map(|s| s["words"].as_array().unwrap().len())
        .sum();
    assert_eq!(words.len(), word_count, "{v}");
    let mut last = 0.0;
    for w in words {
        let (start, end) = (w["start"].as_f64().unwrap(), w["end"].as_f64().unwrap());
        assert!(last <= start + 1e-6 && start <= end && end <= 5.1, "{w}");
        last = start;
    }
    // The SDK's exceptions carry tocky's reasons.
    assert_eq!(got["not_audio"]["status"], 400, "{got}");
    assert_eq!(got["not_audio"]["param"], "file");
    assert_eq!(got["unknown_model"]["status"], 400);
    assert_eq!(got["unknown_model"]["param"], "model");

    // Revoked: refused at once, with the server still running.
    tocky(&db, &["token", "revoke", "sdk"]);
    let refused = sdk(&base, key, "refused", &[]);
    assert_eq!(refused["status"], 401, "{refused}");
    assert_eq!(refused["code"], "invalid_api_key");
    drop(server);
}
