//! Prometheus metrics: requests by route and status, their latency, live
//! clients, edits and failed logins, live recognition's latencies, speed
//! and capture health ([`LiveMetrics`]), segments re-timed in the
//! background, and recognitions on request
//! (`recognition::RecognitionMetrics`).
//!
//! A leaf: the registry knows no handler and not the server's state, and
//! the middleware `track` takes only the registry (an axum substate).
//! `GET /metrics` (who may read them) is in `scrape`.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tocky_core::retime::Summary;

use crate::recognition::RecognitionMetrics;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// What re-timing did with a segment.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)] // the label values, as Prometheus shows them
enum RetimeOutcome {
    /// Its words were saved.
    saved,
    /// It changed while it was aligned (taken again at its new version).
    changed,
    /// No audio, undecodable audio or an alignment error.
    failed,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RetimeLabels {
    outcome: RetimeOutcome,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: u32,
}

/// Live recognition's metrics, by audio channel.
#[derive(Clone)]
pub struct LiveMetrics {
    final_latency: Family<ChannelLabels, Histogram>,
    first_partial_latency: Family<ChannelLabels, Histogram>,
    realtime_factor: Family<ChannelLabels, Gauge<f64, AtomicU64>>,
    audio_seconds: Family<ChannelLabels, Counter<f64, AtomicU64>>,
    ring_fill: Gauge<f64, AtomicU64>,
    overruns: Counter,
    gaps: Counter,
    missing_seconds: Counter<f64, AtomicU64>,
}

impl LiveMetrics {
    fn register(registry: &mut Registry) -> Self {
        let latency = || Histogram::new(exponential_buckets(0.05, 1.5, 14));
        let live = Self {
            final_latency: Family::new_with_constructor(latency),
            first_partial_latency: Family::new_with_constructor(latency),
            realtime_factor: Family::default(),
            audio_seconds: Family::default(),
            ring_fill: Gauge::default(),
            overruns: Counter::default(),
            gaps: Counter::default(),
            missing_seconds: Counter::default(),
        };
        registry.register(
            "live_final_latency_seconds",
            "From the end of an utterance to its final text",
            live.final_latency.clone(),
        );
        registry.register(
            "live_first_partial_latency_seconds",
            "From the start of speech to its first partial text",
            live.first_partial_latency.clone(),
        );
        registry.register(
            "live_realtime_factor",
            "Audio seconds recognised per wall second spent recognising",
            live.realtime_factor.clone(),
        );
        registry.register(
            "live_audio_seconds",
            "Audio recognised",
            live.audio_seconds.clone(),
        );
        registry.register(
            "live_ring_fill_ratio",
            "How full the capture ring buffer is (0 to 1)",
            live.ring_fill.clone(),
        );
        registry.register(
            "live_overruns",
            "Audio callbacks whose samples did not fit in the ring",
            live.overruns.clone(),
        );
        registry.register(
            "live_gaps",
            "Gaps in the captured audio (overruns, lost devices)",
            live.gaps.clone(),
        );
        registry.register(
            "live_missing_audio_seconds",
            "Audio lost in gaps",
            live.missing_seconds.clone(),
        );
        live
    }

    /// Records the time from the end of an utterance to its final text.
    pub fn final_latency(&self, channel: u32, seconds: f64) {
        self.final_latency
            .get_or_create(&ChannelLabels { channel })
            .observe(seconds);
    }

    /// Records the time from the start of speech to its first partial.
    pub fn first_partial_latency(&self, channel: u32, seconds: f64) {
        self.first_partial_latency
            .get_or_create(&ChannelLabels { channel })
            .observe(seconds);
    }

    /// Sets a channel's real-time factor and adds the audio it recognised.
    pub fn channel_progress(&self, channel: u32, realtime_factor: f64, audio_seconds: f64) {
        let labels = ChannelLabels { channel };
        self.realtime_factor
            .get_or_create(&labels)
            .set(realtime_factor);
        self.audio_seconds
            .get_or_create(&labels)
            .inc_by(audio_seconds);
    }

    /// Sets the capture's ring fill and brings the overrun and gap counters
    /// up to the source's totals.
    pub fn capture(&self, ring_fill: f64, overruns: u64, gaps: u64, missing_seconds: f64) {
        self.ring_fill.set(ring_fill);
        self.overruns
            .inc_by(overruns.saturating_sub(self.overruns.get()));
        self.gaps.inc_by(gaps.saturating_sub(self.gaps.get()));
        let more = missing_seconds - self.missing_seconds.get();
        if more > 0.0 {
            self.missing_seconds.inc_by(more);
        }
    }
}

/// The server's metrics; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    ws_clients: Gauge,
    edits: Counter,
    logins_failed: Counter<u64, AtomicU64>,
    live: LiveMetrics,
    retimed: Family<RetimeLabels, Counter>,
    recognitions: RecognitionMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tocky");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let ws_clients = Gauge::default();
        let edits = Counter::default();
        let logins_failed = Counter::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to produce a response",
            latency.clone(),
        );
        registry.register(
            "live_clients",
            "WebSocket clients connected",
            ws_clients.clone(),
        );
        registry.register("segment_edits", "Segment edits saved", edits.clone());
        registry.register(
            "logins_failed",
            "Failed login attempts",
            logins_failed.clone(),
        );
        let live = LiveMetrics::register(&mut registry);
        let retimed = Family::<RetimeLabels, Counter>::default();
        registry.register(
            "retimed_segments",
            "Segments re-timed in the background after corrections, by outcome",
            retimed.clone(),
        );
        let recognitions = RecognitionMetrics::register(&mut registry);
        Self {
            inner: Arc::new(Inner {
                live,
                retimed,
                recognitions,
                registry,
                requests,
                latency,
                ws_clients,
                edits,
                logins_failed,
            }),
        }
    }

    /// Every metric, in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.inner.registry);
        out
    }

    /// Counts a saved edit.
    pub fn edit_saved(&self) {
        self.inner.edits.inc();
    }

    /// Counts a failed login.
    pub fn login_failed(&self) {
        self.inner.logins_failed.inc();
    }

    /// Live recognition's metrics.
    pub fn live(&self) -> &LiveMetrics {
        &self.inner.live
    }

    /// Counts what a re-timing pass did.
    pub fn retimed(&self, summary: &Summary) {
        for (outcome, n) in [
            (RetimeOutcome::saved, summary.saved),
            (RetimeOutcome::changed, summary.changed),
            (RetimeOutcome::failed, summary.failed),
        ] {
            self.inner
                .retimed
                .get_or_create(&RetimeLabels { outcome })
                .inc_by(n as u64);
        }
    }

    /// Recognition on request's metrics.
    pub(crate) fn recognitions(&self) -> &RecognitionMetrics {
        &self.inner.recognitions
    }

    /// WebSocket clients connected now.
    pub fn ws_clients(&self) -> i64 {
        self.inner.ws_clients.get()
    }

    /// Counts a WebSocket client for as long as the guard lives.
    pub(crate) fn ws_client(&self) -> WsClientGuard {
        self.inner.ws_clients.inc();
        WsClientGuard(self.inner.ws_clients.clone())
    }
}

/// Decrements the live-client gauge when dropped.
pub(crate) struct WsClientGuard(Gauge);

impl Drop for WsClientGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A request's method as a label: the standard ones by name, anything else
/// (clients may send any token) as `OTHER`, so that a client cannot grow
/// the registry without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// Middleware: counts and times every routed request.
pub(crate) async fn track(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method()).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let m = &metrics.inner;
    m.latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    m.requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
