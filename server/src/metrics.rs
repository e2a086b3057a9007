//! Prometheus metrics: requests by route and status, their latency, live
//! clients, edits and failed logins, live recognition's latencies, speed
//! and capture health ([`LiveMetrics`]), and recognitions on request
//! ([`RecognitionMetrics`](crate::recognise::RecognitionMetrics)). `GET /metrics` renders them.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tocky_store::Role;

use crate::auth::{self, same_secret};
use crate::error::ApiError;
use crate::recognise::RecognitionMetrics;
use crate::state::AppState;

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
        let recognitions = RecognitionMetrics::register(&mut registry);
        Self {
            inner: Arc::new(Inner {
                live,
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
pub(crate) async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method()).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let m = &state.metrics().inner;
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

/// The token of an `Authorization: Bearer <token>` header (the scheme's
/// case does not matter, RFC 9110 §11.1).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim_start_matches(' '))
}

/// Whether this request may read the metrics: anyone when no
/// `metrics_token` is set; else the token's bearer or a logged-in admin
/// (401 for anyone else not logged in, 403 for an account below admin).
async fn may_read(state: &AppState, jar: &CookieJar, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = state.config().metrics_token.as_deref() else {
        return Ok(());
    };
    if bearer_token(headers).is_some_and(|sent| same_secret(sent, expected)) {
        return Ok(());
    }
    auth::viewer(state, jar).await?.require(Role::Admin)?;
    Ok(())
}

/// `GET /metrics`.
pub(crate) async fn metrics(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = may_read(&state, &jar, &headers).await {
        let unauthorized = matches!(e, ApiError::Unauthorized);
        let mut response = e.into_response();
        if unauthorized {
            // RFC 9110: a 401 names the scheme that would be accepted.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tocky metrics\""),
            );
        }
        return response;
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics().render(),
    )
        .into_response()
}
