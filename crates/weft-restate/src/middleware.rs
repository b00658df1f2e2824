//! [`DurableCalls`]: the durable decorators as agent middleware, so that any agent (one loaded
//! from a declarative file, one with MCP tool sets) becomes durable without wrapping its client
//! and each of its tools by hand.

use async_trait::async_trait;
use weft_core::agent::ChatAgentBuilder;
use weft_core::middleware::{FunctionInvocation, Middleware, Next};
use weft_core::{ChatError, ChatErrorKind, ChatRequest, ChatResponse, ToolError, ToolErrorKind, ToolOutput};

use crate::decorators::{model_outcome, model_step, tool_outcome, tool_step};
use crate::steps::{in_durable_run, journal};

/// Chat and function middleware that make every model call and every tool invocation of an
/// agent a journaled step of the durable run that makes it, as [`crate::DurableChatClient`] and
/// [`crate::DurableTool`] do for one client and one tool: the same step names, retries and
/// idempotency keys ([`crate::current_step`]). Outside a durable run both pass the call on.
///
/// Tool sets (an MCP server's tools) are covered too, since the middleware sees every
/// invocation whatever its tool. Add it last (innermost), so that the middleware added before
/// it run again on replay and see journaled results, e.g. with [`durable_calls`]:
///
/// ```
/// use std::sync::Arc;
/// use weft_core::ScriptedClient;
/// use weft_core::agent::ChatAgent;
///
/// let agent = weft_restate::durable_calls(ChatAgent::builder(Arc::new(ScriptedClient::new())).name("demo"))
///     .build();
/// # let _ = agent;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DurableCalls;

/// `builder` with [`DurableCalls`] as its innermost chat and function middleware.
pub fn durable_calls(builder: ChatAgentBuilder) -> ChatAgentBuilder {
    builder.chat_middleware(DurableCalls).function_middleware(DurableCalls)
}

#[async_trait]
impl Middleware<ChatRequest> for DurableCalls {
    async fn handle(&self, request: ChatRequest, next: Next<ChatRequest>) -> Result<ChatResponse, ChatError> {
        if !in_durable_run() {
            return next.run(request).await;
        }
        let work = model_step(next.run(request));
        match journal("model".into(), None, work).await {
            Some(journaled) => model_outcome(journaled),
            None => Err(ChatError::new(ChatErrorKind::Other, "the durable run ended before its model call")
                .with_retryable(false)),
        }
    }
}

#[async_trait]
impl Middleware<FunctionInvocation> for DurableCalls {
    async fn handle(
        &self,
        invocation: FunctionInvocation,
        next: Next<FunctionInvocation>,
    ) -> Result<ToolOutput, ToolError> {
        if !in_durable_run() {
            return next.run(invocation).await;
        }
        let label = format!("tool:{}", invocation.call.name);
        let call_id = invocation.context.call_id.clone();
        let work = tool_step(next.run(invocation));
        match journal(label, Some(call_id), work).await {
            Some(journaled) => tool_outcome(journaled),
            None => {
                Err(ToolError::new(ToolErrorKind::Cancelled, "the durable run ended before its tool call"))
            }
        }
    }
}
