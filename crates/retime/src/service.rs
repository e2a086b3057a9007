//! Re-timing in the background of the review server: woken after every
//! save that leaves words behind (and once at start, for what a crash or
//! a server without a model left), it re-times on its own thread, with its
//! own connection to the store, and sends each result to the session's
//! live pages as a `segment` message. Saves are answered before it starts,
//! and its thread (with the decoder threads it starts) runs at a lower
//! priority than the server's, so requests keep their latency while it works.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use tocky_server::AppState;
use tocky_server::live::{LiveEvent, LiveMessage};
use tocky_store::Store;
use tokio::task::JoinHandle;

use crate::Retimer;

/// How much lower than the server the re-timing thread runs (Unix `nice`).
const NICENESS: i32 = 10;

/// Runs `retimer` for `state`'s store until the server shuts down. The
/// returned task ends once the re-timing thread has finished its segment.
pub fn spawn(state: AppState, retimer: Arc<Retimer>) -> JoinHandle<()> {
    // One pending wake-up is enough: a pass takes every segment behind.
    let (wake, woken) = sync_channel::<()>(1);
    let worker_state = state.clone();
    let worker = std::thread::Builder::new()
        .name("retime".into())
        .spawn(move || work(&worker_state, &retimer, &woken));
    tokio::spawn(async move {
        let worker = match worker {
            Ok(worker) => worker,
            Err(e) => {
                tracing::error!("words will not be re-timed: no thread for it: {e}");
                return;
            }
        };
        let wanted = state.retime_wanted();
        let mut shutdown = state.shutdown_signal();
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
fn work(state: &AppState, retimer: &Retimer, woken: &Receiver<()>) {
    lower_priority();
    // What failed, by (segment, version): tried again only once edited.
    let mut skip = HashSet::new();
    while woken.recv().is_ok() {
        if let Err(e) = pass(state, retimer, &mut skip) {
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

fn pass(state: &AppState, retimer: &Retimer, skip: &mut HashSet<(i64, i64)>) -> crate::Result<()> {
    let mut store = Store::open(&state.config().db)?;
    let summary = retimer.retime_pending(&mut store, None, skip, |segment| {
        state.publish(LiveEvent::new(
            segment.session_id,
            &LiveMessage::Segment { segment },
        ));
    })?;
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
