//! The superstep of a journaled run (see [`crate::journal`]): each executor's invocation goes
//! through the run's [`InvocationJournal`], one at a time in executor order, and its recorded
//! effects are applied.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::Instrument as _;

use crate::context::{ContextInner, EventSink, Outgoing, SharedState, lock};
use crate::error::{BoxError, WorkflowError};
use crate::events::{WorkflowEvent, WorkflowOutput};
use crate::executor::{Delivery, ErasedExecutor};
use crate::journal::{InvocationEffects, InvocationJournal, InvocationKey, SentRecord, YieldedRecord};
use crate::message::{AnyMessage, MessageNames};
use crate::runner::{RunState, route_sent};
use crate::telemetry;
use crate::workflow::WorkflowInner;

/// What an invocation's work needs, owned (the work is `'static`).
struct Invocation {
    executor: Arc<dyn ErasedExecutor>,
    deliveries: Vec<Delivery>,
    superstep: u64,
    committed: Arc<SharedState>,
    budget: Option<weft_core::RunBudget>,
    /// The run's sink, for the events that are not part of the effects.
    sink: EventSink,
    names: Arc<MessageNames>,
}

fn yielded(names: &MessageNames, value: &AnyMessage) -> Result<YieldedRecord, serde_json::Error> {
    Ok(YieldedRecord { type_name: names.of_message(value), value: value.to_json()? })
}

/// Runs the executor on its deliveries with a context of its own and collects its effects.
async fn work(invocation: Invocation) -> Result<InvocationEffects, BoxError> {
    let Invocation { executor, deliveries, superstep, committed, budget, sink, names } = invocation;
    let (own_sink, mut events) = mpsc::unbounded_channel();
    let ctx =
        ContextInner::new(executor.id().to_string(), superstep, committed, budget, own_sink, names.clone());
    for delivery in deliveries {
        executor.deliver(delivery, ctx.clone()).await?;
    }
    let mut effects = InvocationEffects::default();
    for Outgoing { target, message } in std::mem::take(&mut *lock(&ctx.sent)) {
        effects.sent.push(SentRecord {
            target,
            type_name: names.of_message(&message),
            value: message.to_json()?,
        });
    }
    effects.writes = std::mem::take(&mut *lock(&ctx.writes));
    effects.requests = std::mem::take(&mut *lock(&ctx.requests));
    while let Ok(event) = events.try_recv() {
        match event {
            WorkflowEvent::Output(output) => effects.outputs.push(yielded(&names, &output.value)?),
            WorkflowEvent::Custom { event, .. } => effects.events.push(yielded(&names, &event)?),
            // Part of the effects already.
            WorkflowEvent::RequestInfo(_) => {}
            other => {
                let _ = sink.send(other);
            }
        }
    }
    effects.snapshot = executor.snapshot()?;
    Ok(effects)
}

/// A recorded message as the workflow's type of that name (JSON for a type it does not know).
fn message(
    workflow: &WorkflowInner,
    type_name: &str,
    value: serde_json::Value,
) -> Result<AnyMessage, WorkflowError> {
    // A journal written by an older build may call a type by its Rust name.
    let by_rust_name = || workflow.types.values().find(|t| t.name == type_name);
    match workflow.types.get(type_name).or_else(by_rust_name) {
        Some(message_type) => {
            (message_type.from_json)(value).map_err(|e| WorkflowError::Checkpoint(e.into()))
        }
        None => Ok(AnyMessage::from_json(value)),
    }
}

/// One superstep of a journaled run.
pub(crate) async fn superstep(
    workflow: &WorkflowInner,
    state: &mut RunState,
    budget: Option<&weft_core::RunBudget>,
    sink: &EventSink,
    span: &tracing::Span,
    journal: &dyn InvocationJournal,
) -> Result<(), WorkflowError> {
    let number = state.superstep;
    let emit = |event| {
        let _ = sink.send(event);
    };
    emit(WorkflowEvent::SuperstepStarted { superstep: number });
    let mut inboxes: BTreeMap<usize, Vec<Delivery>> = BTreeMap::new();
    for (target, delivery) in std::mem::take(&mut state.pending) {
        inboxes.entry(target).or_default().push(delivery);
    }
    let mut origins = std::mem::take(&mut state.origins);
    let mut done = Vec::with_capacity(inboxes.len());
    for (position, deliveries) in inboxes {
        let executor = workflow.executors[position].clone();
        let id = executor.id().to_string();
        let joined = origins.remove(&position).unwrap_or_default();
        let executor_span = telemetry::executor_span(span, &id, number, deliveries.len(), &joined);
        let fields = weft_core::telemetry::propagation::trace_fields(&executor_span);
        let count = deliveries.len();
        for _ in 0..count {
            emit(WorkflowEvent::ExecutorInvoked { executor_id: id.clone(), superstep: number });
        }
        let key = InvocationKey { run_id: state.run_id.clone(), superstep: number, executor_id: id.clone() };
        let invocation = Invocation {
            executor: executor.clone(),
            deliveries,
            superstep: number,
            committed: state.shared.clone(),
            budget: budget.cloned(),
            sink: sink.clone(),
            names: workflow.names.clone(),
        };
        let outcome =
            journal.invoke(&key, Box::pin(work(invocation))).instrument(executor_span.clone()).await;
        let effects = match outcome {
            Ok(effects) => effects,
            Err(source) => {
                emit(WorkflowEvent::ExecutorFailed {
                    executor_id: id.clone(),
                    superstep: number,
                    error: source.to_string(),
                });
                telemetry::record_error(&executor_span, "executor_failed");
                telemetry::record_error(span, "executor_failed");
                return Err(WorkflowError::Executor { executor_id: id, superstep: number, source });
            }
        };
        if let Some(snapshot) = &effects.snapshot {
            executor.restore(snapshot.clone()).map_err(|source| WorkflowError::Executor {
                executor_id: id.clone(),
                superstep: number,
                source,
            })?;
        }
        for output in &effects.outputs {
            let value = message(workflow, &output.type_name, output.value.clone())?;
            emit(WorkflowEvent::Output(WorkflowOutput { executor_id: id.clone(), value }));
        }
        for event in &effects.events {
            let event = message(workflow, &event.type_name, event.value.clone())?;
            emit(WorkflowEvent::Custom { executor_id: id.clone(), event });
        }
        for request in &effects.requests {
            emit(WorkflowEvent::RequestInfo(request.clone()));
        }
        for _ in 0..count {
            emit(WorkflowEvent::ExecutorCompleted { executor_id: id.clone(), superstep: number });
        }
        done.push((position, effects, fields));
    }
    let mut shared = (*state.shared).clone();
    for (position, effects, fields) in done {
        let mut sent = Vec::with_capacity(effects.sent.len());
        for record in effects.sent {
            sent.push(Outgoing {
                target: record.target,
                message: message(workflow, &record.type_name, record.value)?,
            });
        }
        route_sent(workflow, state, position, sent, &fields)?;
        for (key, value) in effects.writes {
            match value {
                Some(value) => shared.insert(key, value),
                None => shared.remove(&key),
            };
        }
        state.requests.extend(effects.requests);
    }
    state.shared = Arc::new(shared);
    emit(WorkflowEvent::SuperstepCompleted { superstep: number });
    Ok(())
}
