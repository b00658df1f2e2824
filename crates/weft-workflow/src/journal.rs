//! The hook through which a durable-execution engine runs a workflow: an [`InvocationJournal`]
//! sees every executor invocation of a run (one executor's deliveries in one superstep) and
//! either runs it and records its effects, or, on replay, returns the effects it recorded
//! before without running the executor again.
//!
//! weft-workflow knows no engine: `weft-restate` implements the journal over Restate's
//! journaled `run` steps and durable promises; tests implement it in memory.
//!
//! # How a journaled run differs from a local one
//!
//! - An invocation's effects ([`InvocationEffects`]) are what the engine applies: the messages
//!   it sent (as JSON, under their stable names, see [`crate::WorkflowBuilder::message`]), its
//!   shared-state writes, its requests, the outputs and custom events it yielded, and the
//!   executor's [`crate::Executor::snapshot`] after it. They are applied from their recorded
//!   form whether the invocation ran now or was replayed, so a replay routes exactly what the
//!   first run routed.
//! - The invocations of a superstep run one at a time, in executor order (the order executors
//!   were added), so that the journal sees them in the same order on every replay. Locally
//!   they run concurrently; either way they see the state committed by earlier supersteps only.
//! - Outputs, custom events and requests are reported when their invocation completes (not
//!   while it runs); agent updates and sub-workflow events are reported when the invocation
//!   runs and not on replay.
//! - When the run has no messages left but requests are pending, the engine asks the journal
//!   for their answers ([`InvocationJournal::answers`]); a journal that can wait durably (for
//!   example on durable promises) returns them, and the run goes on with them in the next
//!   superstep, as [`crate::Workflow::send_responses`] would.

use std::collections::BTreeMap;

use async_trait::async_trait;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checkpoint::Checkpoint;
use crate::error::BoxError;
use crate::request::{PendingRequest, RequestResponse};

/// Which invocation a journal is asked about: one executor's deliveries in one superstep of
/// one run. The same on every replay of the run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InvocationKey {
    /// The run's id (given by the journaled run's caller, e.g. the Restate workflow key).
    pub run_id: String,
    /// The superstep (the first is 1).
    pub superstep: u64,
    /// The executor.
    pub executor_id: String,
}

impl InvocationKey {
    /// The invocation's name within its run: `superstep#N:EXECUTOR`.
    pub fn step_name(&self) -> String {
        format!("superstep#{}:{}", self.superstep, self.executor_id)
    }
}

/// A message an executor sent, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentRecord {
    /// The executor it was sent to with [`crate::WorkflowContext::send_message_to`], if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Its type's stable name.
    pub type_name: String,
    /// Its JSON form.
    pub value: Value,
}

/// An output or custom event an executor yielded, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YieldedRecord {
    /// Its type's stable name.
    pub type_name: String,
    /// Its JSON form.
    pub value: Value,
}

/// Everything one executor invocation did, in a form a journal can keep and give back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InvocationEffects {
    /// The messages it sent, in order.
    #[serde(default)]
    pub sent: Vec<SentRecord>,
    /// Its shared-state writes (`None` removes the key).
    #[serde(default)]
    pub writes: BTreeMap<String, Option<Value>>,
    /// The requests it made, with their ids.
    #[serde(default)]
    pub requests: Vec<PendingRequest>,
    /// The workflow outputs it yielded, in order.
    #[serde(default)]
    pub outputs: Vec<YieldedRecord>,
    /// The custom events it emitted, in order.
    #[serde(default)]
    pub events: Vec<YieldedRecord>,
    /// The executor's snapshot after the invocation (restored on replay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Value>,
}

/// The work of one invocation: runs the executor on its deliveries and gives its effects, or
/// the executor's error. It owns everything it needs (`'static`), so a journal may run it
/// wherever its engine runs journaled work.
pub type InvocationWork = BoxFuture<'static, Result<InvocationEffects, BoxError>>;

/// Where a journaled run keeps what it did (see the [module docs](self)).
#[async_trait]
pub trait InvocationJournal: Send + Sync {
    /// Runs `work` (the invocation `key`) and records its effects, or returns the effects
    /// recorded for `key` before, without running it. An `Err` fails the run with
    /// [`crate::WorkflowError::Executor`] (the journal decides whether and how often an
    /// executor's error is retried first).
    async fn invoke(&self, key: &InvocationKey, work: InvocationWork) -> Result<InvocationEffects, BoxError>;

    /// The answers to the pending `requests` of a run that has no messages left, in the
    /// order given. `Ok(None)` (the default) pauses the run with
    /// [`crate::RunStatus::IdleWithPendingRequests`], as a local run does.
    async fn answers(&self, requests: &[PendingRequest]) -> Result<Option<Vec<RequestResponse>>, BoxError> {
        let _ = requests;
        Ok(None)
    }

    /// Called with the run's state before its first superstep and after every superstep (a
    /// checkpoint whose id is `RUN_ID-N`, N the superstep, and whose `created_at_ms` is 0, so
    /// that it is the same on every replay). Errors fail the run with
    /// [`crate::WorkflowError::Journal`].
    async fn superstep_completed(&self, checkpoint: &Checkpoint) -> Result<(), BoxError> {
        let _ = checkpoint;
        Ok(())
    }
}
