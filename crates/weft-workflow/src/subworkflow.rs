//! A workflow as an executor of another workflow.

use std::marker::PhantomData;

use async_trait::async_trait;
use futures::StreamExt;

use crate::context::WorkflowContext;
use crate::error::{BoxError, WorkflowError};
use crate::events::{RunStatus, WorkflowEvent};
use crate::executor::Executor;
use crate::message::WorkflowMessage;
use crate::workflow::Workflow;

/// Runs a whole workflow for each message it receives. `I` is the inner workflow's input type;
/// the inner workflow's outputs of type `O` are sent along this executor's edges (and, with
/// [`SubWorkflow::yield_outputs`], also yielded as outputs of the outer workflow). Every event
/// of the inner run is forwarded as [`WorkflowEvent::SubWorkflow`]; its agents' streamed
/// updates also come through as this executor's [`WorkflowEvent::AgentUpdate`]s.
///
/// An inner run that fails fails this executor. An inner run that pauses on requests to the
/// outside is an error too (answering them through the outer workflow is not supported yet).
pub struct SubWorkflow<I, O> {
    id: String,
    workflow: Workflow,
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
        Ok(Self { id: id.into(), workflow, yield_outputs: false, _types: PhantomData })
    }

    /// Also yields the inner outputs of type `O` as outputs of the outer workflow.
    pub fn yield_outputs(mut self, yield_outputs: bool) -> Self {
        self.yield_outputs = yield_outputs;
        self
    }
}

#[async_trait]
impl<I: WorkflowMessage, O: WorkflowMessage> Executor for SubWorkflow<I, O> {
    type Input = I;
    type Output = O;

    fn id(&self) -> &str {
        &self.id
    }

    async fn handle(&self, input: I, ctx: &WorkflowContext<O>) -> Result<(), BoxError> {
        let mut events = self.workflow.run_stream(input);
        let mut status = RunStatus::Idle;
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
        if status == RunStatus::IdleWithPendingRequests {
            return Err(format!(
                "sub-workflow '{}' paused on requests to the outside, which a sub-workflow cannot forward yet",
                self.workflow.name()
            )
            .into());
        }
        Ok(())
    }
}
