//! `POST /ag-ui/{entity}`: the AG-UI protocol (as `@ag-ui/core` 1.0 defines it; the tests drive it
//! with `@ag-ui/client` 1.0.0's `HttpAgent`). `entity` names the agent (as `model` does on `/v1`).
//! The body is a `RunAgentInput`; the answer is an SSE stream of AG-UI events (`data: {json}`,
//! each with its `type`):
//!
//! ```text
//! POST /ag-ui/helper
//! {"threadId": "t1", "runId": "r1", "state": {}, "tools": [], "context": [], "forwardedProps": {},
//!  "messages": [{"id": "u1", "role": "user", "content": "Tell me the weather in Paris"}]}
//!
//! data: {"type":"RUN_STARTED","threadId":"t1","runId":"r1"}
//! data: {"type":"STATE_SNAPSHOT","snapshot":{}}
//! data: {"type":"TOOL_CALL_START","toolCallId":"call_1","toolCallName":"get_weather","parentMessageId":"msg_…"}
//! data: {"type":"TOOL_CALL_ARGS","toolCallId":"call_1","delta":"{\"city\":\"Paris\"}"}
//! data: {"type":"TOOL_CALL_END","toolCallId":"call_1"}
//! data: {"type":"TOOL_CALL_RESULT","messageId":"msg_…","toolCallId":"call_1","content":"weather in Paris: sunny, 21C","role":"tool"}
//! data: {"type":"TEXT_MESSAGE_START","messageId":"msg_…","role":"assistant"}
//! data: {"type":"TEXT_MESSAGE_CONTENT","messageId":"msg_…","delta":"get_weather returned: …"}
//! data: {"type":"TEXT_MESSAGE_END","messageId":"msg_…"}
//! data: {"type":"RUN_FINISHED","threadId":"t1","runId":"r1","outcome":{"type":"success"},"usage":[…]}
//! ```
//!
//! - **Messages** are the conversation so far, sent whole by the client (as in Chat Completions):
//!   the messages after the agent's last turn are what it answers now. `activity` and `reasoning`
//!   messages are not sent to the model; content parts other than text are refused (400).
//! - **Events**: `RUN_STARTED`; a `STATE_SNAPSHOT` of the input `state` when one is sent;
//!   `TEXT_MESSAGE_START`/`CONTENT`/`END` for the agent's text; `TOOL_CALL_START`/`ARGS`/`END`
//!   for each tool call and `TOOL_CALL_RESULT` for each result of a tool run on the server;
//!   `RUN_FINISHED` (with `outcome` and token `usage`) or `RUN_ERROR` (`message`, `code`:
//!   `agent_error`, `timeout` or `shutting_down`; never a path, a trace or a secret).
//! - **The client's tools** (`tools`) are declared to the model with nothing behind them: a call
//!   to one ends the run after its `TOOL_CALL_END`, with `outcome: {"type": "success",
//!   "pendingToolCallIds": [...]}`. The client runs it and sends the next run with a `tool`
//!   message (`toolCallId`, `content`) in `messages`.
//! - **Approvals**: a call to an agent tool that needs approval ends the run with
//!   `outcome: {"type": "interrupt", "interrupts": [{"id", "reason": "tool_approval", "message",
//!   "toolCallId", "responseSchema"}]}` after the call's `TOOL_CALL_*` events. The host keeps the
//!   run's conversation (in its [`SessionStore`](crate::SessionStore), under
//!   `ag-ui/{entity}/{threadId}`). The next run on the thread answers with
//!   `resume: [{"interruptId": ID, "status": "resolved", "payload": {"approved": true}}]`
//!   (`{"approved": false}` or `"status": "cancelled"` rejects the call) and continues the kept
//!   conversation: approved calls run (their `TOOL_CALL_RESULT` comes first), rejected ones are
//!   reported to the model as not approved, then the agent answers. Every open interrupt must be
//!   answered; the `messages` of a resuming run are not used (the kept conversation is). An
//!   interrupt is resumed once: the resume takes the kept conversation, so a second resume (at
//!   the same time, or a retry after the resumed run failed) gets 409 and no call runs twice.
//! - `context` reaches the model as a system message; `forwardedProps` is accepted and not used.
//! - **Workflows** (served as agents) report their executors as `STEP_STARTED`/`STEP_FINISHED`
//!   and their run as a `STATE_SNAPSHOT` then `STATE_DELTA`s (RFC 6902 JSON Patch) under the
//!   state's `workflow` key; a workflow's request for input ends the run with an interrupt of
//!   reason `human_input` whose `responseSchema` is the answer's JSON schema, answered by
//!   `resume: [{"interruptId", "status": "resolved", "payload": ANSWER}]`. See `workflow.rs`
//!   for the state's shape.
//!
//! Errors before the stream starts are HTTP errors in OpenAI's error object (as on `/v1`): 400
//! for a malformed input, 401 without the token, 404 for an unknown entity, 409 for a `resume`
//! that matches no open interrupt, 413 over the body limit, 503 when busy. The same guards as
//! `/v1` apply: the bearer token, the body limit, the limit on concurrent runs and the run's
//! deadline; a client that disconnects cancels its run.

mod events;
mod input;
mod workflow;

pub use workflow::REQUEST_INFO_FUNCTION;

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use serde_json::Value;
use weft_core::{AgentSession, ChatOptions, Content, Message, Role};

use crate::HostState;
use crate::error::ApiError;
use crate::guard::{self, JsonBody, run_permit};
use crate::run::{RunSpec, run_events};
use crate::store::StoredResponse;
use events::{Ending, EventBuilder, pending_approvals};
use input::{RunAgentInput, conversation, declared_tools};

/// The AG-UI routes, behind the same token as `/v1`.
pub(crate) fn routes(state: Arc<HostState>) -> Router<Arc<HostState>> {
    Router::new()
        .route("/ag-ui/{entity}", post(run))
        .layer(axum::middleware::from_fn_with_state(state, guard::require_token))
}

/// Where the conversation of an interrupted run waits for its answers.
fn thread_key(entity: &str, thread_id: &str) -> String {
    format!("ag-ui/{entity}/{thread_id}")
}

/// The handler.
async fn run(
    State(state): State<Arc<HostState>>,
    Path(entity): Path<String>,
    JsonBody(request): JsonBody<RunAgentInput>,
) -> Result<Response, ApiError> {
    let agent = state
        .agents
        .get(&entity)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("No agent named '{entity}' is served here")))?;
    let key = thread_key(&entity, &request.thread_id);
    // The permit comes first: a resume takes the kept conversation for itself, and a 503 after
    // that would lose it.
    let permit = run_permit(&state)?;
    let (session, input) = if request.resume.is_empty() {
        let conversation = conversation(&request.messages, &request.context)?;
        if conversation.input.is_empty() {
            return Err(ApiError::invalid(
                "`messages` must end with a message for the agent to answer (or send `resume`)",
            ));
        }
        let mut session = AgentSession::new();
        session.messages = conversation.history;
        (session, conversation.input)
    } else {
        resume(&state, &key, &request).await?
    };
    let options = ChatOptions { tools: declared_tools(&request.tools), ..ChatOptions::default() };
    let run = AguiRun { entity, thread_id: request.thread_id, run_id: request.run_id, state: request.state };
    Ok(stream(state, agent, session, input, options, run, permit))
}

/// Who a run streamed as AG-UI is for.
pub(crate) struct AguiRun {
    /// The entity run.
    pub(crate) entity: String,
    /// The AG-UI thread.
    pub(crate) thread_id: String,
    /// The AG-UI run.
    pub(crate) run_id: String,
    /// The client's state.
    pub(crate) state: Option<Value>,
}

/// Runs `agent` on `session` and `input` and answers with the run's AG-UI events; an interrupted
/// run's conversation is kept under its thread for the answers.
pub(crate) fn stream(
    state: Arc<HostState>,
    agent: Arc<dyn weft_core::Agent>,
    session: AgentSession,
    input: Vec<Message>,
    options: ChatOptions,
    run: AguiRun,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Response {
    let AguiRun { entity, thread_id, run_id, state: client_state } = run;
    let key = thread_key(&entity, &thread_id);
    let events = run_events(RunSpec {
        agent,
        session,
        input,
        options,
        timeout: state.config.run_timeout,
        cancel: state.cancel_runs.clone(),
        stop: None,
        permit,
        id: format!("ag-ui/{thread_id}/{run_id}"),
    });
    let mut builder = EventBuilder::new(thread_id, run_id);
    let keep_alive = state.config.keep_alive;
    let sse = async_stream::stream! {
        for event in builder.start(client_state.as_ref()) {
            yield data(event);
        }
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            let (out, ending) = builder.on(event);
            // An interrupted run's conversation is kept for its answers (a resume took the
            // previous one out of the store, so the same answers cannot run the calls twice).
            if let Ending::Finished { session, interrupted: true } = ending {
                keep(&state, &key, &entity, *session).await;
            }
            for event in out {
                yield data(event);
            }
        }
    };
    Sse::new(sse).keep_alive(KeepAlive::new().interval(keep_alive)).into_response()
}

/// The kept conversation of the thread and the answers to its open approvals, or 409 when the
/// answers do not match them. The conversation is taken out of the store: of two requests
/// resuming the same interrupt (or a retry after a resumed run failed) only the one that removed
/// it goes on, so an approved call runs at most once.
async fn resume(
    state: &HostState,
    key: &str,
    request: &RunAgentInput,
) -> Result<(AgentSession, Vec<Message>), ApiError> {
    let kept = state.store.get_response(key).await.map_err(|error| {
        tracing::error!("loading an AG-UI thread: {error}");
        ApiError::internal("The conversation store failed")
    })?;
    let conflict = |message: String| {
        let mut error = ApiError::invalid(message);
        error.status = axum::http::StatusCode::CONFLICT;
        error
    };
    let Some(session) = kept.and_then(|kept| kept.session) else {
        return Err(conflict(format!("Thread '{}' has no open interrupt to resume", request.thread_id)));
    };
    let open = pending_approvals(&session);
    let inputs = workflow::pending_inputs(&session);
    let mut answers = Vec::with_capacity(open.len() + inputs.len());
    let missing = |id: &str| conflict(format!("`resume` does not answer the open interrupt '{id}'"));
    for request_open in &open {
        let Some(entry) = request.resume.iter().find(|e| e.interrupt_id == request_open.id) else {
            return Err(missing(&request_open.id));
        };
        answers.push(Content::ApprovalResponse(request_open.response(entry.approved())));
    }
    for call in &inputs {
        let Some(entry) = request.resume.iter().find(|e| e.interrupt_id == call.call_id) else {
            return Err(missing(&call.call_id));
        };
        answers.push(Content::FunctionResult(entry.input_answer(&call.call_id)));
    }
    let known = |id: &str| open.iter().any(|r| r.id == id) || inputs.iter().any(|c| c.call_id == id);
    if let Some(unknown) = request.resume.iter().find(|e| !known(&e.interrupt_id)) {
        return Err(conflict(format!(
            "`resume` answers '{}', which is not an open interrupt of thread '{}'",
            unknown.interrupt_id, request.thread_id
        )));
    }
    let taken = state.store.delete_response(key).await.map_err(|error| {
        tracing::error!("taking an AG-UI thread: {error}");
        ApiError::internal("The conversation store failed")
    })?;
    if !taken {
        return Err(conflict(format!(
            "The interrupt of thread '{}' is already being resumed",
            request.thread_id
        )));
    }
    Ok((session, vec![Message::new(Role::User, answers)]))
}

/// Keeps the thread's conversation (a failure is logged: the run's answer stands).
async fn keep(state: &HostState, key: &str, entity: &str, session: AgentSession) {
    // Kept as a stored response under a key no `/v1/responses/{id}` request can name (it holds
    // slashes), with a minimal response object: only its session is read back.
    let kept = StoredResponse {
        agent: entity.to_string(),
        response: serde_json::json!({ "id": key, "object": "ag-ui.thread", "status": "completed" }),
        input_items: Vec::new(),
        session: Some(session),
    };
    if let Err(error) = state.store.put_response(key, kept).await {
        tracing::error!(thread = key, "saving an AG-UI thread: {error}");
    }
}

/// One SSE event: `data: {json}` (AG-UI's SSE encoding names no `event:`).
fn data(event: Value) -> Result<Event, Infallible> {
    Ok(Event::default().data(event.to_string()))
}
