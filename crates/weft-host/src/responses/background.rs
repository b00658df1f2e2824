//! `background: true`: the run goes on in a task of the host's [`TaskTracker`] (shut down with
//! the host: its runs get the grace period, then are cancelled), the client gets the `queued`
//! response at once and polls `GET /v1/responses/{id}`; `POST /v1/responses/{id}/cancel`
//! stops it (status `cancelled`). With `stream: true` the client also gets the run's events as
//! they come; its disconnecting does not stop the run (only `cancel` or a shutdown does), and a
//! stream left behind is not resumed (poll `GET` instead). A client that stops reading never holds
//! the run up: once it lags too far behind its stream ends.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::Turn;
use super::events::ResponseBuilder;
use crate::error::ApiError;
use crate::run::{RunSpec, run_events};

/// How long a cancel waits for the run to record its end.
const CANCEL_WAIT: Duration = Duration::from_secs(10);

/// One background run still going.
#[derive(Clone)]
struct BackgroundRun {
    /// Cancelled by `POST …/cancel`.
    stop: CancellationToken,
    /// Cancelled once the run's end is stored.
    done: CancellationToken,
}

/// The background runs still going, by response id.
#[derive(Default)]
pub(crate) struct BackgroundRuns {
    runs: Mutex<HashMap<String, BackgroundRun>>,
}

impl BackgroundRuns {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, BackgroundRun>> {
        // Each operation is one insert, remove or lookup: a poisoned map is still whole.
        self.runs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Cancels run `id` and waits (bounded) until its end is stored; whether it was going.
    pub(crate) async fn cancel(&self, id: &str) -> bool {
        let Some(run) = self.lock().get(id).cloned() else { return false };
        run.stop.cancel();
        if tokio::time::timeout(CANCEL_WAIT, run.done.cancelled()).await.is_err() {
            tracing::warn!(response = id, "a cancelled background run did not end within {CANCEL_WAIT:?}");
        }
        true
    }
}

/// How many events a slow streaming client may lag behind before its stream is ended (the run
/// never waits for a reader: it must stay free to meet its deadline and its cancellation).
const STREAM_BUFFER: usize = 256;

/// Stores the `queued` response, starts the run in the host's tracker and answers at once: the
/// `queued` response, or with `keep_alive` (a streamed request) the run's events.
pub(super) async fn start(
    turn: Turn,
    mut builder: ResponseBuilder,
    mut spec: RunSpec,
    keep_alive: Option<Duration>,
) -> Result<Response, ApiError> {
    let state = turn.state.clone();
    let queued = builder.response("queued", None, None);
    let stored = crate::store::StoredResponse {
        agent: turn.agent.clone(),
        response: queued.clone(),
        input_items: turn.input_items.clone(),
        session: None,
    };
    state.store.put_response(&turn.id, stored).await?;
    let run = BackgroundRun { stop: CancellationToken::new(), done: CancellationToken::new() };
    spec.stop = Some(run.stop.clone());
    state.background.lock().insert(turn.id.clone(), run.clone());
    let (sender, receiver) = tokio::sync::mpsc::channel(STREAM_BUFFER);
    // Without a stream the receiver is dropped at once and every send fails quietly.
    let mut sender = keep_alive.map(|_| sender);
    state.tasks.spawn(async move {
        turn.put(builder.response("in_progress", None, None), None).await;
        forward(&mut sender, builder.start());
        let mut events = std::pin::pin!(run_events(spec));
        while let Some(event) = events.next().await {
            forward(&mut sender, turn.on(&mut builder, event).await);
        }
        turn.state.background.lock().remove(&turn.id);
        run.done.cancel();
    });
    let Some(keep_alive) = keep_alive else {
        drop(receiver);
        return Ok(axum::Json(queued).into_response());
    };
    let mut receiver = receiver;
    let events = async_stream::stream! {
        while let Some(event) = receiver.recv().await {
            yield super::sse_event(event);
        }
    };
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(keep_alive)).into_response())
}

/// Sends `events` to the streaming client, if there is one still listening. A client that has
/// left, or lags [`STREAM_BUFFER`] events behind, loses its stream (it ends; the client polls
/// `GET` instead): the run never waits on a reader.
fn forward(sender: &mut Option<tokio::sync::mpsc::Sender<Value>>, events: Vec<Value>) {
    for event in events {
        let Some(open) = sender.as_ref() else { return };
        if let Err(error) = open.try_send(event) {
            if matches!(error, tokio::sync::mpsc::error::TrySendError::Full(_)) {
                tracing::warn!("a streaming background client fell behind: its stream is ended");
            }
            *sender = None;
        }
    }
}
