//! What the real-model test binaries share.

use std::path::{Path, PathBuf};

/// The Whisper model: `TOCKY_MODEL`, or the default cache. A missing model
/// fails the tests rather than skipping them.
pub(crate) fn model_path() -> PathBuf {
    if let Some(p) = std::env::var_os("TOCKY_MODEL") {
        return p.into();
    }
    let cache = tocky_models::default_cache_dir();
    tocky_models::resolve_model(tocky_models::DEFAULT_MODEL, &cache).unwrap_or_else(|e| {
        panic!("the real-model tests need the Whisper base model: {e}\nrun scripts/test, or `tocky model fetch`")
    })
}

/// A Vietnamese fixture clip (or its reference text).
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/vi")
        .join(name)
}
