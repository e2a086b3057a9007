//! Recognition on request's bounds and measures: the recogniser the server
//! was handed with its places ([`Recognition`]: one runs, [`MAX_WAITING`]
//! wait) and its metrics ([`RecognitionMetrics`]). A leaf, which the state
//! and the metric registry hold; the route is in `recognise`.

use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tocky_core::recognise::Recognise;
use tocky_store::Session;
use tokio::sync::Semaphore;

/// Requests that may wait while one recognition runs; more get a 503.
pub const MAX_WAITING: usize = 2;

/// How a recognition on request ended, as `/metrics` counts it (requests
/// refused for their range or role are not recognitions).
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)] // the label values, as Prometheus shows them
pub(crate) enum Outcome {
    /// Heard, answered.
    ok,
    /// Too many at once: 503.
    busy,
    /// No model loaded: 409.
    no_model,
    /// The session's audio could not be read: 409.
    no_audio,
    /// The model (or its task) failed: 500.
    error,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: Outcome,
}

/// Recognition on request in `/metrics`: how many, by outcome, and how
/// long the model took for each that ran.
#[derive(Clone)]
pub(crate) struct RecognitionMetrics {
    outcomes: Family<OutcomeLabels, Counter>,
    duration: Histogram,
}

impl RecognitionMetrics {
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            outcomes: Family::default(),
            // 0.1 s to about 45 s: a 30 s stretch takes seconds on two cores.
            duration: Histogram::new(exponential_buckets(0.1, 1.6, 14)),
        };
        registry.register(
            "recognitions",
            "Recognitions on request (POST /api/sessions/{id}/recognise), by outcome",
            metrics.outcomes.clone(),
        );
        registry.register(
            "recognition_duration_seconds",
            "Time the model took for a recognition on request",
            metrics.duration.clone(),
        );
        metrics
    }

    /// Records how long the model took for a recognition that ran.
    pub(crate) fn took(&self, seconds: f64) {
        self.duration.observe(seconds);
    }

    /// Counts a recognition that ended with `outcome`.
    pub(crate) fn count(&self, outcome: Outcome) {
        self.outcomes
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }
}

/// A recogniser with its bounds: one runs, [`MAX_WAITING`] wait.
pub(crate) struct Recognition {
    pub(crate) recogniser: Arc<dyn Recognise<Session>>,
    /// Places for requests running or waiting (`1 + MAX_WAITING`).
    pub(crate) admitted: Arc<Semaphore>,
    /// The one place on the model.
    pub(crate) running: Arc<Semaphore>,
}

impl Recognition {
    pub(crate) fn new(recogniser: Arc<dyn Recognise<Session>>) -> Self {
        Self {
            recogniser,
            admitted: Arc::new(Semaphore::new(1 + MAX_WAITING)),
            running: Arc::new(Semaphore::new(1)),
        }
    }
}
