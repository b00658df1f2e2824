//! A workflow as an executor of another workflow.

use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, CheckpointInfo, CheckpointStore};
use crate::context::{WorkflowContext, lock};
use crate::error::{BoxError, CheckpointError, WorkflowError};
use crate::events::{RunStatus, WorkflowEvent};
use crate::executor::Executor;
use crate::message::{AnyMessage, WorkflowMessage};
use crate::request::{PendingRequest, RequestResponse};
use crate::workflow::Workflow;

/// Runs a whole workflow for each message it receives. `I` is the inner workflow's input type;
/// the inner workflow's outputs of type `O` are sent along this executor's edges (and, with
/// [`SubWorkflow::yield_outputs`], also yielded as outputs of the outer workflow). Every event
/// of the inner run is forwarded as [`WorkflowEvent::SubWorkflow`]; its agents' streamed
/// updates also come through as this executor's [`WorkflowEvent::AgentUpdate`]s.
///
/// An inner run that fails fails this executor. An inner run that pauses on requests to the
/// outside forwards each request to the outer workflow's caller (same request and answer
/// types, asked by this executor): the caller answers it like any request of the outer run,
/// and the inner run continues with the answer. The paused inner run is kept in the outer
/// run's shared state, so outer checkpoints hold it and the answer may come after a restart.
/// (The inner workflow runs on a private checkpoint store holding each run's latest state only
/// while it runs; a store the inner workflow was built with is not used.)
pub struct SubWorkflow<I, O> {
    id: String,
    workflow: Workflow,
    store: Arc<LatestOnlyStore>,
    yield_outputs: bool,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O> std::fmt::Debug for SubWorkflow<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubWorkflow").field("id", &self.id).field("workflow", &self.workflow.name()).finish()
    }
}

impl<I: WorkflowMessage, O: WorkflowMessage> SubWorkflow<I, O> {
    /// An executor `id` running `workflow`. Fails when the workflow's start executor does not
    /// accept `I`.
    pub fn new(id: impl Into<String>, workflow: Workflow) -> Result<Self, WorkflowError> {
        let start = workflow.start_type();
        if start.id != std::any::TypeId::of::<I>() {
            return Err(WorkflowError::InputType {
                executor_id: workflow.start_id().to_string(),
                expected: start.name.to_string(),
                found: std::any::type_name::<I>().to_string(),
            });
        }
        let store = Arc::new(LatestOnlyStore::default());
        let workflow = workflow.with_store(store.clone());
        Ok(Self { id: id.into(), workflow, store, yield_outputs: false, _types: PhantomData })
    }

    /// Also yields the inner outputs of type `O` as outputs of the outer workflow.
    pub fn yield_outputs(mut self, yield_outputs: bool) -> Self {
        self.yield_outputs = yield_outputs;
        self
    }

    fn state_key(&self) -> String {
        format!("weft.subworkflow.{}", self.id)
    }

    /// Drives one inner run (fresh, or continued with an answer), forwarding its events and
    /// outputs, then keeps its state and forwards its new requests when it paused.
    async fn drive_inner(
        &self,
        mut events: BoxStream<'static, WorkflowEvent>,
        ctx: &WorkflowContext<O>,
    ) -> Result<(), BoxError> {
        let mut status = RunStatus::Idle;
        // Takes the run's state out of the private store however this ends (failure, drop).
        let mut last_checkpoint = Forget { store: &self.store, checkpoint_id: None };
        while let Some(event) = events.next().await {
            match &event {
                WorkflowEvent::Output(output) => {
                    if let Some(value) = output.get::<O>() {
                        if self.yield_outputs {
                            ctx.yield_output(value.clone());
                        }
                        ctx.send_message(value.clone());
                    }
                }
                WorkflowEvent::AgentUpdate { update, .. } => ctx.emit_agent_update(update.clone()),
                WorkflowEvent::Status { status: s } => status = *s,
                WorkflowEvent::CheckpointSaved { checkpoint_id, .. } => {
                    last_checkpoint.checkpoint_id = Some(checkpoint_id.clone());
                }
                WorkflowEvent::Failed { error } => {
                    return Err(format!("sub-workflow '{}' failed: {error}", self.workflow.name()).into());
                }
                _ => {}
            }
            ctx.emit_event(WorkflowEvent::SubWorkflow {
                executor_id: self.id.clone(),
                event: Box::new(event),
            });
        }
        let Some(checkpoint_id) = last_checkpoint.checkpoint_id.take() else { return Ok(()) };
        let checkpoint = self.store.take(&checkpoint_id)?;
        let mut paused: Paused = ctx.get_state(&self.state_key())?.unwrap_or_default();
        if status == RunStatus::IdleWithPendingRequests {
            for request in &checkpoint.pending_requests {
                let known = paused
                    .forwarded
                    .values()
                    .any(|(run, id)| *run == checkpoint.run_id && *id == request.request_id);
                if !known {
                    let outer_id = ctx.forward_request(request);
                    paused
                        .forwarded
                        .insert(outer_id, (checkpoint.run_id.clone(), request.request_id.clone()));
                }
            }
            paused.runs.insert(checkpoint.run_id.clone(), checkpoint);
        } else {
            paused.runs.remove(&checkpoint.run_id);
        }
        if paused.runs.is_empty() {
            ctx.remove_state(self.state_key());
        } else {
            ctx.set_state(self.state_key(), &paused)?;
        }
        Ok(())
    }
}

/// Removes a run's checkpoint from the private store when dropped, unless taken before.
struct Forget<'a> {
    store: &'a LatestOnlyStore,
    checkpoint_id: Option<String>,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.checkpoint_id.take() {
            // Not there any more is fine: nothing to forget.
            let _ = self.store.take(&id);
        }
    }
}

/// The inner runs paused on requests, with the outer requests that forward them.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Paused {
    /// Each paused inner run's latest checkpoint, by run id.
    runs: BTreeMap<String, Checkpoint>,
    /// Outer request id → (inner run id, inner request id).
    forwarded: BTreeMap<String, (String, String)>,
}

#[async_trait]
impl<I: WorkflowMessage, O: WorkflowMessage> Executor for SubWorkflow<I, O> {
    type Input = I;
    type Output = O;

    fn id(&self) -> &str {
        &self.id
    }

    async fn handle(&self, input: I, ctx: &WorkflowContext<O>) -> Result<(), BoxError> {
        self.drive_inner(self.workflow.run_stream(input), ctx).await
    }

    async fn handle_response(
        &self,
        request: PendingRequest,
        response: AnyMessage,
        ctx: &WorkflowContext<O>,
    ) -> Result<(), BoxError> {
        let mut paused: Paused = ctx.get_state(&self.state_key())?.unwrap_or_default();
        let Some((run_id, inner_id)) = paused.forwarded.remove(&request.request_id) else {
            return Err(format!(
                "sub-workflow '{}' has no inner request behind request '{}'",
                self.id, request.request_id
            )
            .into());
        };
        let checkpoint = paused
            .runs
            .get(&run_id)
            .cloned()
            .ok_or_else(|| format!("sub-workflow '{}' lost the paused inner run '{run_id}'", self.id))?;
        ctx.set_state(self.state_key(), &paused)?;
        let checkpoint_id = checkpoint.checkpoint_id.clone();
        self.store.put(checkpoint);
        let answer = RequestResponse { request_id: inner_id, value: response };
        self.drive_inner(self.workflow.send_responses_stream(&checkpoint_id, vec![answer]), ctx).await
    }
}

/// The inner workflow's private store: each run's latest checkpoint, taken out when the run
/// stops (so nothing accumulates across runs). Written by hand: it is a map, and the stores of
/// [`crate::checkpoint`] keep every checkpoint.
#[derive(Default)]
struct LatestOnlyStore {
    latest: Mutex<HashMap<String, Checkpoint>>,
}

impl LatestOnlyStore {
    fn put(&self, checkpoint: Checkpoint) {
        lock(&self.latest).insert(checkpoint.run_id.clone(), checkpoint);
    }

    /// Removes and returns the checkpoint with this id (its run's latest).
    fn take(&self, checkpoint_id: &str) -> Result<Checkpoint, CheckpointError> {
        let mut latest = lock(&self.latest);
        let run = latest
            .iter()
            .find(|(_, c)| c.checkpoint_id == checkpoint_id)
            .map(|(run, _)| run.clone())
            .ok_or_else(|| CheckpointError::NotFound(checkpoint_id.to_string()))?;
        latest.remove(&run).ok_or_else(|| CheckpointError::NotFound(checkpoint_id.to_string()))
    }
}

#[async_trait]
impl CheckpointStore for LatestOnlyStore {
    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        self.put(checkpoint.clone());
        Ok(())
    }

    async fn load(&self, checkpoint_id: &str) -> Result<Checkpoint, CheckpointError> {
        lock(&self.latest)
            .values()
            .find(|c| c.checkpoint_id == checkpoint_id)
            .cloned()
            .ok_or_else(|| CheckpointError::NotFound(checkpoint_id.to_string()))
    }

    async fn list(&self, run_id: &str) -> Result<Vec<CheckpointInfo>, CheckpointError> {
        Ok(lock(&self.latest).get(run_id).map(Checkpoint::info).into_iter().collect())
    }
}
