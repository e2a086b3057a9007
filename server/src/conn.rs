//! The accept loop: connection caps (in all, and per address), a time
//! limit on reading a request's headers (which also closes idle keep-alive
//! connections), an idle timeout on connections that move no data, and a
//! graceful shutdown.
//!
//! A connection over a cap is closed at once, before anything is read. A
//! WebSocket keeps its connection's place until it closes.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::client::Cidr;
use crate::config::Limits;
use crate::login_limit::limit_key;

/// Open connections: a permit each, and a count per address.
#[derive(Clone)]
pub(crate) struct Connections {
    total: Arc<Semaphore>,
    capacity: u32,
    per_address: Arc<Mutex<HashMap<IpAddr, usize>>>,
    max_per_address: usize,
    exempt: Arc<[Cidr]>,
}

/// A connection's place, given back when the connection (or the WebSocket
/// it became) is dropped.
struct Place {
    _permit: OwnedSemaphorePermit,
    address: Option<IpAddr>,
    per_address: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some(address) = self.address {
            let mut counts = self
                .per_address
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(n) = counts.get_mut(&address) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(&address);
                }
            }
        }
    }
}

impl Connections {
    pub(crate) fn new(limits: &Limits, exempt: &[Cidr]) -> Self {
        let capacity = limits
            .max_connections
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        Self {
            total: Arc::new(Semaphore::new(capacity)),
            capacity: u32::try_from(capacity).unwrap_or(u32::MAX),
            per_address: Arc::new(Mutex::new(HashMap::new())),
            max_per_address: limits.max_connections_per_address.max(1),
            exempt: exempt.into(),
        }
    }

    /// A place for a connection from `peer`, or none when a cap is reached.
    fn admit(&self, peer: IpAddr) -> Option<Place> {
        let permit = Arc::clone(&self.total).try_acquire_owned().ok()?;
        let address = if self.exempt.iter().any(|c| c.contains(peer)) {
            None
        } else {
            let key = limit_key(peer);
            let mut counts = self
                .per_address
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let n = counts.entry(key).or_insert(0);
            if *n >= self.max_per_address {
                return None;
            }
            *n += 1;
            Some(key)
        };
        Some(Place {
            _permit: permit,
            address,
            per_address: Arc::clone(&self.per_address),
        })
    }

    /// Waits until every connection has closed, or `limit` has passed.
    async fn drained(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit, self.total.acquire_many(self.capacity)).await;
    }
}

/// A connection's clock of activity, in each request's extensions: a
/// handler that works long before it answers (a transcription) touches it,
/// so that the idle timeout, meant for clients that stall, does not close
/// the connection under a server that is busy for it.
#[derive(Clone)]
pub(crate) struct Activity {
    last: Arc<AtomicU64>,
    epoch: Instant,
}

impl Activity {
    /// Counts as a byte moved now.
    pub(crate) fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }
}

/// A TCP stream that notes when a byte last moved, and holds its place.
struct Tracked {
    inner: TcpStream,
    /// Milliseconds from `epoch` to the last byte read or written.
    last: Arc<AtomicU64>,
    epoch: Instant,
    _place: Place,
}

impl Tracked {
    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.touch();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.touch();
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Accepts connections until `stop` completes, then closes them
/// gracefully: idle ones at once, the others when their request is
/// answered; it waits for them up to `grace`.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    connections: Connections,
    closing: watch::Receiver<bool>,
    stop: impl std::future::Future<Output = ()>,
    grace: Duration,
) {
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment
                    // rather than spin.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Some(place) = connections.admit(peer.ip()) else {
            tracing::debug!("connection from {peer} refused: at the connection limit");
            continue;
        };
        tokio::spawn(connection(
            stream,
            peer,
            place,
            router.clone(),
            limits.clone(),
            closing.clone(),
        ));
    }
    drop(listener);
    connections.drained(grace).await;
}

/// Serves one connection.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    place: Place,
    router: Router,
    limits: Limits,
    mut closing: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let last = Arc::new(AtomicU64::new(0));
    let epoch = Instant::now();
    let io = TokioIo::new(Tracked {
        inner: stream,
        last: Arc::clone(&last),
        epoch,
        _place: place,
    });
    let activity = Activity {
        last: Arc::clone(&last),
        epoch,
    };
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(activity.clone());
        router.clone().oneshot(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout())
        .keep_alive(true);
    let conn = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    let idle = limits.idle_timeout();
    let mut shutting_down = *closing.borrow_and_update();
    if shutting_down {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let since = Duration::from_millis(last.load(Ordering::Relaxed));
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("connection from {peer}: {e}");
                }
                break;
            }
            () = tokio::time::sleep_until(epoch + since + idle) => {
                let since = Duration::from_millis(last.load(Ordering::Relaxed));
                if epoch.elapsed() >= since + idle {
                    tracing::debug!("connection from {peer} closed: idle");
                    break;
                }
            }
            _ = closing.changed(), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}
