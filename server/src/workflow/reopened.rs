//! Live messages for the steps nobody asked for: a change to what the
//! record prints sends a checked, approved or published sitting back to
//! draft (the store's triggers, whatever wrote the change), and every page
//! open on that sitting must show it.
//!
//! The triggers log such a step with the actor `tocky`. Rather than
//! teaching every write route (segments, operations, undo, speakers, the
//! agenda, notes, the people registry, which can reopen several sittings
//! at once) to compare states before and after, one layer over the API
//! reads the workflow log after each write request and publishes the
//! triggers' new steps as `workflow` messages to each sitting's live
//! clients. A mark (the last row seen) is shared by the requests, so each
//! step is published once; steps taken through the workflow route are
//! published by that route.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tocky_store::workflow::pending::LoggedStep;
use tocky_store::{WorkflowMove, WorkflowState};
use tokio::sync::Mutex;

use super::WorkflowMessage;
use crate::live::LiveEvent;
use crate::state::AppState;

/// The actor of the steps the store's triggers make.
const TRIGGER_ACTOR: &str = "tocky";
/// The note of the steps the store's triggers make.
const TRIGGER_NOTE: &str = "the record changed";
/// Log rows read at a time.
const BATCH: usize = 500;

/// The state of [`announce`]: the server's state and the last log row seen
/// (`None` until the first write request reads it).
#[derive(Clone)]
pub(crate) struct Reopened {
    state: AppState,
    mark: Arc<Mutex<Option<i64>>>,
}

impl Reopened {
    pub(crate) fn new(state: AppState) -> Self {
        Self {
            state,
            mark: Arc::new(Mutex::new(None)),
        }
    }
}

/// The layer: after each request that may write, publishes the steps the
/// triggers logged since the mark.
pub(crate) async fn announce(
    State(watch): State<Reopened>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    {
        // Before the first write: what is already logged is not news.
        let mut mark = watch.mark.lock().await;
        if mark.is_none() {
            match watch
                .state
                .with_store(|store, _| Ok(store.workflow_log_mark()?))
                .await
            {
                Ok(m) => *mark = Some(m),
                Err(e) => tracing::warn!("the workflow log cannot be read: {e}"),
            }
        }
    }
    let response = next.run(request).await;
    publish_new_steps(&watch).await;
    response
}

/// Publishes the triggers' steps after the mark and moves it past them.
async fn publish_new_steps(watch: &Reopened) {
    let mut mark = watch.mark.lock().await;
    let Some(mut after) = *mark else {
        return;
    };
    loop {
        let steps = match watch
            .state
            .with_store(move |store, _| Ok(store.workflow_steps_after(after, BATCH)?))
            .await
        {
            Ok(steps) => steps,
            Err(e) => {
                // The next write request tries again from the same mark.
                tracing::warn!("the workflow log cannot be read: {e}");
                break;
            }
        };
        for logged in &steps {
            after = logged.id;
            if let Some(event) = message(logged) {
                watch.state.publish(event);
            }
        }
        *mark = Some(after);
        if steps.len() < BATCH {
            break;
        }
    }
}

/// The live message of a step the triggers made; none for other steps.
fn message(logged: &LoggedStep) -> Option<LiveEvent> {
    let step = &logged.step;
    if step.actor != TRIGGER_ACTOR
        || step.note.as_deref() != Some(TRIGGER_NOTE)
        || step.version.is_some()
    {
        return None;
    }
    let moved = WorkflowMove {
        session_id: logged.session_id,
        from: WorkflowState::parse(&step.from)?,
        to: WorkflowState::parse(&step.to)?,
        version: None,
    };
    let message = WorkflowMessage::Workflow {
        actor: TRIGGER_ACTOR,
        step: &moved,
    };
    let json = serde_json::to_string(&message).ok()?;
    Some(LiveEvent {
        session_id: logged.session_id,
        json: json.into(),
    })
}
