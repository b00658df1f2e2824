//! The durable decorators: a [`ChatClient`] and a [`Tool`] whose calls, inside a durable agent
//! run, are journaled steps of the Restate invocation; outside one they call the wrapped client
//! or tool directly, so the same agent also runs locally.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use weft_core::message::Content;
use weft_core::{
    ChatClient, ChatError, ChatErrorKind, ChatRequest, ChatResponse, ChatStream, ClientInfo, Tool,
    ToolContext, ToolDefinition, ToolError, ToolErrorKind, ToolOutput,
};

use crate::steps::{StepFailure, StepSendError, StepWork, journal};

/// A [`ChatClient`] whose calls are journaled steps of the durable run that makes them: once a
/// call's response is journaled, a replay of the invocation (after a crash) reads it from the
/// journal instead of calling the model again. Streamed calls are journaled whole and replayed
/// as a stream. Outside a durable run it is the wrapped client.
#[derive(Clone)]
pub struct DurableChatClient {
    inner: Arc<dyn ChatClient>,
}

impl std::fmt::Debug for DurableChatClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableChatClient").field("provider", &self.inner.info().provider).finish()
    }
}

impl DurableChatClient {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ChatClient>) -> Self {
        Self { inner }
    }

    /// Wraps `inner`, ready for [`weft_core::agent::ChatAgent::builder`].
    pub fn shared(inner: Arc<dyn ChatClient>) -> Arc<dyn ChatClient> {
        Arc::new(Self::new(inner))
    }
}

/// The model call as a step: the response, or a failure (retried when the provider says so).
pub(crate) fn model_step(
    call: impl Future<Output = Result<ChatResponse, ChatError>> + Send + 'static,
) -> StepWork {
    Box::pin(async move {
        match call.await {
            Ok(response) => serde_json::to_value(&response).map_err(|e| StepFailure {
                retryable: false,
                message: format!("the model's response is not JSON: {e}"),
            }),
            Err(error) => Err(StepFailure { retryable: error.is_retryable(), message: error.to_string() }),
        }
    })
}

/// The response a journaled model step holds.
pub(crate) fn model_outcome(journaled: Result<Value, StepSendError>) -> Result<ChatResponse, ChatError> {
    let journal_error = |message: String| ChatError::new(ChatErrorKind::Other, message).with_retryable(false);
    match journaled {
        Err(error) => Err(journal_error(error.to_string())),
        Ok(value) => serde_json::from_value(value)
            .map_err(|e| journal_error(format!("a journaled model response does not load: {e}"))),
    }
}

#[async_trait]
impl ChatClient for DurableChatClient {
    async fn get_response(&self, request: ChatRequest) -> Result<ChatResponse, ChatError> {
        let (inner, sent) = (self.inner.clone(), request.clone());
        let work = model_step(async move { inner.get_response(sent).await });
        match journal("model".into(), None, work).await {
            None => self.inner.get_response(request).await,
            Some(journaled) => model_outcome(journaled),
        }
    }

    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream {
        if !crate::steps::in_durable_run() {
            return self.inner.get_streaming_response(request);
        }
        let client = self.clone();
        futures::stream::once(async move { client.get_response(request).await })
            .flat_map(|result| match result {
                Ok(response) => futures::stream::iter(response.into_updates().into_iter().map(Ok)).boxed(),
                Err(error) => futures::stream::iter([Err(error)]).boxed(),
            })
            .boxed()
    }

    fn info(&self) -> ClientInfo {
        self.inner.info()
    }
}

/// A tool's outcome as the journal keeps it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum JournaledToolOutcome {
    /// The tool's output.
    Output { value: Value, contents: Vec<Content> },
    /// A failure the model is shown (as in a local run).
    Error { kind: String, message: String },
}

/// Whether a tool failure of this kind is retried under the step retry policy (the tool's
/// backend timed out or was unavailable) instead of being journaled and shown to the model.
fn is_transient(kind: ToolErrorKind) -> bool {
    matches!(kind, ToolErrorKind::Timeout | ToolErrorKind::Unavailable)
}

fn kind_name(kind: ToolErrorKind) -> &'static str {
    match kind {
        ToolErrorKind::InvalidArguments => "invalid_arguments",
        ToolErrorKind::NotFound => "not_found",
        ToolErrorKind::Timeout => "timeout",
        ToolErrorKind::Unavailable => "unavailable",
        ToolErrorKind::Cancelled => "cancelled",
        _ => "failed",
    }
}

fn kind_from_name(name: &str) -> ToolErrorKind {
    match name {
        "invalid_arguments" => ToolErrorKind::InvalidArguments,
        "not_found" => ToolErrorKind::NotFound,
        "timeout" => ToolErrorKind::Timeout,
        "unavailable" => ToolErrorKind::Unavailable,
        "cancelled" => ToolErrorKind::Cancelled,
        _ => ToolErrorKind::Failed,
    }
}

/// A [`Tool`] whose invocations are journaled steps of the durable run that makes them: once an
/// invocation's outcome is journaled, a replay reads it instead of invoking the tool again.
/// Inside the step, [`crate::current_step`] gives the tool its idempotency key.
///
/// Failures of kind [`ToolErrorKind::Timeout`] and [`ToolErrorKind::Unavailable`] are retried
/// under the worker's [`crate::StepRetry`]; when the attempts run out the run fails with
/// [`crate::DurableError::StepFailed`]. Other failures are journaled and shown to the model, as
/// in a local run. Outside a durable run it is the wrapped tool.
#[derive(Clone)]
pub struct DurableTool {
    inner: Arc<dyn Tool>,
}

impl std::fmt::Debug for DurableTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableTool").field("name", &self.inner.definition().name).finish()
    }
}

impl DurableTool {
    /// Wraps `tool`.
    pub fn new(tool: impl Tool) -> Self {
        Self { inner: Arc::new(tool) }
    }

    /// Wraps a shared tool.
    pub fn shared(tool: Arc<dyn Tool>) -> Self {
        Self { inner: tool }
    }
}

/// The tool call as a step: its output or a failure shown to the model (journaled), or a
/// transient failure (retried).
pub(crate) fn tool_step(
    call: impl Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
) -> StepWork {
    Box::pin(async move {
        let outcome = match call.await {
            Ok(output) => JournaledToolOutcome::Output { value: output.value, contents: output.contents },
            Err(error) if is_transient(error.kind()) => {
                return Err(StepFailure { retryable: true, message: error.to_string() });
            }
            Err(error) => JournaledToolOutcome::Error {
                kind: kind_name(error.kind()).into(),
                message: error.message().into(),
            },
        };
        serde_json::to_value(&outcome).map_err(|e| StepFailure {
            retryable: false,
            message: format!("the tool's output is not JSON: {e}"),
        })
    })
}

/// The output (or failure) a journaled tool step holds.
pub(crate) fn tool_outcome(journaled: Result<Value, StepSendError>) -> Result<ToolOutput, ToolError> {
    match journaled {
        Err(error) => Err(ToolError::new(ToolErrorKind::Cancelled, error.to_string())),
        Ok(value) => match serde_json::from_value(value) {
            Ok(JournaledToolOutcome::Output { value, contents }) => Ok(ToolOutput { value, contents }),
            Ok(JournaledToolOutcome::Error { kind, message }) => {
                Err(ToolError::new(kind_from_name(&kind), message))
            }
            Err(e) => Err(ToolError::failed(format!("a journaled tool outcome does not load: {e}"))),
        },
    }
}

#[async_trait]
impl Tool for DurableTool {
    fn definition(&self) -> &ToolDefinition {
        self.inner.definition()
    }

    async fn invoke(&self, arguments: Value, context: &ToolContext) -> Result<ToolOutput, ToolError> {
        let label = format!("tool:{}", self.inner.definition().name);
        let (inner, sent, in_step) = (self.inner.clone(), arguments.clone(), context.clone());
        let work = tool_step(async move { inner.invoke(sent, &in_step).await });
        match journal(label, Some(context.call_id.clone()), work).await {
            None => self.inner.invoke(arguments, context).await,
            Some(journaled) => tool_outcome(journaled),
        }
    }

    fn requires_approval(&self, call: &weft_core::message::FunctionCall) -> bool {
        self.inner.requires_approval(call)
    }
}
