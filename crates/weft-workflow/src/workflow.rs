//! A built workflow and the ways to run it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures::stream::BoxStream;
use tokio::sync::mpsc;

use crate::checkpoint::Migration;
use crate::checkpoint::{CheckpointInfo, CheckpointStore};
use crate::context::EventSink;
use crate::edges::EdgeKind;
use crate::error::WorkflowError;
use crate::events::{RunStatus, WorkflowEvent, WorkflowRunResult};
use crate::executor::ErasedExecutor;
use crate::journal::InvocationJournal;
use crate::message::{AnyMessage, MessageNames, MessageType, WorkflowMessage};
use crate::request::RequestResponse;
use crate::runner::{RunState, Start, answer, drive, drive_journaled, from_checkpoint};
use crate::telemetry::run_span;

/// The parts of a built workflow.
pub(crate) struct WorkflowInner {
    pub(crate) name: String,
    pub(crate) executors: Vec<Arc<dyn ErasedExecutor>>,
    pub(crate) index: HashMap<String, usize>,
    pub(crate) start: usize,
    pub(crate) edges: Vec<EdgeKind>,
    /// Per executor: the edges leaving it, in the order they were added.
    pub(crate) outgoing: Vec<Vec<usize>>,
    /// Every message type on an edge or registered, by stable name (for rebuilding
    /// checkpointed messages).
    pub(crate) types: HashMap<String, MessageType>,
    /// The stable names of message types.
    pub(crate) names: Arc<MessageNames>,
    pub(crate) max_supersteps: u64,
    pub(crate) store: Option<Arc<dyn CheckpointStore>>,
    /// The workflow's checkpoint version and the migrations from older ones, by version.
    pub(crate) version: u32,
    pub(crate) migrations: std::collections::BTreeMap<u32, Migration>,
    /// The limits every run's agents share (a fresh account per run).
    pub(crate) budget: Option<weft_core::BudgetLimits>,
}

/// A checked graph of executors, ready to run. Cheap to clone. Runs may overlap; executors
/// that keep state between messages see every overlapping run's messages.
#[derive(Clone)]
pub struct Workflow {
    pub(crate) inner: Arc<WorkflowInner>,
}

impl std::fmt::Debug for Workflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workflow")
            .field("name", &self.inner.name)
            .field("executors", &self.executor_ids())
            .field("start", &self.start_id())
            .finish()
    }
}

impl Workflow {
    pub(crate) fn from_inner(inner: WorkflowInner) -> Self {
        Self { inner: Arc::new(inner) }
    }

    /// The workflow's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The executors' ids, in the order they were added.
    pub fn executor_ids(&self) -> Vec<&str> {
        self.inner.executors.iter().map(|e| e.id()).collect()
    }

    /// The start executor's id.
    pub fn start_id(&self) -> &str {
        self.inner.executors[self.inner.start].id()
    }

    /// The start executor's input type.
    pub(crate) fn start_type(&self) -> MessageType {
        self.inner.executors[self.inner.start].input_type()
    }

    /// The same workflow, checkpointing in `store` instead.
    pub(crate) fn with_store(&self, store: Arc<dyn CheckpointStore>) -> Workflow {
        let inner = &self.inner;
        Workflow::from_inner(WorkflowInner {
            name: inner.name.clone(),
            executors: inner.executors.clone(),
            index: inner.index.clone(),
            start: inner.start,
            edges: inner.edges.clone(),
            outgoing: inner.outgoing.clone(),
            types: inner.types.clone(),
            names: inner.names.clone(),
            max_supersteps: inner.max_supersteps,
            store: Some(store),
            version: inner.version,
            migrations: inner.migrations.clone(),
            budget: inner.budget.clone(),
        })
    }

    /// The same workflow with a budget that covers all of a run's agents: each run (and each
    /// resumption of a run) gets a fresh [`weft_core::RunBudget`] with these limits, which
    /// every [`crate::AgentExecutor`] draws from (see [`crate::WorkflowContext::budget`]). An
    /// agent that goes over fails the run with [`weft_core::AgentError::BudgetExceeded`] as
    /// the executor's error. Works on any built workflow, orchestrations included.
    pub fn with_budget(&self, limits: weft_core::BudgetLimits) -> Workflow {
        let inner = &self.inner;
        Workflow::from_inner(WorkflowInner {
            name: inner.name.clone(),
            executors: inner.executors.clone(),
            index: inner.index.clone(),
            start: inner.start,
            edges: inner.edges.clone(),
            outgoing: inner.outgoing.clone(),
            types: inner.types.clone(),
            names: inner.names.clone(),
            max_supersteps: inner.max_supersteps,
            store: inner.store.clone(),
            version: inner.version,
            migrations: inner.migrations.clone(),
            budget: Some(limits),
        })
    }

    /// The checkpoint store, if the workflow has one.
    pub fn checkpoint_store(&self) -> Option<&Arc<dyn CheckpointStore>> {
        self.inner.store.as_ref()
    }

    fn start_state<I: WorkflowMessage>(&self, input: I) -> Result<Start, WorkflowError> {
        let start = &self.inner.executors[self.inner.start];
        let expected = start.input_type();
        if expected.id != std::any::TypeId::of::<I>() {
            return Err(WorkflowError::InputType {
                executor_id: start.id().to_string(),
                expected: expected.name.to_string(),
                found: std::any::type_name::<I>().to_string(),
            });
        }
        Ok(Start { state: RunState::new(self.inner.start, AnyMessage::new(input)), resumed_from: None })
    }

    fn store(&self) -> Result<&Arc<dyn CheckpointStore>, WorkflowError> {
        self.inner.store.as_ref().ok_or(WorkflowError::NoCheckpointStore)
    }

    async fn resume_state(&self, checkpoint_id: &str) -> Result<Start, WorkflowError> {
        let checkpoint = self.store()?.load(checkpoint_id).await?;
        let state = from_checkpoint(&self.inner, checkpoint)?;
        Ok(Start { state, resumed_from: Some(checkpoint_id.to_string()) })
    }

    async fn answer_state(
        &self,
        checkpoint_id: &str,
        responses: Vec<RequestResponse>,
    ) -> Result<Start, WorkflowError> {
        let mut start = self.resume_state(checkpoint_id).await?;
        answer(&self.inner, &mut start.state, responses, &format!("checkpoint '{checkpoint_id}'"))?;
        Ok(start)
    }

    /// Runs the workflow on `input` until it is idle, paused on requests, or failed, and
    /// collects what happened. An executor's failure is not an `Err`: the result has status
    /// [`RunStatus::Failed`] and a [`WorkflowEvent::Failed`] event. `Err` means the run could
    /// not start (the input is not the start executor's type).
    pub async fn run<I: WorkflowMessage>(&self, input: I) -> Result<WorkflowRunResult, WorkflowError> {
        let start = self.start_state(input)?;
        Ok(self.collect(start).await)
    }

    /// Runs the workflow on `input`, yielding events as they happen. The stream ends when the
    /// run is idle, paused or failed; dropping it cancels the run. A run that cannot start
    /// yields one [`WorkflowEvent::Failed`].
    pub fn run_stream<I: WorkflowMessage>(&self, input: I) -> BoxStream<'static, WorkflowEvent> {
        let start = self.start_state(input);
        let this = self.clone();
        let span = run_span(&self.inner.name);
        event_stream(move |sink| async move {
            match start {
                Ok(start) => {
                    drive(&this.inner, start, sink, span).await;
                }
                Err(error) => failed(&sink, error),
            }
        })
    }

    /// Continues a run from a checkpoint in the workflow's store (any checkpoint of the run,
    /// also one written by another process). The run keeps its id; the next superstep is the
    /// one after the checkpoint's.
    pub async fn resume(&self, checkpoint_id: &str) -> Result<WorkflowRunResult, WorkflowError> {
        let start = self.resume_state(checkpoint_id).await?;
        Ok(self.collect(start).await)
    }

    /// [`Workflow::resume`], yielding events as they happen.
    pub fn resume_stream(&self, checkpoint_id: &str) -> BoxStream<'static, WorkflowEvent> {
        let this = self.clone();
        let checkpoint_id = checkpoint_id.to_string();
        let span = run_span(&self.inner.name);
        event_stream(move |sink| async move {
            match this.resume_state(&checkpoint_id).await {
                Ok(start) => {
                    drive(&this.inner, start, sink, span).await;
                }
                Err(error) => failed(&sink, error),
            }
        })
    }

    /// Answers pending requests of a paused run and continues it from `checkpoint_id` (the
    /// run's last checkpoint, in the same process or after a restart). Each answer reaches the
    /// asking executor's [`crate::Executor::handle_response`] in the next superstep.
    pub async fn send_responses(
        &self,
        checkpoint_id: &str,
        responses: Vec<RequestResponse>,
    ) -> Result<WorkflowRunResult, WorkflowError> {
        let start = self.answer_state(checkpoint_id, responses).await?;
        Ok(self.collect(start).await)
    }

    /// [`Workflow::send_responses`], yielding events as they happen.
    pub fn send_responses_stream(
        &self,
        checkpoint_id: &str,
        responses: Vec<RequestResponse>,
    ) -> BoxStream<'static, WorkflowEvent> {
        let this = self.clone();
        let checkpoint_id = checkpoint_id.to_string();
        let span = run_span(&self.inner.name);
        event_stream(move |sink| async move {
            match this.answer_state(&checkpoint_id, responses).await {
                Ok(start) => {
                    drive(&this.inner, start, sink, span).await;
                }
                Err(error) => failed(&sink, error),
            }
        })
    }

    /// Runs the workflow on `input` (JSON of the start executor's input type) under `run_id`,
    /// every executor invocation going through `journal` (see [`crate::journal`]): the way a
    /// durable-execution engine runs it. On a replay (the same `run_id`, input and journal)
    /// invocations the journal recorded are not run again. The run waits for answers to its
    /// requests when the journal gives them ([`InvocationJournal::answers`]), and pauses
    /// otherwise. `Err` means the run could not start (the input does not parse).
    pub async fn run_journaled(
        &self,
        input: serde_json::Value,
        run_id: impl Into<String>,
        journal: &dyn InvocationJournal,
    ) -> Result<WorkflowRunResult, WorkflowError> {
        let start_type = self.start_type();
        let message = (start_type.from_json)(input).map_err(|e| WorkflowError::InputType {
            executor_id: self.start_id().to_string(),
            expected: self.inner.names.of_type(&start_type),
            found: format!("JSON that does not parse as it ({e})"),
        })?;
        let run_id = run_id.into();
        let state = RunState::with_run_id(run_id.clone(), self.inner.start, message);
        let start = Start { state, resumed_from: None };
        let (sink, mut receiver) = mpsc::unbounded_channel();
        drive_journaled(&self.inner, start, sink, run_span(&self.inner.name), Some(journal)).await;
        let mut events = Vec::new();
        while let Ok(event) = receiver.try_recv() {
            events.push(event);
        }
        Ok(WorkflowRunResult::from_events(run_id, events))
    }

    /// The stable name of a message's type in this workflow (see
    /// [`crate::WorkflowBuilder::message`]): what checkpoints and journals call it.
    pub fn message_name(&self, message: &AnyMessage) -> String {
        self.inner.names.of_message(message)
    }

    /// A run's checkpoints in the workflow's store, oldest first.
    pub async fn list_checkpoints(&self, run_id: &str) -> Result<Vec<CheckpointInfo>, WorkflowError> {
        Ok(self.store()?.list(run_id).await?)
    }

    async fn collect(&self, start: Start) -> WorkflowRunResult {
        let run_id = start.state.run_id.clone();
        let (sink, mut receiver) = mpsc::unbounded_channel();
        let _status: RunStatus = drive(&self.inner, start, sink, run_span(&self.inner.name)).await;
        let mut events = Vec::new();
        while let Ok(event) = receiver.try_recv() {
            events.push(event);
        }
        WorkflowRunResult::from_events(run_id, events)
    }
}

fn failed(sink: &EventSink, error: WorkflowError) {
    let _ = sink.send(WorkflowEvent::Failed { error: Arc::new(error) });
    let _ = sink.send(WorkflowEvent::Status { status: RunStatus::Failed });
}

/// Runs the work made by `work` and yields the events it sends while it runs, without spawning
/// a task: dropping the stream drops the work.
fn event_stream<W, Fut>(work: W) -> BoxStream<'static, WorkflowEvent>
where
    W: FnOnce(EventSink) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (sink, mut receiver) = mpsc::unbounded_channel();
    let work = work(sink);
    Box::pin(async_stream::stream! {
        let mut work = std::pin::pin!(work);
        let mut finished = false;
        loop {
            tokio::select! {
                biased;
                Some(event) = receiver.recv() => yield event,
                () = &mut work, if !finished => finished = true,
                else => break,
            }
        }
    })
}
