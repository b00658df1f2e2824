//! The bridge between an agent run and the Restate invocation that runs it: the durable
//! decorators ([`crate::DurableChatClient`], [`crate::DurableTool`]) send each model and tool call
//! as a [`StepRequest`] over the invocation's channel, and [`run_with_steps`] executes them one at
//! a time as journaled `ctx.run` steps, in the order the run asked for them.

use std::future::Future;
use std::time::Duration;

use futures::future::BoxFuture;
use restate_sdk::context::{ContextSideEffects, ObjectContext, RunFuture, RunRetryPolicy};
use restate_sdk::errors::{HandlerError, HandlerResult, TerminalError};
use restate_sdk::serde::Json;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::error::DurableError;

/// How many step requests may wait for the invocation at once (a model turn's parallel tool
/// calls queue here; each waits for its result before the run goes on).
const STEP_QUEUE: usize = 64;

tokio::task_local! {
    /// The channel of the invocation whose agent run is being polled.
    static STEPS: StepSender;
    /// The step being executed, for the code inside it (see [`current_step`]).
    static CURRENT_STEP: StepKey;
}

/// The identity of one journaled step: stable across retries and replays of the invocation, so
/// a tool can use it as an idempotency key for the side effects it makes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StepKey {
    /// The Restate invocation id (one per message sent to a conversation).
    pub invocation_id: String,
    /// The step's name within the invocation: `model#N` or `tool:NAME#N:CALL_ID`, numbered in
    /// the order the run asked for them.
    pub step: String,
}

impl StepKey {
    /// `INVOCATION_ID/STEP`: one string to hand to a service as its idempotency key.
    pub fn idempotency_key(&self) -> String {
        format!("{}/{}", self.invocation_id, self.step)
    }
}

/// The step being executed, when called from inside a journaled step (a model call made by a
/// [`crate::DurableChatClient`] or a tool invoked by a [`crate::DurableTool`]); `None` elsewhere.
/// The key is the same on every attempt of the step, so tools can make their side effects
/// idempotent with it.
pub fn current_step() -> Option<StepKey> {
    CURRENT_STEP.try_with(Clone::clone).ok()
}

/// Whether the caller runs inside a durable agent run (then the decorators journal their calls).
pub fn in_durable_run() -> bool {
    STEPS.try_with(|_| ()).is_ok()
}

/// What a step's work failed with.
#[derive(Debug, Clone)]
pub(crate) struct StepFailure {
    /// Retried under the step retry policy when true; journaled as the step's failure otherwise.
    pub(crate) retryable: bool,
    /// The cause, as the caller will read it.
    pub(crate) message: String,
}

/// The work of a step: runs on the invocation's journaled `run`; its JSON value is journaled.
pub(crate) type StepWork = BoxFuture<'static, Result<Value, StepFailure>>;

/// One model or tool call the run asks the invocation to journal.
pub(crate) struct StepRequest {
    /// `model` or `tool:NAME`; the bridge adds the sequence number.
    pub(crate) label: String,
    /// Extra text for the step name (the tool call's id).
    pub(crate) suffix: Option<String>,
    pub(crate) work: StepWork,
    pub(crate) reply: oneshot::Sender<Value>,
}

/// The sending end of an invocation's step channel.
#[derive(Clone)]
pub(crate) struct StepSender(mpsc::Sender<StepRequest>);

/// Why a decorator could not get its step's result.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StepSendError {
    /// The invocation stopped taking steps (its run ended or failed).
    #[error("the durable invocation stopped before step {label} got its result")]
    Closed {
        /// The step's label.
        label: String,
    },
}

/// Sends `work` as a journaled step of the current durable run and waits for its journaled
/// value. `None` when not in a durable run (the caller then runs the work itself).
pub(crate) async fn journal(
    label: String,
    suffix: Option<String>,
    work: StepWork,
) -> Option<Result<Value, StepSendError>> {
    let sender = STEPS.try_with(Clone::clone).ok()?;
    let (reply, result) = oneshot::channel();
    let request = StepRequest { label: label.clone(), suffix, work, reply };
    if sender.0.send(request).await.is_err() {
        return Some(Err(StepSendError::Closed { label }));
    }
    Some(result.await.map_err(|_| StepSendError::Closed { label }))
}

/// The retry policy of steps whose work failed with a retryable error (a model error the
/// provider calls retryable; a tool that timed out or whose backend was unavailable).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepRetry {
    /// Attempts in all, the first included; then the step, and the run, fail.
    pub max_attempts: u32,
    /// The delay before the first retry.
    pub initial_delay: Duration,
    /// The longest delay between retries (the delay doubles up to it).
    pub max_delay: Duration,
}

impl Default for StepRetry {
    fn default() -> Self {
        Self { max_attempts: 5, initial_delay: Duration::from_millis(200), max_delay: Duration::from_secs(5) }
    }
}

impl StepRetry {
    pub(crate) fn policy(&self) -> RunRetryPolicy {
        RunRetryPolicy::new()
            .initial_delay(self.initial_delay)
            .exponentiation_factor(2.0)
            .max_delay(self.max_delay)
            .max_attempts(self.max_attempts)
    }
}

/// The error a step's work gives Restate: retried under the step policy.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RetryableStepError(String);

/// `work` with `key` as the [`current_step`] of the code it runs.
pub(crate) fn scoped<F: Future>(key: StepKey, work: F) -> impl Future<Output = F::Output> {
    CURRENT_STEP.scope(key, work)
}

/// A step failure Restate retries under the step's retry policy.
pub(crate) fn retryable(message: String) -> HandlerError {
    HandlerError::from(RetryableStepError(message))
}

/// The work of a step as the journaled `run` executes it, with its key in scope.
fn journaled_work(key: StepKey, work: StepWork) -> BoxFuture<'static, HandlerResult<Json<Value>>> {
    Box::pin(CURRENT_STEP.scope(key, async move {
        match work.await {
            Ok(value) => Ok(Json(value)),
            Err(failure) if failure.retryable => Err(HandlerError::from(RetryableStepError(failure.message))),
            Err(failure) => Err(TerminalError::new(failure.message).into()),
        }
    }))
}

/// Polls `run` (an agent run over durable decorators) with the step channel in scope, and
/// executes the steps it asks for as journaled `ctx.run` calls of `ctx`, one at a time. A step
/// that fails for good ends the run (it is dropped) with [`DurableError::StepFailed`].
pub(crate) async fn run_with_steps<F, T>(
    ctx: &ObjectContext<'_>,
    invocation_id: &str,
    retry: StepRetry,
    run: F,
) -> Result<T, DurableError>
where
    F: Future<Output = T> + Send,
{
    let (sender, mut requests) = mpsc::channel(STEP_QUEUE);
    let run = STEPS.scope(StepSender(sender), run);
    tokio::pin!(run);
    let policy = retry.policy();
    let mut sequence: u64 = 0;
    loop {
        tokio::select! {
            output = &mut run => return Ok(output),
            Some(request) = requests.recv() => {
                sequence += 1;
                let step = match &request.suffix {
                    Some(suffix) => format!("{}#{sequence}:{suffix}", request.label),
                    None => format!("{}#{sequence}", request.label),
                };
                let key = StepKey { invocation_id: invocation_id.to_owned(), step: step.clone() };
                let work = journaled_work(key, request.work);
                let journaled: Result<Json<Value>, TerminalError> = ctx
                    .run(move || work)
                    .name(step.clone())
                    .retry_policy(policy.clone())
                    .await;
                match journaled {
                    // A decorator that stopped waiting (its run was cancelled) needs no reply.
                    Ok(Json(value)) => { let _ = request.reply.send(value); }
                    Err(error) => {
                        return Err(DurableError::StepFailed { step, message: error.to_string() });
                    }
                }
            }
        }
    }
}
