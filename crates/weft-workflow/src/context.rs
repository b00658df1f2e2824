//! The context an executor's handler works through: sending messages, yielding outputs,
//! emitting events, shared state and requests to the outside.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::events::{WorkflowEvent, WorkflowOutput};
use crate::message::{AnyMessage, MessageNames, WorkflowMessage};
use crate::request::PendingRequest;

/// Where the engine's events go while a run is driven.
pub(crate) type EventSink = mpsc::UnboundedSender<WorkflowEvent>;

/// Locks a mutex, recovering the data when a panicking holder poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A message an executor sent in this superstep.
pub(crate) struct Outgoing {
    /// Only edges to this executor carry it, when set.
    pub(crate) target: Option<String>,
    pub(crate) message: AnyMessage,
}

/// The shared state as a superstep sees it: the state committed by earlier supersteps.
pub(crate) type SharedState = BTreeMap<String, Value>;

/// What one executor did in one superstep, shared between its handler calls and the engine.
pub(crate) struct ContextInner {
    pub(crate) executor_id: String,
    pub(crate) superstep: u64,
    pub(crate) sent: Mutex<Vec<Outgoing>>,
    /// State writes of this executor (`None` removes the key), committed after the superstep.
    pub(crate) writes: Mutex<BTreeMap<String, Option<Value>>>,
    pub(crate) requests: Mutex<Vec<PendingRequest>>,
    committed: Arc<SharedState>,
    budget: Option<weft_core::RunBudget>,
    sink: EventSink,
    /// The workflow's stable message names (for requests).
    names: Arc<MessageNames>,
}

impl ContextInner {
    pub(crate) fn new(
        executor_id: String,
        superstep: u64,
        committed: Arc<SharedState>,
        budget: Option<weft_core::RunBudget>,
        sink: EventSink,
        names: Arc<MessageNames>,
    ) -> Arc<Self> {
        Arc::new(Self {
            executor_id,
            superstep,
            sent: Mutex::new(Vec::new()),
            writes: Mutex::new(BTreeMap::new()),
            requests: Mutex::new(Vec::new()),
            committed,
            budget,
            sink,
            names,
        })
    }

    pub(crate) fn emit(&self, event: WorkflowEvent) {
        // The receiver only goes away when the caller dropped the run; nothing to report then.
        let _ = self.sink.send(event);
    }
}

/// The handle an executor's handler uses. `O` is the type of the messages the executor sends
/// along its edges. Cheap to clone; every clone acts for the same executor and superstep.
///
/// Messages sent in superstep N reach their targets in superstep N+1. Shared-state writes are
/// visible to the writer at once and to every executor from the next superstep on (writes of
/// executors in one superstep are applied in executor order, so the last added executor wins).
pub struct WorkflowContext<O> {
    inner: Arc<ContextInner>,
    _sends: PhantomData<fn(O)>,
}

impl<O> Clone for WorkflowContext<O> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), _sends: PhantomData }
    }
}

impl<O> std::fmt::Debug for WorkflowContext<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowContext")
            .field("executor_id", &self.inner.executor_id)
            .field("superstep", &self.inner.superstep)
            .finish()
    }
}

impl<O: WorkflowMessage> WorkflowContext<O> {
    pub(crate) fn new(inner: Arc<ContextInner>) -> Self {
        Self { inner, _sends: PhantomData }
    }

    /// The id of the executor this context acts for.
    pub fn executor_id(&self) -> &str {
        &self.inner.executor_id
    }

    /// The current superstep (the first is 1).
    pub fn superstep(&self) -> u64 {
        self.inner.superstep
    }

    /// The budget this run's agents share, when the workflow has one
    /// ([`crate::Workflow::with_budget`]); an executor that runs agents passes it in
    /// [`weft_core::ChatOptions::budget`], as [`crate::AgentExecutor`] does.
    pub fn budget(&self) -> Option<&weft_core::RunBudget> {
        self.inner.budget.as_ref()
    }

    /// Sends a message along every outgoing edge whose condition accepts it.
    pub fn send_message(&self, message: O) {
        lock(&self.inner.sent).push(Outgoing { target: None, message: AnyMessage::new(message) });
    }

    /// Sends a message only along the outgoing edges that lead to `target`. The run fails if no
    /// edge from this executor leads there.
    pub fn send_message_to(&self, target: impl Into<String>, message: O) {
        lock(&self.inner.sent)
            .push(Outgoing { target: Some(target.into()), message: AnyMessage::new(message) });
    }

    /// Yields a workflow output (reported as [`WorkflowEvent::Output`] at once).
    pub fn yield_output<Y: WorkflowMessage>(&self, output: Y) {
        self.inner.emit(WorkflowEvent::Output(WorkflowOutput {
            executor_id: self.inner.executor_id.clone(),
            value: AnyMessage::new(output),
        }));
    }

    /// Emits a custom event (reported as [`WorkflowEvent::Custom`] at once).
    pub fn add_event<E: WorkflowMessage>(&self, event: E) {
        self.inner.emit(WorkflowEvent::Custom {
            executor_id: self.inner.executor_id.clone(),
            event: AnyMessage::new(event),
        });
    }

    /// Reads a shared-state value: this executor's own write in this superstep, else the value
    /// committed by earlier supersteps.
    pub fn get_state<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, serde_json::Error> {
        let own = lock(&self.inner.writes).get(key).cloned();
        let value = match own {
            Some(written) => written,
            None => self.inner.committed.get(key).cloned(),
        };
        value.map(serde_json::from_value).transpose()
    }

    /// Writes a shared-state value (as JSON, so that checkpoints hold it).
    pub fn set_state<T: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(value)?;
        lock(&self.inner.writes).insert(key.into(), Some(value));
        Ok(())
    }

    /// Removes a shared-state value.
    pub fn remove_state(&self, key: impl Into<String>) {
        lock(&self.inner.writes).insert(key.into(), None);
    }

    /// Asks the outside for information. The request is reported as
    /// [`WorkflowEvent::RequestInfo`]; once no messages remain, the run pauses with
    /// [`crate::RunStatus::IdleWithPendingRequests`]. The caller's answer (a `Resp`) reaches
    /// this executor's [`crate::Executor::handle_response`]. The request carries the JSON schema
    /// of `Resp` ([`PendingRequest::response_schema`]), for a client to build a form from.
    /// Returns the request's id.
    pub fn request_info<Req: WorkflowMessage, Resp: WorkflowMessage + schemars::JsonSchema>(
        &self,
        request: Req,
    ) -> Result<String, serde_json::Error> {
        let pending = PendingRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            executor_id: self.inner.executor_id.clone(),
            request_type: self.inner.names.of::<Req>(),
            response_type: self.inner.names.of::<Resp>(),
            data: serde_json::to_value(&request)?,
            response_schema: Some(serde_json::to_value(schemars::schema_for!(Resp))?),
        };
        let id = pending.request_id.clone();
        lock(&self.inner.requests).push(pending.clone());
        self.inner.emit(WorkflowEvent::RequestInfo(pending));
        Ok(id)
    }

    /// Asks the outside the question another executor asked (a sub-workflow's request): same
    /// types and data, asked by this executor under a new id, which it returns.
    pub(crate) fn forward_request(&self, inner: &PendingRequest) -> String {
        let pending = PendingRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            executor_id: self.inner.executor_id.clone(),
            ..inner.clone()
        };
        let id = pending.request_id.clone();
        lock(&self.inner.requests).push(pending.clone());
        self.inner.emit(WorkflowEvent::RequestInfo(pending));
        id
    }

    /// Reports an event as it is (forwarding a sub-workflow's events).
    pub(crate) fn emit_event(&self, event: WorkflowEvent) {
        self.inner.emit(event);
    }

    /// Reports an agent's streamed update.
    pub fn emit_agent_update(&self, update: weft_core::AgentResponseUpdate) {
        self.inner.emit(WorkflowEvent::AgentUpdate { executor_id: self.inner.executor_id.clone(), update });
    }
}
