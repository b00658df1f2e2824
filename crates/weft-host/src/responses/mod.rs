//! `POST /v1/responses`: the OpenAI Responses protocol, as JSON or SSE (`stream: true`), with
//! `previous_response_id` continuing a stored conversation.
//!
//! What the host reads of the request: `model` (the agent), `input` (a string or input items:
//! messages, `function_call` and `function_call_output` items), `stream`, `previous_response_id`,
//! `store`, `temperature`, `top_p`, `max_output_tokens`. The agent's own instructions and tools
//! apply; a request's `instructions` and `tools` are not used in this version.

mod events;

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::Value;
use weft_core::{AgentSession, ChatOptions, Content, FunctionCall, FunctionResult, Message, Role};

use crate::HostState;
use crate::error::ApiError;
use crate::guard::{JsonBody, run_permit};
use crate::run::{RunEvent, RunSpec, new_id, run_events};
use crate::store::StoredConversation;
use events::ResponseBuilder;

/// The fields of a Responses request the host reads.
#[derive(Debug, Deserialize)]
pub(crate) struct CreateResponse {
    model: String,
    #[serde(default)]
    input: Option<Input>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    previous_response_id: Option<String>,
    #[serde(default)]
    store: Option<bool>,
    #[serde(default)]
    temperature: Option<f32>,
    #[serde(default)]
    top_p: Option<f32>,
    #[serde(default)]
    max_output_tokens: Option<u32>,
}

/// `input`: text, or a list of items.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Input {
    Text(String),
    Items(Vec<Value>),
}

/// The handler.
pub(crate) async fn create(
    State(state): State<Arc<HostState>>,
    JsonBody(request): JsonBody<CreateResponse>,
) -> Result<Response, ApiError> {
    let agent = state.agent(&request.model)?;
    let input = match request.input {
        None => Vec::new(),
        Some(Input::Text(text)) => vec![Message::user(text)],
        Some(Input::Items(items)) => items.iter().map(input_item).collect::<Result<_, _>>()?,
    };
    if input.is_empty() {
        return Err(ApiError::invalid("`input` is empty: give the text or the items to answer"));
    }
    let session = match &request.previous_response_id {
        None => AgentSession::new(),
        Some(previous) => {
            let stored = state.store.load(previous).await.map_err(|error| {
                tracing::error!("loading a conversation: {error}");
                ApiError::internal("The conversation store failed")
            })?;
            let Some(stored) = stored else {
                let mut error =
                    ApiError::not_found(format!("Previous response with id '{previous}' not found."));
                error.param = Some("previous_response_id");
                return Err(error);
            };
            stored.session
        }
    };
    let permit = run_permit(&state)?;
    let options = ChatOptions {
        temperature: request.temperature,
        top_p: request.top_p,
        max_tokens: request.max_output_tokens,
        ..ChatOptions::default()
    };
    let store = request.store.unwrap_or(true);
    let mut builder =
        ResponseBuilder::new(new_id("resp"), request.model.clone(), request.previous_response_id, store);
    let events = run_events(RunSpec {
        agent,
        session,
        input,
        options,
        timeout: state.config.run_timeout,
        cancel: state.cancel_runs.clone(),
        permit,
        id: builder.id().to_string(),
    });
    let agent_name = request.model;

    if !request.stream {
        let mut events = std::pin::pin!(events);
        let mut last = Value::Null;
        while let Some(event) = events.next().await {
            if let RunEvent::Finished(session) = &event {
                save(&state, store, builder.id(), &agent_name, session).await;
            }
            if let Some(end) = builder.on(event).pop() {
                last = end;
            }
        }
        return Ok(axum::Json(last["response"].clone()).into_response());
    }

    let keep_alive = state.config.keep_alive;
    let sse = async_stream::stream! {
        for event in builder.start() {
            yield sse_event(event);
        }
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            if let RunEvent::Finished(session) = &event {
                save(&state, store, builder.id(), &agent_name, session).await;
            }
            for event in builder.on(event) {
                yield sse_event(event);
            }
        }
    };
    Ok(Sse::new(sse).keep_alive(KeepAlive::new().interval(keep_alive)).into_response())
}

/// One SSE event: `event: TYPE` and the JSON (which carries `type` too, as OpenAI sends it).
fn sse_event(data: Value) -> Result<Event, Infallible> {
    let kind = data["type"].as_str().unwrap_or("message").to_string();
    Ok(Event::default().event(kind).data(data.to_string()))
}

/// Keeps the conversation after response `id` (a failure is logged: the answer stands).
async fn save(state: &HostState, store: bool, id: &str, agent: &str, session: &AgentSession) {
    if !store {
        return;
    }
    let conversation = StoredConversation { agent: agent.to_string(), session: session.clone() };
    if let Err(error) = state.store.save(id, conversation).await {
        tracing::error!(response = id, "saving the conversation: {error}");
    }
}

/// One input item as a message.
fn input_item(item: &Value) -> Result<Message, ApiError> {
    let kind = item.get("type").and_then(Value::as_str).unwrap_or("message");
    match kind {
        "message" => {
            let role = match item.get("role").and_then(Value::as_str) {
                Some("user") => Role::User,
                Some("assistant") => Role::Assistant,
                Some("system" | "developer") => Role::System,
                other => {
                    return Err(ApiError::invalid(format!(
                        "input message role {other:?} is not one of user, assistant, system, developer"
                    )));
                }
            };
            Ok(Message::new(role, vec![Content::text(content_text(item.get("content"))?)]))
        }
        "function_call" => {
            let field = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
            let call = FunctionCall::from_raw_arguments(field("call_id"), field("name"), &field("arguments"));
            Ok(Message::new(Role::Assistant, vec![Content::FunctionCall(call)]))
        }
        "function_call_output" => {
            let call_id = item.get("call_id").and_then(Value::as_str).unwrap_or_default();
            let output = content_text(item.get("output"))?;
            let result = FunctionResult::ok(call_id, Value::String(output));
            Ok(Message::new(Role::Tool, vec![Content::FunctionResult(result)]))
        }
        other => Err(ApiError::invalid(format!("input items of type '{other}' are not supported"))),
    }
}

/// The text of a `content` (a string, or parts with `text`).
fn content_text(content: Option<&Value>) -> Result<String, ApiError> {
    match content {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for part in parts {
                match part.get("text").and_then(Value::as_str) {
                    Some(piece) => text.push_str(piece),
                    None => {
                        let kind = part.get("type").and_then(Value::as_str).unwrap_or("unknown");
                        return Err(ApiError::invalid(format!(
                            "content parts of type '{kind}' are not supported"
                        )));
                    }
                }
            }
            Ok(text)
        }
        _ => Err(ApiError::invalid("a message's `content` must be text or a list of text parts")),
    }
}
