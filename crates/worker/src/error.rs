//! The one error type of this crate.

/// Why a worker could not do something.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The job's lease is no longer this worker's: the job was cancelled,
    /// finished, or taken again after the lease expired. The worker stops
    /// the job and reports nothing more about it.
    #[error("job {0}: the lease was lost (the job was cancelled or taken by another worker)")]
    LeaseLost(i64),
    /// The record refused or failed.
    #[error(transparent)]
    Store(#[from] tocky_store::Error),
    /// The server could not be reached, or answered with an error.
    #[error("{0}")]
    Server(String),
    /// The server answered something that is not its protocol.
    #[error("the server's answer does not parse: {0}")]
    Protocol(String),
    /// The job's audio cannot be had (missing on the server, refused).
    #[error("job {job}: its audio: {reason}")]
    Audio {
        /// The job.
        job: i64,
        /// Why.
        reason: String,
    },
    /// A local file (the audio cache, a checkpoint) could not be read or
    /// written.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A checkpoint handed back by the queue is not one of ours.
    #[error("the job's checkpoint is not usable: {0}")]
    Checkpoint(String),
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A local file error.
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }
}
