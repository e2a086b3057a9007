//! Prometheus metrics: requests by route and status, their latency, live
//! clients, edits and failed logins. `GET /metrics` renders them.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

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
        Self {
            inner: Arc::new(Inner {
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

/// Middleware: counts and times every routed request.
pub(crate) async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
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

/// `GET /metrics`.
pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics().render(),
    )
}
