//! Fixtures shared by the workspace's tests, so that each crate's tests
//! build the same record the same way instead of keeping a copy: transcript
//! documents, ingest to a session id, registry persons, a session taken
//! through review to published, and one full sitting (speakers linked to
//! the registry, agenda items, scene notes).
//!
//! Test code: it panics with a clear message on failure (the tests want a
//! failed fixture to stop them), so `expect` is allowed here. Used only as
//! a dev-dependency.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod document;
mod sitting;

pub use document::{DocOptions, Words, doc, document, placeholder_doc, timed_doc};
pub use sitting::{
    FullSitting, Publish, SITTING_TEXTS, full_sitting, ingest, person, publish, publish_with,
    review_all,
};
