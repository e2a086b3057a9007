//! `models/manifest.toml`: the models tocky can provision, with pinned checksums.

use serde::Deserialize;

use crate::error::{Error, Result};

/// The manifest compiled into the binary.
pub const BUILTIN_MANIFEST: &str = include_str!("../../../models/manifest.toml");

/// The name of the model used when none is given.
pub const DEFAULT_MODEL: &str = "base";

/// The whole manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The provisionable models.
    pub models: Vec<ModelEntry>,
}

/// One provisionable model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// Its short name, as given to `--model`.
    pub name: String,
    /// A sentence for people.
    pub description: String,
    /// The ggml file's name in the cache.
    pub file: String,
    /// The ggml file's SHA-256.
    pub sha256: String,
    /// The ggml file's size in bytes.
    pub size: u64,
    /// Where the CTranslate2 model comes from.
    pub source: Ct2Source,
}

/// A CTranslate2 model carried by PyPI wheels.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ct2Source {
    /// Wheel members that, concatenated in order, make `model.bin`.
    pub model_parts: Vec<String>,
    /// The joined `model.bin`'s SHA-256.
    pub model_sha256: String,
    /// The wheel member holding `vocabulary.txt`.
    pub vocabulary: String,
    /// Its SHA-256.
    pub vocabulary_sha256: String,
    /// The wheels to download.
    pub packages: Vec<WheelPackage>,
}

/// One PyPI wheel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WheelPackage {
    /// The distribution's name on PyPI.
    pub name: String,
    /// The pinned version.
    pub version: String,
    /// The wheel's file name.
    pub wheel: String,
    /// The wheel's SHA-256.
    pub sha256: String,
}

impl Manifest {
    /// Parses a manifest.
    pub fn parse(text: &str) -> Result<Self> {
        let manifest: Self = toml::from_str(text).map_err(|e| Error::Manifest(e.to_string()))?;
        for m in &manifest.models {
            let bad_name = m.file.contains('/') || m.file.contains("..") || m.file.is_empty();
            let bad_wheel = m.source.packages.iter().any(|p| p.wheel.contains('/'));
            if bad_name || bad_wheel {
                return Err(Error::Manifest(format!(
                    "model {}: file names must be plain",
                    m.name
                )));
            }
        }
        Ok(manifest)
    }

    /// The manifest compiled into this binary.
    pub fn builtin() -> Result<Self> {
        Self::parse(BUILTIN_MANIFEST)
    }

    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Result<&ModelEntry> {
        self.models.iter().find(|m| m.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.models.iter().map(|m| m.name.as_str()).collect();
            Error::Manifest(format!(
                "no model called {name:?} (known: {})",
                known.join(", ")
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_manifest_parses_and_pins_every_stage() {
        let m = Manifest::builtin().unwrap();
        let base = m.get(DEFAULT_MODEL).unwrap();
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        assert!(hex64(&base.sha256));
        assert!(hex64(&base.source.model_sha256));
        assert!(hex64(&base.source.vocabulary_sha256));
        assert_eq!(base.source.packages.len(), 2);
        assert!(base.source.packages.iter().all(|p| hex64(&p.sha256)));
        assert!(m.get("nonexistent").is_err());
    }

    #[test]
    fn refuses_path_like_file_names() {
        let text = BUILTIN_MANIFEST.replace("file = \"ggml-base.bin\"", "file = \"../evil\"");
        assert!(Manifest::parse(&text).is_err());
    }
}
