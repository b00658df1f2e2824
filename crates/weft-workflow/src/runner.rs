//! The superstep engine: delivers messages, runs executors concurrently, routes what they send,
//! commits shared state and saves checkpoints.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::future::join_all;
use tracing::Instrument as _;

use crate::checkpoint::{CHECKPOINT_FORMAT_VERSION, Checkpoint, FanInRecord, MessageRecord, migrate};
use crate::context::Outgoing;
use crate::context::{ContextInner, EventSink, SharedState, lock};
use crate::edges::{EdgeKind, FanInBuffers, route};
use crate::error::{BoxError, CheckpointError, WorkflowError};
use crate::events::{RunStatus, WorkflowEvent};
use crate::executor::Delivery;
use crate::journal::InvocationJournal;
use crate::message::AnyMessage;
use crate::request::{PendingRequest, RequestResponse};
use crate::telemetry::{self, Origin};
use crate::workflow::WorkflowInner;
use weft_core::telemetry::propagation::TraceFields;

/// A run between supersteps.
pub(crate) struct RunState {
    pub(crate) run_id: String,
    /// The last completed superstep.
    pub(crate) superstep: u64,
    /// What the next superstep delivers: (executor index, delivery), in order.
    pub(crate) pending: Vec<(usize, Delivery)>,
    pub(crate) fan_in: FanInBuffers,
    pub(crate) shared: Arc<SharedState>,
    pub(crate) requests: Vec<PendingRequest>,
    /// Per fan-in edge: the senders of the messages it holds (for the target's span links).
    pub(crate) fan_in_origins: BTreeMap<usize, Vec<Origin>>,
    /// Per executor: the fan-in senders of what the next superstep delivers to it.
    pub(crate) origins: BTreeMap<usize, Vec<Origin>>,
}

impl RunState {
    pub(crate) fn new(start: usize, input: AnyMessage) -> Self {
        Self::with_run_id(uuid::Uuid::new_v4().to_string(), start, input)
    }

    /// A fresh run under a run id the caller chose (a journaled run's, stable across replays).
    pub(crate) fn with_run_id(run_id: String, start: usize, input: AnyMessage) -> Self {
        Self {
            run_id,
            superstep: 0,
            pending: vec![(start, Delivery::Message(input))],
            fan_in: FanInBuffers::new(),
            shared: Arc::new(SharedState::new()),
            requests: Vec::new(),
            fan_in_origins: BTreeMap::new(),
            origins: BTreeMap::new(),
        }
    }
}

/// How a run begins.
pub(crate) struct Start {
    pub(crate) state: RunState,
    pub(crate) resumed_from: Option<String>,
}

fn emit(sink: &EventSink, event: WorkflowEvent) {
    let _ = sink.send(event);
}

fn fail(sink: &EventSink, error: WorkflowError) -> RunStatus {
    emit(sink, WorkflowEvent::Failed { error: Arc::new(error) });
    emit(sink, WorkflowEvent::Status { status: RunStatus::Failed });
    RunStatus::Failed
}

/// Drives a run until it is idle, paused on requests, or failed, inside `run` (its span, from
/// [`telemetry::run_span`] where the run was asked for). Every event goes to `sink`.
pub(crate) async fn drive(
    workflow: &WorkflowInner,
    start: Start,
    sink: EventSink,
    run: tracing::Span,
) -> RunStatus {
    drive_journaled(workflow, start, sink, run, None).await
}

/// [`drive`], each executor invocation going through `journal` when there is one (see
/// [`crate::journal`]).
pub(crate) async fn drive_journaled(
    workflow: &WorkflowInner,
    start: Start,
    sink: EventSink,
    run: tracing::Span,
    journal: Option<&dyn InvocationJournal>,
) -> RunStatus {
    let status = drive_in(workflow, start, &sink, &run, journal).instrument(run.clone()).await;
    let name = match status {
        RunStatus::InProgress => "in_progress",
        RunStatus::Idle => "idle",
        RunStatus::IdleWithPendingRequests => "idle_with_pending_requests",
        RunStatus::Failed => "failed",
    };
    run.record(telemetry::WORKFLOW_STATUS, name);
    status
}

fn error_type(error: &WorkflowError) -> &'static str {
    match error {
        WorkflowError::Executor { .. } => "executor_failed",
        WorkflowError::InputType { .. } => "input_type",
        WorkflowError::NoEdge { .. } => "no_edge",
        WorkflowError::MaxSupersteps { .. } => "max_supersteps",
        WorkflowError::Checkpoint(_) => "checkpoint",
        WorkflowError::NoCheckpointStore => "no_checkpoint_store",
        WorkflowError::Journal { .. } => "journal",
    }
}

async fn drive_in(
    workflow: &WorkflowInner,
    start: Start,
    sink: &EventSink,
    run: &tracing::Span,
    journal: Option<&dyn InvocationJournal>,
) -> RunStatus {
    let fail = |sink: &EventSink, error: WorkflowError| {
        telemetry::record_error(run, error_type(&error));
        fail(sink, error)
    };
    let Start { mut state, resumed_from } = start;
    let budget = workflow.budget.clone().map(weft_core::RunBudget::new);
    let fresh = resumed_from.is_none();
    run.record(telemetry::WORKFLOW_RUN_ID, state.run_id.as_str());
    if let Some(checkpoint) = &resumed_from {
        run.record(telemetry::WORKFLOW_RESUMED_FROM, checkpoint.as_str());
    }
    let sink = sink.clone();
    emit(&sink, WorkflowEvent::Started { run_id: state.run_id.clone(), resumed_from });
    emit(&sink, WorkflowEvent::Status { status: RunStatus::InProgress });
    if fresh {
        if let Err(error) = save(workflow, &state, &sink, journal).await {
            return fail(&sink, error);
        }
    }
    // Requests still unanswered from before the checkpoint are reported again.
    for request in &state.requests {
        emit(&sink, WorkflowEvent::RequestInfo(request.clone()));
    }
    loop {
        while !state.pending.is_empty() {
            if state.superstep >= workflow.max_supersteps {
                return fail(&sink, WorkflowError::MaxSupersteps { limit: workflow.max_supersteps });
            }
            state.superstep += 1;
            let span = telemetry::superstep_span(state.superstep);
            let asked = state.requests.len();
            let started = std::time::Instant::now();
            let done = match journal {
                None => {
                    superstep(workflow, &mut state, budget.as_ref(), &sink, &span)
                        .instrument(span.clone())
                        .await
                }
                Some(journal) => {
                    crate::journaled::superstep(workflow, &mut state, budget.as_ref(), &sink, &span, journal)
                        .instrument(span.clone())
                        .await
                }
            };
            telemetry::record_superstep(&workflow.name, started.elapsed(), done.is_err());
            if let Err(error) = done {
                return fail(&sink, error);
            }
            for request in &state.requests[asked.min(state.requests.len())..] {
                telemetry::request_event(run, request);
            }
            if let Err(error) = save(workflow, &state, &sink, journal).await {
                return fail(&sink, error);
            }
        }
        // A journal that can wait for answers durably keeps the run going with them.
        let Some(journal) = journal.filter(|_| !state.requests.is_empty()) else { break };
        telemetry::waiting_event(run, state.requests.len());
        match journal.answers(&state.requests).await {
            Ok(Some(responses)) => {
                if let Err(error) = answer(workflow, &mut state, responses, "the run") {
                    return fail(&sink, error);
                }
            }
            Ok(None) => break,
            Err(source) => return fail(&sink, WorkflowError::Journal { source }),
        }
    }
    let status = if state.requests.is_empty() {
        RunStatus::Idle
    } else {
        telemetry::waiting_event(run, state.requests.len());
        RunStatus::IdleWithPendingRequests
    };
    emit(&sink, WorkflowEvent::Status { status });
    status
}

/// One executor's superstep: its position, context, span context and outcome.
type Worked = (usize, Arc<ContextInner>, TraceFields, Result<(), BoxError>);

async fn superstep(
    workflow: &WorkflowInner,
    state: &mut RunState,
    budget: Option<&weft_core::RunBudget>,
    sink: &EventSink,
    span: &tracing::Span,
) -> Result<(), WorkflowError> {
    let number = state.superstep;
    emit(sink, WorkflowEvent::SuperstepStarted { superstep: number });
    let mut inboxes: BTreeMap<usize, Vec<Delivery>> = BTreeMap::new();
    for (target, delivery) in std::mem::take(&mut state.pending) {
        inboxes.entry(target).or_default().push(delivery);
    }
    let mut origins = std::mem::take(&mut state.origins);
    let work = inboxes.into_iter().map(|(position, deliveries)| {
        let executor = workflow.executors[position].clone();
        let ctx = ContextInner::new(
            executor.id().to_string(),
            number,
            state.shared.clone(),
            budget.cloned(),
            sink.clone(),
            workflow.names.clone(),
        );
        let joined = origins.remove(&position).unwrap_or_default();
        let executor_span = telemetry::executor_span(span, executor.id(), number, deliveries.len(), &joined);
        let fields = weft_core::telemetry::propagation::trace_fields(&executor_span);
        let traced = executor_span.clone();
        let work = async move {
            let id = executor.id().to_string();
            for delivery in deliveries {
                emit(sink, WorkflowEvent::ExecutorInvoked { executor_id: id.clone(), superstep: number });
                if let Err(error) = executor.deliver(delivery, ctx.clone()).await {
                    emit(
                        sink,
                        WorkflowEvent::ExecutorFailed {
                            executor_id: id.clone(),
                            superstep: number,
                            error: error.to_string(),
                        },
                    );
                    return (position, ctx, Err(error));
                }
                emit(sink, WorkflowEvent::ExecutorCompleted { executor_id: id.clone(), superstep: number });
            }
            (position, ctx, Ok(()))
        };
        async move {
            let (position, ctx, result) = work.instrument(traced.clone()).await;
            if result.is_err() {
                telemetry::record_error(&traced, "executor_failed");
            }
            (position, ctx, fields, result)
        }
    });
    let results: Vec<Worked> = join_all(work).await;
    let mut done = Vec::with_capacity(results.len());
    for (position, ctx, fields, result) in results {
        if let Err(source) = result {
            telemetry::record_error(span, "executor_failed");
            return Err(WorkflowError::Executor {
                executor_id: workflow.executors[position].id().to_string(),
                superstep: number,
                source,
            });
        }
        done.push((position, ctx, fields));
    }
    let mut shared = (*state.shared).clone();
    for (position, ctx, fields) in &done {
        let sent = std::mem::take(&mut *lock(&ctx.sent));
        route_sent(workflow, state, *position, sent, fields)?;
        for (key, value) in std::mem::take(&mut *lock(&ctx.writes)) {
            match value {
                Some(value) => shared.insert(key, value),
                None => shared.remove(&key),
            };
        }
        state.requests.append(&mut lock(&ctx.requests));
    }
    state.shared = Arc::new(shared);
    emit(sink, WorkflowEvent::SuperstepCompleted { superstep: number });
    Ok(())
}

/// Routes the messages the executor at `position` sent in this superstep.
pub(crate) fn route_sent(
    workflow: &WorkflowInner,
    state: &mut RunState,
    position: usize,
    sent: Vec<Outgoing>,
    fields: &TraceFields,
) -> Result<(), WorkflowError> {
    let source = workflow.executors[position].id();
    let mut out = Vec::new();
    // Fan-in targets' deliveries, with the senders they join (for the targets' span links).
    let mut joins: Vec<(String, Vec<Origin>)> = Vec::new();
    for sent in sent {
        let only_to = sent.target.as_deref();
        let mut leads_there = false;
        for &edge in &workflow.outgoing[position] {
            let before = out.len();
            leads_there |= route(
                edge,
                &workflow.edges[edge],
                source,
                &sent.message,
                only_to,
                &mut state.fan_in,
                &mut out,
            );
            if let EdgeKind::FanIn { target, .. } = &workflow.edges[edge] {
                if only_to.is_none_or(|only| only == target) {
                    let origins = state.fan_in_origins.entry(edge).or_default();
                    origins.push(Origin { executor_id: source.to_string(), fields: fields.clone() });
                    if out.len() > before {
                        joins.push((target.clone(), state.fan_in_origins.remove(&edge).unwrap_or_default()));
                    }
                }
            }
        }
        if let (Some(target), false) = (only_to, leads_there) {
            return Err(WorkflowError::NoEdge {
                executor_id: source.to_string(),
                target: target.to_string(),
            });
        }
    }
    for (target, message) in out {
        if let Some(&index) = workflow.index.get(&target) {
            state.pending.push((index, Delivery::Message(message)));
        }
    }
    for (target, origins) in joins {
        if let Some(&index) = workflow.index.get(&target) {
            state.origins.entry(index).or_default().extend(origins);
        }
    }
    Ok(())
}

/// Saves a checkpoint when the workflow has a store, and hands the journaled run's state to
/// its journal.
async fn save(
    workflow: &WorkflowInner,
    state: &RunState,
    sink: &EventSink,
    journal: Option<&dyn InvocationJournal>,
) -> Result<(), WorkflowError> {
    if let Some(journal) = journal {
        let mut checkpoint = to_checkpoint(workflow, state)?;
        checkpoint.checkpoint_id = format!("{}-{}", state.run_id, state.superstep);
        checkpoint.created_at_ms = 0;
        journal.superstep_completed(&checkpoint).await.map_err(|source| WorkflowError::Journal { source })?;
    }
    let Some(store) = &workflow.store else { return Ok(()) };
    let checkpoint = to_checkpoint(workflow, state)?;
    store.save(&checkpoint).await?;
    emit(
        sink,
        WorkflowEvent::CheckpointSaved {
            checkpoint_id: checkpoint.checkpoint_id,
            superstep: state.superstep,
        },
    );
    Ok(())
}

/// Delivers answers to pending requests in the next superstep (`whence` names where the
/// requests were pending, for errors).
pub(crate) fn answer(
    workflow: &WorkflowInner,
    state: &mut RunState,
    responses: Vec<RequestResponse>,
    whence: &str,
) -> Result<(), WorkflowError> {
    for response in responses {
        let position = state.requests.iter().position(|r| r.request_id == response.request_id);
        let Some(position) = position else {
            return Err(CheckpointError::Incompatible(format!(
                "no pending request '{}' in {whence}",
                response.request_id
            ))
            .into());
        };
        let request = state.requests.remove(position);
        let answered = workflow.names.of_message(&response.value);
        if !response.value.is_untyped_json() && request.response_type != answered {
            return Err(WorkflowError::InputType {
                executor_id: request.executor_id,
                expected: request.response_type,
                found: answered,
            });
        }
        let target = workflow.index.get(&request.executor_id).copied().ok_or_else(|| {
            CheckpointError::Incompatible(format!("unknown executor '{}'", request.executor_id))
        })?;
        state.pending.push((target, Delivery::Response(Box::new(request), response.value)));
    }
    Ok(())
}

fn record(
    workflow: &WorkflowInner,
    executor_id: &str,
    message: &AnyMessage,
) -> Result<MessageRecord, CheckpointError> {
    Ok(MessageRecord {
        executor_id: executor_id.to_string(),
        type_name: workflow.names.of_message(message),
        value: message.to_json()?,
    })
}

/// The run's state as a checkpoint.
pub(crate) fn to_checkpoint(
    workflow: &WorkflowInner,
    state: &RunState,
) -> Result<Checkpoint, CheckpointError> {
    let mut messages = Vec::with_capacity(state.pending.len());
    for (target, delivery) in &state.pending {
        if let Delivery::Message(message) = delivery {
            messages.push(record(workflow, workflow.executors[*target].id(), message)?);
        }
    }
    let mut fan_in = Vec::new();
    for (edge, buffers) in &state.fan_in {
        let sources = workflow.edges[*edge].sources();
        let mut records = Vec::new();
        for (source, buffer) in sources.iter().zip(buffers) {
            for message in buffer {
                records.push(record(workflow, source, message)?);
            }
        }
        fan_in.push(FanInRecord { edge: workflow.edges[*edge].describe(), messages: records });
    }
    let mut executor_states = BTreeMap::new();
    for executor in &workflow.executors {
        let snapshot = executor.snapshot().map_err(|source| CheckpointError::ExecutorState {
            executor_id: executor.id().to_string(),
            source,
        })?;
        if let Some(snapshot) = snapshot {
            executor_states.insert(executor.id().to_string(), snapshot);
        }
    }
    let created_at_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    Ok(Checkpoint {
        format_version: CHECKPOINT_FORMAT_VERSION,
        workflow_version: workflow.version,
        checkpoint_id: uuid::Uuid::new_v4().to_string(),
        run_id: state.run_id.clone(),
        workflow_name: workflow.name.clone(),
        superstep: state.superstep,
        created_at_ms,
        messages,
        fan_in,
        shared_state: (*state.shared).clone(),
        executor_states,
        pending_requests: state.requests.clone(),
    })
}

/// Rebuilds a run's state from a checkpoint and restores the executors' state. Runs no
/// handler code: messages are rebuilt by the deserializers recorded at build time.
pub(crate) fn from_checkpoint(
    workflow: &WorkflowInner,
    checkpoint: Checkpoint,
) -> Result<RunState, CheckpointError> {
    let checkpoint = migrate(workflow, checkpoint)?;
    let incompatible = |what: String| CheckpointError::Incompatible(what);
    let executor = |id: &str| {
        workflow.index.get(id).copied().ok_or_else(|| incompatible(format!("unknown executor '{id}'")))
    };
    let message = |record: MessageRecord| -> Result<AnyMessage, CheckpointError> {
        let message_type = workflow
            .types
            .get(&record.type_name)
            .ok_or_else(|| CheckpointError::UnknownMessageType { name: record.type_name.clone() })?;
        Ok((message_type.from_json)(record.value)?)
    };
    let mut pending = Vec::with_capacity(checkpoint.messages.len());
    for record in checkpoint.messages {
        let target = executor(&record.executor_id)?;
        pending.push((target, Delivery::Message(message(record)?)));
    }
    let mut fan_in = FanInBuffers::new();
    for record in checkpoint.fan_in {
        let edge = workflow
            .edges
            .iter()
            .position(|e| e.describe() == record.edge)
            .ok_or_else(|| incompatible(format!("unknown fan-in edge {}", record.edge)))?;
        let sources: Vec<String> = workflow.edges[edge].sources().into_iter().map(str::to_string).collect();
        let mut buffers = vec![Vec::new(); sources.len()];
        for message_record in record.messages {
            let slot = sources.iter().position(|s| *s == message_record.executor_id).ok_or_else(|| {
                incompatible(format!("'{}' is no source of {}", message_record.executor_id, record.edge))
            })?;
            buffers[slot].push(message(message_record)?);
        }
        fan_in.insert(edge, buffers);
    }
    for (id, snapshot) in checkpoint.executor_states {
        let position = executor(&id)?;
        workflow.executors[position]
            .restore(snapshot)
            .map_err(|source| CheckpointError::ExecutorState { executor_id: id, source })?;
    }
    Ok(RunState {
        run_id: checkpoint.run_id,
        superstep: checkpoint.superstep,
        pending,
        fan_in,
        shared: Arc::new(checkpoint.shared_state),
        requests: checkpoint.pending_requests,
        fan_in_origins: BTreeMap::new(),
        origins: BTreeMap::new(),
    })
}
