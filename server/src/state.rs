//! What every request shares: the configuration, the store, the search
//! index, the live-update channel, the metrics and the limiters.
//!
//! Everything here is a leaf module's (none depends on this one nor on a
//! handler), and middleware that needs only one part takes it as an axum
//! substate ([`FromRef`]): the metric registry, the request limiter, the
//! trusted proxies.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::extract::FromRef;
use tocky_core::recognise::Recognise;
use tocky_index::SearchIndex;
use tocky_store::{Session, Store};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, broadcast, watch};

use crate::client::{Cidr, TrustedProxies};
use crate::config::ServerConfig;
use crate::error::{ApiError, Error};
use crate::events::{LiveEvent, Revocation};
use crate::hashing::{HashPool, HashSlot};
use crate::login_limit::LoginLimiter;
use crate::metrics::Metrics;
use crate::rate::{ClientLimiter, LiveSeats};
use crate::recognition::Recognition;

/// How many idle store connections are kept for reuse.
const MAX_IDLE_CONNECTIONS: usize = 8;
/// Live events buffered per client before it is told to resynchronise.
const LIVE_BUFFER: usize = 1024;

/// The state behind the router; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: ServerConfig,
    /// Idle connections: SQLite connections are not `Sync`, so each
    /// blocking task takes one (opening another when none is idle).
    idle: Mutex<Vec<Store>>,
    index: SearchIndex,
    live: broadcast::Sender<LiveEvent>,
    /// One permit per live client allowed: taken before the WebSocket
    /// upgrade, so that handshakes in flight count too.
    live_clients: Arc<Semaphore>,
    /// Live clients per client (account or address).
    live_seats: LiveSeats,
    /// Logins that ended or accounts that changed, for live sockets.
    revocations: broadcast::Sender<Revocation>,
    shutdown: watch::Sender<bool>,
    trusted_proxies: TrustedProxies,
    hashes: HashPool,
    metrics: Metrics,
    login_limiter: LoginLimiter,
    client_limiter: ClientLimiter,
    /// Woken when a saved segment's words no longer follow its text or
    /// bounds, for whoever re-times them (`tocky serve` with a model).
    retime_wanted: Arc<Notify>,
    /// Recognition on request, once `tocky serve` has loaded a model.
    recognition: OnceLock<Recognition>,
    /// Whole files on `/v1/audio/transcriptions`, once `tocky serve` has
    /// loaded a model.
    transcription: OnceLock<crate::openai::Transcription>,
}

impl AppState {
    /// Opens the store and the search index (rebuilding the index when it
    /// is stale, corrupt or missing).
    pub fn new(config: ServerConfig) -> Result<Self, Error> {
        config.validate()?;
        let mut store = Store::open(&config.db)?;
        store.set_written(config.record.written_options());
        let (index, rebuilt) = SearchIndex::open_synced(&config.index_dir(), &store)?;
        if rebuilt {
            tracing::info!(
                "search index rebuilt from the store ({} segments)",
                index.len()
            );
        }
        let (live, _) = broadcast::channel(LIVE_BUFFER);
        // `Semaphore::new` panics above its maximum; no server has that many.
        let live_clients = Arc::new(Semaphore::new(
            config.limits.ws_max_clients.min(Semaphore::MAX_PERMITS),
        ));
        let (shutdown, _) = watch::channel(false);
        let (revocations, _) = broadcast::channel(LIVE_BUFFER);
        let trusted_proxies = TrustedProxies(config.proxies()?.into());
        let hashes = HashPool::new(config.limits.login_max_concurrent_hashes);
        let live_seats = LiveSeats::new(config.limits.ws_max_clients_per_client);
        let login_limiter = LoginLimiter::new(&config.limits);
        let client_limiter = ClientLimiter::new(&config.limits);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                idle: Mutex::new(vec![store]),
                index,
                live,
                live_clients,
                live_seats,
                revocations,
                shutdown,
                trusted_proxies,
                hashes,
                metrics: Metrics::new(),
                login_limiter,
                client_limiter,
                retime_wanted: Arc::new(Notify::new()),
                recognition: OnceLock::new(),
                transcription: OnceLock::new(),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// The search index.
    pub fn index(&self) -> &SearchIndex {
        &self.inner.index
    }

    /// What a re-timer waits on: notified after every save that leaves a
    /// segment's words behind its text or bounds. A notification sent
    /// while nobody waits is kept (one), so none is lost between checks.
    pub fn retime_wanted(&self) -> Arc<Notify> {
        Arc::clone(&self.inner.retime_wanted)
    }

    /// Lets stenographers ask for the speech in a stretch of audio
    /// (`POST /api/sessions/{id}/recognise`) with `recogniser`, usually the
    /// re-timer's model. Set once, at start; a second call is refused
    /// (returns false) so that the model never changes under a request.
    pub fn set_recogniser(&self, recogniser: Arc<dyn Recognise<Session>>) -> bool {
        self.inner
            .recognition
            .set(Recognition::new(recogniser))
            .is_ok()
    }

    pub(crate) fn recognition(&self) -> Option<&Recognition> {
        self.inner.recognition.get()
    }

    /// Lets API-key clients transcribe whole files
    /// (`POST /v1/audio/transcriptions`) with `transcriber`. Set once, at
    /// start; a second call is refused (returns false).
    pub fn set_transcriber(
        &self,
        transcriber: std::sync::Arc<dyn tocky_core::transcribe::TranscribeAudio>,
    ) -> bool {
        self.inner
            .transcription
            .set(crate::openai::Transcription::new(transcriber))
            .is_ok()
    }

    pub(crate) fn transcription(&self) -> Option<&crate::openai::Transcription> {
        self.inner.transcription.get()
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub(crate) fn login_limiter(&self) -> &LoginLimiter {
        &self.inner.login_limiter
    }

    /// The proxies whose forwarded addresses are believed.
    pub(crate) fn trusted_proxies(&self) -> &[Cidr] {
        &self.inner.trusted_proxies.0
    }

    /// A place to compute a password hash, or none when
    /// `limits.login_max_concurrent_hashes` are being computed (and, for a
    /// `known` client, the reserved place too).
    pub(crate) fn hash_slot(&self, known: bool) -> Result<HashSlot, ApiError> {
        self.inner
            .hashes
            .try_slot(known)
            .ok_or_else(|| ApiError::Busy {
                reason: "too many logins at once".into(),
                retry_after: 1,
            })
    }

    pub(crate) fn live_seats(&self) -> &LiveSeats {
        &self.inner.live_seats
    }

    /// Tells live sockets that a login ended or an account changed, so
    /// that those it concerns check their login again.
    pub(crate) fn revoke(&self, revocation: Revocation) {
        // No receivers is not an error: nobody is watching.
        let _ = self.inner.revocations.send(revocation);
    }

    pub(crate) fn revocations(&self) -> broadcast::Receiver<Revocation> {
        self.inner.revocations.subscribe()
    }

    /// Sends an event to the live clients watching its session.
    pub fn publish(&self, event: LiveEvent) {
        // No receivers is not an error: nobody is watching.
        let _ = self.inner.live.send(event);
    }

    /// Every live event from now on, of every session (the live route
    /// filters them per client; in-process consumers and tests read them whole).
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.inner.live.subscribe()
    }

    /// A place for one more live client, held until the permit drops; none
    /// when `limits.ws_max_clients` are connected or connecting.
    pub(crate) fn live_client_permit(&self) -> Option<OwnedSemaphorePermit> {
        // The semaphore is never closed: no permit means a full house.
        Arc::clone(&self.inner.live_clients)
            .try_acquire_owned()
            .ok()
    }

    /// Tells long-lived connections (WebSockets) to close.
    pub fn begin_shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// Becomes true when the server begins to shut down, for background
    /// work that must stop with it.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    /// Runs `f` with a store connection (and the index) on the blocking
    /// pool, so that SQLite and tantivy never stall the async workers.
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store, &SearchIndex) -> Result<T, ApiError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let taken = inner
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let mut store = match taken {
                Some(store) => store,
                None => {
                    // Every connection writes the record by the configured rules.
                    let mut store = Store::open(&inner.config.db)?;
                    store.set_written(inner.config.record.written_options());
                    store
                }
            };
            let result = f(&mut store, &inner.index);
            let mut idle = inner.idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < MAX_IDLE_CONNECTIONS {
                idle.push(store);
            }
            result
        })
        .await
        .map_err(ApiError::internal)?
    }
}

/// `metrics::track` counts requests with the registry alone.
impl FromRef<AppState> for Metrics {
    fn from_ref(state: &AppState) -> Self {
        state.inner.metrics.clone()
    }
}

/// `rate::limit` checks a client's rate with the limiter alone.
impl FromRef<AppState> for ClientLimiter {
    fn from_ref(state: &AppState) -> Self {
        state.inner.client_limiter.clone()
    }
}

/// `client::identify` names the client with the trusted proxies alone.
impl FromRef<AppState> for TrustedProxies {
    fn from_ref(state: &AppState) -> Self {
        state.inner.trusted_proxies.clone()
    }
}
