//! Re-timing in the background of the review server: woken after every
//! save that leaves words behind (and once at start, for what a crash or
//! a server without a model left), it re-times on its own thread, with its
//! own connection to the store, and reports each result to its
//! [`RetimeOutput`] (the review server sends it to the session's live pages
//! as a `segment` message). Saves are answered before it starts,
//! and its thread (with the decoder threads it starts) runs at a lower
//! priority than the server's, so requests keep their latency while it works.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use tocky_core::retime::RetimeOutput;
use tocky_store::{Store, StoredSegment};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::Retimer;

/// How much lower than the server the re-timing thread runs (Unix `nice`).
const NICENESS: i32 = 10;

/// What the service works with: the review server's store, its signals,
/// and where results go (the server's state implements [`RetimeOutput`]).
pub struct Service<O> {
    /// The store's database file; the service opens its own connection.
    pub db: PathBuf,
    /// Notified after every save that leaves a segment's words behind.
    pub wanted: Arc<Notify>,
    /// Becomes true when the server begins to shut down.
    pub shutdown: watch::Receiver<bool>,
    /// Told of each segment re-timed and of each pass.
    pub output: O,
}

/// Runs `retimer` for `service`'s store until the server shuts down. The
/// returned task ends once the re-timing thread has finished its segment.
pub fn spawn<O>(service: Service<O>, retimer: Arc<Retimer>) -> JoinHandle<()>
where
    O: RetimeOutput<StoredSegment> + 'static,
{
    let Service {
        db,
        wanted,
        mut shutdown,
        output,
    } = service;
    // One pending wake-up is enough: a pass takes every segment behind.
    let (wake, woken) = sync_channel::<()>(1);
    let worker = std::thread::Builder::new()
        .name("retime".into())
        .spawn(move || work(&db, &output, &retimer, &woken));
    tokio::spawn(async move {
        let worker = match worker {
            Ok(worker) => worker,
            Err(e) => {
                tracing::error!("words will not be re-timed: no thread for it: {e}");
                return;
            }
        };
        nudge(&wake);
        loop {
            tokio::select! {
                () = wanted.notified() => nudge(&wake),
                _ = shutdown.wait_for(|stopping| *stopping) => break,
            }
        }
        drop(wake);
        let _ = tokio::task::spawn_blocking(move || worker.join()).await;
    })
}

fn nudge(wake: &SyncSender<()>) {
    match wake.try_send(()) {
        Ok(()) | Err(TrySendError::Full(())) => {}
        Err(TrySendError::Disconnected(())) => tracing::error!("the re-timing thread has stopped"),
    }
}

/// The re-timing thread: a pass per wake-up, until the channel closes.
fn work(
    db: &std::path::Path,
    output: &dyn RetimeOutput<StoredSegment>,
    retimer: &Retimer,
    woken: &Receiver<()>,
) {
    lower_priority();
    // What failed, by (segment, version): tried again only once edited.
    let mut skip = HashSet::new();
    while woken.recv().is_ok() {
        if let Err(e) = pass(db, output, retimer, &mut skip) {
            tracing::error!("re-timing stopped for this pass: {e}");
        }
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // Linux's nice value is per thread, and threads this one starts (the
    // decoder's) inherit it.
    let tid = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(tid), NICENESS) {
        tracing::warn!("re-timing runs at the server's priority: {e}");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

fn pass(
    db: &std::path::Path,
    output: &dyn RetimeOutput<StoredSegment>,
    retimer: &Retimer,
    skip: &mut HashSet<(i64, i64)>,
) -> crate::Result<()> {
    let mut store = Store::open(db)?;
    let summary = retimer.retime_pending(&mut store, None, skip, |segment| {
        output.retimed(segment);
    })?;
    output.pass(&summary);
    if summary != crate::Summary::default() {
        tracing::info!(
            "re-timed {} segments ({} changed meanwhile, {} failed)",
            summary.saved,
            summary.changed,
            summary.failed
        );
    }
    Ok(())
}
