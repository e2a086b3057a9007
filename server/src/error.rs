//! The one error type of this crate.

/// Why the server stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listener failed.
    #[error("serving HTTP failed: {0}")]
    Serve(#[source] std::io::Error),
}
