//! The [`InvocationJournal`] of a workflow run on Restate: each executor invocation is a
//! journaled `ctx.run` step, each request to the outside a durable promise, and the run's state
//! after every superstep a state entry of the Restate workflow.

use async_trait::async_trait;
use restate_sdk::prelude::*;
use serde_json::Value;
use weft_workflow::journal::InvocationWork;
use weft_workflow::{
    BoxError, Checkpoint, InvocationEffects, InvocationJournal, InvocationKey, PendingRequest,
    RequestResponse,
};

use crate::error::DurableError;
use crate::steps::{StepKey, StepRetry, retryable, scoped};
use crate::workflow_service::{RunPhase, STATUS_KEY, WorkflowStatus, promise_name};

/// The journal of one `run` invocation of the Restate workflow.
pub(crate) struct RestateJournal<'a, 'ctx> {
    ctx: &'a WorkflowContext<'ctx>,
    invocation_id: String,
    retry: StepRetry,
    /// The run's state after its last completed superstep.
    last: std::sync::Mutex<Option<Checkpoint>>,
}

impl<'a, 'ctx> RestateJournal<'a, 'ctx> {
    pub(crate) fn new(ctx: &'a WorkflowContext<'ctx>, retry: StepRetry) -> Self {
        Self { ctx, invocation_id: ctx.invocation_id().to_owned(), retry, last: std::sync::Mutex::new(None) }
    }

    /// Keeps the run's status in the workflow's state (read by the `status` handler).
    fn set_status(&self, phase: RunPhase, checkpoint: Checkpoint) {
        self.ctx.set(STATUS_KEY, Json(WorkflowStatus::of(phase, checkpoint.clone())));
        *self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(checkpoint);
    }

    /// Marks the run finished (`Completed` or `Failed`) in its status.
    pub(crate) fn finish(&self, phase: RunPhase) {
        let last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        if let Some(checkpoint) = last {
            self.set_status(phase, checkpoint);
        }
    }
}

#[async_trait]
impl InvocationJournal for RestateJournal<'_, '_> {
    async fn invoke(&self, key: &InvocationKey, work: InvocationWork) -> Result<InvocationEffects, BoxError> {
        let step = key.step_name();
        let step_key = StepKey { invocation_id: self.invocation_id.clone(), step: step.clone() };
        let work = Box::pin(scoped(step_key, async move {
            match work.await {
                Ok(effects) => Ok(Json(effects)),
                // An executor's error is retried under the step policy, then fails the run.
                Err(error) => Err(retryable(error.to_string())),
            }
        }));
        let journaled: Result<Json<InvocationEffects>, TerminalError> =
            self.ctx.run(move || work).name(step.clone()).retry_policy(self.retry.policy()).await;
        match journaled {
            Ok(Json(effects)) => Ok(effects),
            Err(error) => Err(Box::new(DurableError::StepFailed { step, message: error.to_string() })),
        }
    }

    async fn answers(&self, requests: &[PendingRequest]) -> Result<Option<Vec<RequestResponse>>, BoxError> {
        // The last status written (after the superstep that asked) lists these requests.
        let mut answers = Vec::with_capacity(requests.len());
        for request in requests {
            let name = promise_name(&request.request_id);
            let Json(value): Json<Value> = self.ctx.promise::<Json<Value>>(&name).await.map_err(|error| {
                Box::new(DurableError::Promise {
                    request_id: request.request_id.clone(),
                    message: error.to_string(),
                })
            })?;
            answers.push(RequestResponse::json(request.request_id.clone(), value));
        }
        Ok(Some(answers))
    }

    async fn superstep_completed(&self, checkpoint: &Checkpoint) -> Result<(), BoxError> {
        let phase = if checkpoint.messages.is_empty() && !checkpoint.pending_requests.is_empty() {
            RunPhase::Waiting
        } else {
            RunPhase::Running
        };
        self.set_status(phase, checkpoint.clone());
        Ok(())
    }
}
