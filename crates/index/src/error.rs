//! The one error type of this crate.

/// Why indexing or searching failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// tantivy failed.
    #[error("search index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The index directory could not be opened.
    #[error("search index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    /// The store failed while the index was being built from it.
    #[error(transparent)]
    Store(#[from] tocky_store::Error),
    /// A file operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The index directory holds something that is not part of an index,
    /// so it is not cleared to start a new index there.
    #[error(
        "{}: not a search index directory (it holds {}); refusing to clear it",
        dir.display(),
        found.display()
    )]
    NotAnIndex {
        /// The directory.
        dir: std::path::PathBuf,
        /// The first entry that is not an index's.
        found: std::path::PathBuf,
    },
    /// A search that cannot be run.
    #[error("invalid search: {0}")]
    InvalidQuery(String),
}

impl Error {
    /// Whether another process holds the index open for writing (a running
    /// `tocky serve` or `tocky live`).
    pub fn is_locked(&self) -> bool {
        matches!(
            self,
            Self::Tantivy(tantivy::TantivyError::LockFailure(
                tantivy::directory::error::LockError::LockBusy,
                _
            ))
        )
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
