//! What a run reports: events as they happen, its status, and the collected result.

use std::sync::Arc;

use weft_core::AgentResponseUpdate;

use crate::error::WorkflowError;
use crate::message::{AnyMessage, WorkflowMessage};
use crate::request::PendingRequest;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum RunStatus {
    /// Supersteps are running.
    InProgress,
    /// No messages remain: the run finished.
    Idle,
    /// No messages remain, but executors wait for answers to their requests
    /// ([`crate::Workflow::send_responses`]).
    IdleWithPendingRequests,
    /// An executor (or the engine) failed; see the [`WorkflowEvent::Failed`] event.
    Failed,
}

/// A value an executor yielded as a workflow output.
#[derive(Debug, Clone)]
pub struct WorkflowOutput {
    /// The executor that yielded it.
    pub executor_id: String,
    /// The value.
    pub value: AnyMessage,
}

impl WorkflowOutput {
    /// The value, when it is a `T`.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        self.value.get::<T>()
    }
}

/// Something that happened during a run, in the order it happened.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WorkflowEvent {
    /// The run started (or resumed from a checkpoint).
    Started {
        /// The run's id (checkpoints are listed under it).
        run_id: String,
        /// The checkpoint it resumed from, if any.
        resumed_from: Option<String>,
    },
    /// The run's status changed.
    Status {
        /// The new status.
        status: RunStatus,
    },
    /// A superstep began.
    SuperstepStarted {
        /// Its number (the first is 1).
        superstep: u64,
    },
    /// A superstep finished and its messages were routed.
    SuperstepCompleted {
        /// Its number.
        superstep: u64,
    },
    /// An executor's handler was called with one message.
    ExecutorInvoked {
        /// The executor.
        executor_id: String,
        /// The superstep.
        superstep: u64,
    },
    /// An executor's handler returned successfully.
    ExecutorCompleted {
        /// The executor.
        executor_id: String,
        /// The superstep.
        superstep: u64,
    },
    /// An executor's handler failed.
    ExecutorFailed {
        /// The executor.
        executor_id: String,
        /// The superstep.
        superstep: u64,
        /// The error, as text (the full error is on [`WorkflowEvent::Failed`]).
        error: String,
    },
    /// An executor yielded a workflow output.
    Output(WorkflowOutput),
    /// An executor emitted a custom event.
    Custom {
        /// The executor.
        executor_id: String,
        /// The event's value.
        event: AnyMessage,
    },
    /// An executor asked the outside for information; the run pauses once idle.
    RequestInfo(PendingRequest),
    /// An agent running as an executor streamed an update.
    AgentUpdate {
        /// The executor.
        executor_id: String,
        /// The update.
        update: AgentResponseUpdate,
    },
    /// An event of a sub-workflow run by a [`crate::SubWorkflow`] executor.
    SubWorkflow {
        /// The executor running the sub-workflow.
        executor_id: String,
        /// The sub-workflow's event.
        event: Box<WorkflowEvent>,
    },
    /// A checkpoint was saved after a superstep.
    CheckpointSaved {
        /// The checkpoint's id.
        checkpoint_id: String,
        /// The superstep it follows (0: before the first).
        superstep: u64,
    },
    /// The run failed.
    Failed {
        /// Why.
        error: Arc<WorkflowError>,
    },
}

/// The result of [`crate::Workflow::run`]: outputs, every event, and the final status.
#[derive(Debug, Clone)]
pub struct WorkflowRunResult {
    /// The run's id.
    pub run_id: String,
    /// The outputs, in the order they were yielded.
    pub outputs: Vec<WorkflowOutput>,
    /// Every event, in order.
    pub events: Vec<WorkflowEvent>,
    /// How the run ended.
    pub status: RunStatus,
}

impl WorkflowRunResult {
    /// Collects a run's events.
    pub fn from_events(run_id: String, events: Vec<WorkflowEvent>) -> Self {
        let mut status = RunStatus::Idle;
        let mut outputs = Vec::new();
        for event in &events {
            match event {
                WorkflowEvent::Output(output) => outputs.push(output.clone()),
                WorkflowEvent::Status { status: s } => status = *s,
                WorkflowEvent::Failed { .. } => status = RunStatus::Failed,
                _ => {}
            }
        }
        Self { run_id, outputs, events, status }
    }

    /// The outputs that are `T`s, cloned, in order. An output a journaled run replayed as JSON
    /// (its type not among the workflow's, see [`crate::journal`]) counts when it parses as a `T`.
    pub fn outputs_as<T: WorkflowMessage>(&self) -> Vec<T> {
        self.outputs.iter().filter_map(|o| o.value.clone().take::<T>().ok()).collect()
    }

    /// The error that failed the run, if it failed.
    pub fn error(&self) -> Option<&Arc<WorkflowError>> {
        self.events.iter().rev().find_map(|e| match e {
            WorkflowEvent::Failed { error } => Some(error),
            _ => None,
        })
    }

    /// The id of the last checkpoint the run saved (resume or answer requests from it).
    pub fn last_checkpoint_id(&self) -> Option<&str> {
        self.events.iter().rev().find_map(|e| match e {
            WorkflowEvent::CheckpointSaved { checkpoint_id, .. } => Some(checkpoint_id.as_str()),
            _ => None,
        })
    }

    /// The requests waiting for an answer when the run paused (empty unless the status is
    /// [`RunStatus::IdleWithPendingRequests`]).
    pub fn pending_requests(&self) -> Vec<PendingRequest> {
        if self.status != RunStatus::IdleWithPendingRequests {
            return Vec::new();
        }
        self.events
            .iter()
            .filter_map(|e| match e {
                WorkflowEvent::RequestInfo(request) => Some(request.clone()),
                _ => None,
            })
            .collect()
    }
}
