//! What the pipelines below the server report to it: a live sitting
//! ([`LiveOutput`]) and re-timing in the background ([`RetimeOutput`]).
//! Both traits are tocky-core's, so that the pipelines do not depend on
//! the server, nor the server on them; [`AppState`] implements them by
//! publishing on the live channel and counting in the metrics.

use tocky_core::live::{CaptureHealth, LiveOutput, PartialText};
use tocky_core::retime::{RetimeOutput, Summary};
use tocky_store::StoredSegment;

use crate::events::{LiveEvent, LiveMessage};
use crate::state::AppState;

/// The review server watches live sittings (`tocky live` hands its
/// state to `tocky_live::run`): partials and stored finals go to the
/// session's WebSocket watchers, latencies, speed and capture health to
/// `/metrics`. The trait is tocky-core's, so that the live pipeline does
/// not depend on the server, nor the server on the pipeline.
impl LiveOutput<StoredSegment> for AppState {
    fn partial(&self, session_id: i64, partial: &PartialText<'_>) {
        self.publish(LiveEvent::new(
            session_id,
            &LiveMessage::Partial {
                channel: partial.channel,
                speaker_id: partial.speaker_id,
                start_ms: i64::try_from(partial.start_ms).unwrap_or(i64::MAX),
                text: partial.text,
            },
        ));
    }

    fn segment(&self, session_id: i64, segment: &StoredSegment) {
        self.publish(LiveEvent::new(
            session_id,
            &LiveMessage::Segment { segment },
        ));
    }

    fn first_partial_latency(&self, channel: u32, seconds: f64) {
        self.metrics()
            .live()
            .first_partial_latency(channel, seconds);
    }

    fn final_latency(&self, channel: u32, seconds: f64) {
        self.metrics().live().final_latency(channel, seconds);
    }

    fn channel_progress(&self, channel: u32, realtime_factor: f64, audio_seconds: f64) {
        self.metrics()
            .live()
            .channel_progress(channel, realtime_factor, audio_seconds);
    }

    fn capture(&self, health: &CaptureHealth) {
        self.metrics().live().capture(
            health.ring_fill,
            health.overruns,
            health.gaps,
            health.missing_seconds,
        );
    }
}

/// The review server watches re-timing (`tocky serve` hands its state to
/// `tocky_retime::service::spawn`): each segment re-timed goes to the
/// session's WebSocket watchers, each pass's counts to `/metrics`.
impl RetimeOutput<StoredSegment> for AppState {
    fn retimed(&self, segment: &StoredSegment) {
        self.publish(LiveEvent::new(
            segment.session_id,
            &LiveMessage::Segment { segment },
        ));
    }

    fn pass(&self, summary: &Summary) {
        self.metrics().retimed(summary);
    }
}
