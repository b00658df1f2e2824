//! A weft-workflow [`Workflow`] as the Restate workflow [`WORKFLOW_NAME`]: `run` (once per
//! workflow key) drives the run, each executor invocation a journaled step and each request
//! to the outside a durable promise; `respond` answers a request, `status` tells where the run
//! stands.

use restate_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::Instrument;
use weft_workflow::{Checkpoint, PendingRequest, RunStatus, Workflow};

use crate::steps::StepRetry;
use crate::workflow_journal::RestateJournal;

/// The name the workflow service is registered under in Restate. Clients call
/// `POST {ingress}/WeftWorkflow/{run key}/run` (and `/respond`, `/status`).
pub const WORKFLOW_NAME: &str = "WeftWorkflow";

/// The state key of the run's [`WorkflowStatus`].
pub(crate) const STATUS_KEY: &str = "status";

/// The most bytes a run's input or an answer may have.
pub const MAX_INPUT_BYTES: usize = 256 * 1024;

/// The durable promise that carries the answer to request `request_id`.
pub(crate) fn promise_name(request_id: &str) -> String {
    format!("request:{request_id}")
}

/// Where a durable workflow run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunPhase {
    /// Supersteps are running.
    Running,
    /// No messages remain; the run waits for answers to its pending requests.
    Waiting,
    /// The run finished.
    Completed,
    /// The run failed.
    Failed,
}

/// What `status` returns: the run's phase and its state after the last completed superstep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowStatus {
    /// The phase.
    pub phase: RunPhase,
    /// The run id (the workflow key).
    pub run_id: String,
    /// The last completed superstep (0: none yet).
    pub superstep: u64,
    /// The requests waiting for an answer (answer them with `respond`).
    pub pending_requests: Vec<PendingRequest>,
    /// The run's whole state after that superstep: messages in flight, fan-in buffers, shared
    /// state, executor snapshots (its id is `RUN_ID-N`; `created_at_ms` is 0).
    pub checkpoint: Checkpoint,
}

impl WorkflowStatus {
    pub(crate) fn of(phase: RunPhase, checkpoint: Checkpoint) -> Self {
        Self {
            phase,
            run_id: checkpoint.run_id.clone(),
            superstep: checkpoint.superstep,
            pending_requests: checkpoint.pending_requests.clone(),
            checkpoint,
        }
    }
}

/// An answer to a request of a run (the body of `respond`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestAnswer {
    /// The request's id ([`PendingRequest::request_id`], from `status`).
    pub request_id: String,
    /// The answer, as JSON of the request's response type.
    pub answer: Value,
}

/// An output of a run, as `run` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// The executor that yielded it.
    pub executor_id: String,
    /// Its type's stable name.
    pub type_name: String,
    /// Its JSON form.
    pub value: Value,
}

/// What `run` returns when the run finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowReply {
    /// The run id (the workflow key).
    pub run_id: String,
    /// The workflow outputs, in the order they were yielded.
    pub outputs: Vec<OutputRecord>,
}

/// The Restate workflow behind [`WORKFLOW_NAME`]: runs `workflow` once per workflow key, its
/// executor invocations journaled steps retried under `retry`.
pub struct WorkflowService {
    workflow: Workflow,
    retry: StepRetry,
}

impl WorkflowService {
    /// The service over `workflow`.
    pub fn new(workflow: Workflow, retry: StepRetry) -> Self {
        Self { workflow, retry }
    }
}

/// The span of one attempt of a run's `run` invocation (OpenTelemetry RPC server conventions),
/// continuing the trace of the request that started the run (Restate hands the invocation its
/// `traceparent`): the workflow's run, superstep and executor spans go under it. A replay after a
/// crash is a new attempt: a new span in the same trace.
fn run_span(ctx: &WorkflowContext<'_>) -> tracing::Span {
    let span = tracing::info_span!(
        "restate.invocation",
        otel.name = %format_args!("{WORKFLOW_NAME}/run"),
        otel.kind = "server",
        rpc.system = "restate",
        rpc.service = WORKFLOW_NAME,
        rpc.method = "run",
        restate.invocation.id = ctx.invocation_id(),
        weft.workflow.run_id = ctx.key(),
    );
    if !span.is_disabled() {
        let headers = ctx.headers();
        weft_core::telemetry::propagation::continue_remote(&span, &|name| headers.get(name).cloned());
    }
    span
}

fn too_big(what: &str, bytes: usize) -> HandlerError {
    TerminalError::new(format!("the {what} has {bytes} bytes, more than the {MAX_INPUT_BYTES} allowed"))
        .with_code(400)
        .into()
}

fn json_size(value: &Value) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX, |bytes| bytes.len())
}

#[restate_sdk::workflow(name = "WeftWorkflow")]
impl WorkflowService {
    /// Runs the workflow on `input` (JSON of the start executor's input type) under the
    /// workflow key as run id, until it finishes: requests to the outside wait for `respond`.
    #[handler]
    async fn run(&self, ctx: WorkflowContext<'_>, input: Json<Value>) -> HandlerResult<Json<WorkflowReply>> {
        let Json(input) = input;
        let size = json_size(&input);
        if size > MAX_INPUT_BYTES {
            return Err(too_big("input", size));
        }
        let run_id = ctx.key().to_owned();
        let span = run_span(&ctx);
        let journal = RestateJournal::new(&ctx, self.retry);
        let result = self
            .workflow
            .run_journaled(input, run_id.clone(), &journal)
            .instrument(span)
            .await
            .map_err(|error| TerminalError::new(error.to_string()).with_code(400))?;
        let finished = if result.status == RunStatus::Idle { RunPhase::Completed } else { RunPhase::Failed };
        journal.finish(finished);
        if result.status != RunStatus::Idle {
            let cause =
                result.error().map_or_else(|| format!("it ended {:?}", result.status), |e| e.to_string());
            return Err(TerminalError::new(format!("the workflow run {run_id} failed: {cause}")).into());
        }
        let mut outputs = Vec::with_capacity(result.outputs.len());
        for output in &result.outputs {
            let value = output
                .value
                .to_json()
                .map_err(|e| TerminalError::new(format!("an output is not JSON: {e}")))?;
            let type_name = self.workflow.message_name(&output.value);
            outputs.push(OutputRecord { executor_id: output.executor_id.clone(), type_name, value });
        }
        Ok(Json(WorkflowReply { run_id, outputs }))
    }

    /// Answers a pending request of the run: resolves its durable promise, so the run goes on
    /// (at once, or when the run's worker is back). Refused when the request is not pending or
    /// was answered already.
    #[handler]
    async fn respond(
        &self,
        ctx: SharedWorkflowContext<'_>,
        answer: Json<RequestAnswer>,
    ) -> HandlerResult<()> {
        let Json(RequestAnswer { request_id, answer }) = answer;
        let size = json_size(&answer);
        if size > MAX_INPUT_BYTES {
            return Err(too_big("answer", size));
        }
        let status = ctx.get::<Json<WorkflowStatus>>(STATUS_KEY).await?;
        let pending =
            status.is_some_and(|Json(s)| s.pending_requests.iter().any(|r| r.request_id == request_id));
        if !pending {
            return Err(TerminalError::new(format!("the run has no pending request '{request_id}'"))
                .with_code(404)
                .into());
        }
        let name = promise_name(&request_id);
        if ctx.peek_promise::<Json<Value>>(&name).await?.is_some() {
            return Err(TerminalError::new(format!("request '{request_id}' was answered already"))
                .with_code(409)
                .into());
        }
        ctx.resolve_promise(&name, Json(answer));
        Ok(())
    }

    /// Where the run stands: its phase, last superstep, pending requests and state (`null`
    /// before the run started).
    #[handler]
    async fn status(&self, ctx: SharedWorkflowContext<'_>) -> HandlerResult<Json<Option<WorkflowStatus>>> {
        Ok(Json(ctx.get::<Json<WorkflowStatus>>(STATUS_KEY).await?.map(|Json(status)| status)))
    }
}
