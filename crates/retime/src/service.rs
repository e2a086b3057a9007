//! Re-timing in the background of the review server: woken after every
//! save that leaves words behind (and once at start, for what a crash or
//! a server without a model left), it re-times on one blocking thread with
//! its own connection to the store, and sends each result to the
//! session's live pages as a `segment` message. Saves are answered before
//! it starts, so it never holds up a request.

use std::collections::HashSet;
use std::sync::Arc;

use tocky_server::AppState;
use tocky_server::live::{LiveEvent, LiveMessage};
use tocky_store::Store;
use tokio::task::JoinHandle;

use crate::Retimer;

/// Runs `retimer` for `state`'s store until the server shuts down.
pub fn spawn(state: AppState, retimer: Arc<Retimer>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let wanted = state.retime_wanted();
        let mut shutdown = state.shutdown_signal();
        // What failed, by (segment, version): tried again only once edited.
        let mut skip = HashSet::new();
        loop {
            let job_state = state.clone();
            let job_retimer = Arc::clone(&retimer);
            let mut job_skip = std::mem::take(&mut skip);
            let pass = tokio::task::spawn_blocking(move || {
                let result = pass(&job_state, &job_retimer, &mut job_skip);
                (result, job_skip)
            })
            .await;
            match pass {
                Ok((result, kept)) => {
                    skip = kept;
                    if let Err(e) = result {
                        tracing::error!("re-timing stopped for this pass: {e}");
                    }
                }
                Err(e) => tracing::error!("re-timing pass failed: {e}"),
            }
            tokio::select! {
                () = wanted.notified() => {}
                _ = shutdown.wait_for(|stopping| *stopping) => return,
            }
        }
    })
}

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
