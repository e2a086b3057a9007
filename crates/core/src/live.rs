//! What a live sitting reports while it runs: partial text, stored
//! segments, latencies, speed and capture health.
//!
//! The trait lives here, below both sides, so that the live pipeline
//! (`tocky-live`) reports without knowing the review server, and the
//! server implements it without depending on the pipeline (and so on the
//! model and the sound card).

/// Text that live recognition has not finalised yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialText<'a> {
    /// The audio channel (the hall's number).
    pub channel: u32,
    /// The channel's speaker in the record, if the hall map names one.
    pub speaker_id: Option<i64>,
    /// Where the utterance started, in stream time (ms).
    pub start_ms: u64,
    /// The text so far: committed words, then tentative ones.
    pub text: &'a str,
}

/// How capture is keeping up, reported about twice a second and once at
/// the end.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CaptureHealth {
    /// How full the source's ring is (0–1).
    pub ring_fill: f64,
    /// Audio callbacks whose samples did not all fit in the ring, so far.
    pub overruns: u64,
    /// Gaps in the audio (overruns, lost devices), so far.
    pub gaps: u64,
    /// Audio lost in gaps, so far (seconds).
    pub missing_seconds: f64,
}

/// Whoever watches and measures a live sitting (the review server: its
/// WebSocket and its metrics). `S` is a segment as the record stores it
/// (`tocky_store::StoredSegment`), a type this crate does not know.
///
/// The recognition threads of every channel call it at once, so it is
/// `Sync`, and its calls must be quick: they sit between decodes.
pub trait LiveOutput<S>: Sync {
    /// A channel's open utterance has new partial text.
    fn partial(&self, session_id: i64, partial: &PartialText<'_>);
    /// A final was stored (and indexed): the segment as the record holds it.
    fn segment(&self, session_id: i64, segment: &S);
    /// The first partial of an utterance came this long after its start's
    /// audio arrived.
    fn first_partial_latency(&self, channel: u32, seconds: f64);
    /// A final was stored this long after its end's audio arrived.
    fn final_latency(&self, channel: u32, seconds: f64);
    /// A channel recognised another block: its real-time factor so far
    /// and the block's length.
    fn channel_progress(&self, channel: u32, realtime_factor: f64, audio_seconds: f64);
    /// The capture's health.
    fn capture(&self, health: &CaptureHealth);
}

/// Nobody watching: everything reported is dropped (a sitting recorded
/// without a server, tests of the record alone).
impl<S> LiveOutput<S> for () {
    fn partial(&self, _: i64, _: &PartialText<'_>) {}
    fn segment(&self, _: i64, _: &S) {}
    fn first_partial_latency(&self, _: u32, _: f64) {}
    fn final_latency(&self, _: u32, _: f64) {}
    fn channel_progress(&self, _: u32, _: f64, _: f64) {}
    fn capture(&self, _: &CaptureHealth) {}
}
