//! The conversation virtual object: one Restate object per conversation id, whose state is the
//! conversation's [`AgentSession`]. Restate runs one exclusive handler per key at a time, so
//! messages sent to one conversation at once are taken in turn and none is lost.

use restate_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;
use weft_core::agent::{AgentResponse, AgentSession, ChatAgent};
use weft_core::message::Message;

use crate::error::DurableError;
use crate::steps::{StepRetry, run_with_steps};

/// The name the conversation object is registered under in Restate. Clients call
/// `POST {ingress}/WeftAgent/{conversation id}/send`.
pub const OBJECT_NAME: &str = "WeftAgent";

/// The state key of the conversation's session.
const SESSION: &str = "session";

/// The most bytes one message may have.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// A message for a conversation (the body of `send`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnRequest {
    /// The user's message.
    pub message: String,
}

/// The agent's answer to one message (what `send` returns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnReply {
    /// The text of the answer.
    pub text: String,
    /// The whole run: the messages it added (model messages and tool results), usage, model calls.
    pub response: AgentResponse,
}

/// The durable agent behind [`OBJECT_NAME`]: runs `agent` on each message, with the
/// conversation's history from the object's state. Build `agent` over a
/// [`crate::DurableChatClient`] and [`crate::DurableTool`]s so that its model and tool calls are
/// journaled steps; calls it makes through undecorated clients or tools run again on replay.
pub struct AgentObject {
    agent: ChatAgent,
    retry: StepRetry,
}

impl AgentObject {
    /// The object over `agent`, its steps retried under `retry`.
    pub fn new(agent: ChatAgent, retry: StepRetry) -> Self {
        Self { agent, retry }
    }
}

/// The span of one attempt of a handler invocation (OpenTelemetry RPC server conventions), which
/// continues the caller's trace: Restate hands the invocation the `traceparent` of the request
/// that started it, so a run's agent, model and tool spans join the trace of whoever sent the
/// message (when export is set up). A replay after a crash is a new attempt: a new span in the
/// same trace.
fn invocation_span(ctx: &ObjectContext<'_>, method: &str) -> tracing::Span {
    let span = tracing::info_span!(
        "restate.invocation",
        otel.name = %format!("{OBJECT_NAME}/{method}"),
        otel.kind = "server",
        rpc.system = "restate",
        rpc.service = OBJECT_NAME,
        rpc.method = method,
        restate.invocation.id = ctx.invocation_id(),
        gen_ai.conversation.id = ctx.key(),
    );
    if !span.is_disabled() {
        let headers = ctx.headers();
        weft_core::telemetry::propagation::continue_remote(&span, &|name| headers.get(name).cloned());
    }
    span
}

fn terminal(error: DurableError) -> HandlerError {
    TerminalError::new(error.to_string()).into()
}

#[object(name = "WeftAgent")]
impl AgentObject {
    /// Runs the agent on a message of the conversation keyed by the object's key, and keeps the
    /// exchange in the conversation's state.
    #[handler]
    async fn send(
        &self,
        ctx: ObjectContext<'_>,
        request: Json<TurnRequest>,
    ) -> HandlerResult<Json<TurnReply>> {
        let Json(TurnRequest { message }) = request;
        if message.len() > MAX_MESSAGE_BYTES {
            return Err(TerminalError::new(format!(
                "the message has {} bytes, more than the {MAX_MESSAGE_BYTES} allowed",
                message.len()
            ))
            .with_code(400)
            .into());
        }
        let key = ctx.key().to_owned();
        let invocation_id = ctx.invocation_id().to_owned();
        let mut session = match ctx.get::<Json<AgentSession>>(SESSION).await? {
            Some(Json(session)) => session,
            None => {
                let mut session = AgentSession::new();
                session.id = key;
                session
            }
        };
        let agent = &self.agent;
        let span = invocation_span(&ctx, "send");
        let run = run_with_steps(&ctx, &invocation_id, self.retry, agent.run(&mut session, message))
            .instrument(span)
            .await;
        let response = run.map_err(terminal)?.map_err(|e| terminal(DurableError::Agent(e)))?;
        ctx.set(SESSION, Json(session));
        Ok(Json(TurnReply { text: response.text(), response }))
    }

    /// The conversation's messages so far (read without waiting for a running `send`).
    #[handler]
    async fn messages(&self, ctx: SharedObjectContext<'_>) -> HandlerResult<Json<Vec<Message>>> {
        let session = ctx.get::<Json<AgentSession>>(SESSION).await?;
        Ok(Json(session.map(|Json(s)| s.messages).unwrap_or_default()))
    }
}
