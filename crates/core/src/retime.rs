//! What re-timing in the background reports: each segment whose words it
//! saved, and what each pass did.
//!
//! The trait lives here, below both sides, so that the re-timing service
//! (`tocky-retime`) reports without knowing the review server, and the
//! server implements it (its live channel and its metrics) without
//! depending on the model.

/// How many segments a pass re-timed, found changed, or could not do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Words saved.
    pub saved: usize,
    /// Changed meanwhile (re-timed again later).
    pub changed: usize,
    /// Failed (no audio, undecodable audio, alignment error).
    pub failed: usize,
}

/// Whoever watches re-timing (the review server: its WebSocket and its
/// metrics). `S` is a segment as the record stores it
/// (`tocky_store::StoredSegment`), a type this crate does not know.
///
/// The re-timing thread calls it between alignments, so its calls must be
/// quick.
pub trait RetimeOutput<S>: Send + Sync {
    /// A segment's words were saved: the segment as the record holds it now.
    fn retimed(&self, segment: &S);
    /// A pass over the segments left behind ended, having done `summary`
    /// (all zero when nothing was behind).
    fn pass(&self, summary: &Summary);
}

/// Nobody watching: everything reported is dropped (`tocky realign`,
/// tests of the re-timer alone).
impl<S> RetimeOutput<S> for () {
    fn retimed(&self, _: &S) {}
    fn pass(&self, _: &Summary) {}
}
