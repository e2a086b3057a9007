//! What the store's tests share: transcripts to ingest (from
//! tocky-test-support, under the names these tests use) and stores to open.

#![allow(
    dead_code,
    unreachable_pub,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::path::Path;

use tocky_store::Store;
/// A transcript of one segment per text, 5 s apart and 4 s long, each with
/// one placeholder word; `sha_byte` makes its audio's SHA-256.
pub use tocky_test_support::placeholder_doc as doc;
/// Like [`doc`], but each segment's words are its text's words, 500 ms
/// each from its start, so that the words follow the text.
pub use tocky_test_support::timed_doc;

/// The store `tocky.db` in `dir`.
pub fn open(dir: &Path) -> Store {
    Store::open(&dir.join("tocky.db")).unwrap()
}
