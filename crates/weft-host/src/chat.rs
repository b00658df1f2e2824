//! `POST /v1/chat/completions`: the Chat Completions protocol, streamed (`stream: true`, chunks
//! then `data: [DONE]`) or not. The client sends the whole history; the agent's tools run on the
//! server, so the answer carries only the agent's text (no `tool_calls` for the client to run).

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use weft_core::{AgentSession, ChatOptions, Content, FunctionCall, FunctionResult, Message, Role, Usage};

use crate::HostState;
use crate::error::ApiError;
use crate::guard::{JsonBody, run_permit};
use crate::run::{RunEvent, RunSpec, run_events, unix_now};

/// The fields of a Chat Completions request the host reads.
#[derive(Debug, Deserialize)]
pub(crate) struct CreateChat {
    model: String,
    messages: Vec<Value>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    temperature: Option<f32>,
    #[serde(default)]
    top_p: Option<f32>,
    #[serde(default, alias = "max_tokens")]
    max_completion_tokens: Option<u32>,
}

/// The handler.
pub(crate) async fn create(
    State(state): State<Arc<HostState>>,
    JsonBody(request): JsonBody<CreateChat>,
) -> Result<Response, ApiError> {
    let agent = state.agent(&request.model)?;
    let mut history = request.messages.iter().map(message).collect::<Result<Vec<_>, _>>()?;
    // The trailing messages after the last assistant turn are the new input; the rest is history.
    let split = history.iter().rposition(|m| m.role == Role::Assistant).map_or(0, |i| i + 1);
    let input = history.split_off(split);
    if input.is_empty() {
        return Err(ApiError::invalid("`messages` must end with a message for the agent to answer"));
    }
    let mut session = AgentSession::new();
    session.messages = history;
    let permit = run_permit(&state)?;
    let id = format!("chatcmpl-{}", uuid::Uuid::new_v4().simple());
    let options = ChatOptions {
        temperature: request.temperature,
        top_p: request.top_p,
        max_tokens: request.max_completion_tokens,
        ..ChatOptions::default()
    };
    let events = run_events(RunSpec {
        agent,
        session,
        input,
        options,
        timeout: state.config.run_timeout,
        cancel: state.cancel_runs.clone(),
        stop: None,
        permit,
        id: id.clone(),
    });
    let created = unix_now();
    let model = request.model;

    if !request.stream {
        let mut events = std::pin::pin!(events);
        let mut usage = Usage::default();
        while let Some(event) = events.next().await {
            match event {
                RunEvent::Usage(u) => add(&mut usage, u),
                RunEvent::Finished { session, incomplete } => {
                    let text = session.messages.last().map(Message::text).unwrap_or_default();
                    let finish_reason = finish_reason(incomplete);
                    return Ok(axum::Json(json!({
                        "id": id, "object": "chat.completion", "created": created, "model": model,
                        "choices": [{"index": 0, "finish_reason": finish_reason, "logprobs": null,
                                     "message": {"role": "assistant", "content": text, "refusal": null}}],
                        "usage": usage_json(&usage),
                    }))
                    .into_response());
                }
                RunEvent::Failed(failure) => return Err(ApiError::internal(failure.message())),
                _ => {}
            }
        }
        return Err(ApiError::internal("The run ended without an answer"));
    }

    let chunk = move |delta: Value, finish: Option<&str>| {
        json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}]})
    };
    let sse = async_stream::stream! {
        yield data(chunk(json!({"role": "assistant", "content": ""}), None));
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            match event {
                RunEvent::Text(text) => yield data(chunk(json!({"content": text}), None)),
                RunEvent::Finished { incomplete, .. } => {
                    yield data(chunk(json!({}), Some(finish_reason(incomplete))));
                }
                RunEvent::Failed(failure) => yield data(ApiError::internal(failure.message()).body()),
                _ => {}
            }
        }
        yield Ok(Event::default().data("[DONE]"));
    };
    Ok(Sse::new(sse).keep_alive(KeepAlive::new().interval(state.config.keep_alive)).into_response())
}

/// The `finish_reason` of a run that ended, cut short or not.
fn finish_reason(incomplete: Option<&str>) -> &'static str {
    match incomplete {
        None => "stop",
        Some("content_filter") => "content_filter",
        Some(_) => "length",
    }
}

fn data(value: Value) -> Result<Event, Infallible> {
    Ok(Event::default().data(value.to_string()))
}

fn add(total: &mut Usage, usage: Usage) {
    // Usage's `+=` saturates: counts come from the model server.
    *total += usage;
}

fn usage_json(usage: &Usage) -> Value {
    json!({"prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens, "total_tokens": usage.total_tokens})
}

/// One chat message as a Weft message.
fn message(value: &Value) -> Result<Message, ApiError> {
    let text = |content: Option<&Value>| -> Result<String, ApiError> {
        match content {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(Value::Array(parts)) => parts
                .iter()
                .map(|part| {
                    part.get("text").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
                        ApiError::invalid("only text content parts are supported in `messages`")
                    })
                })
                .collect(),
            Some(_) => Err(ApiError::invalid("a message's `content` must be text or a list of text parts")),
        }
    };
    let content = text(value.get("content"))?;
    match value.get("role").and_then(Value::as_str) {
        Some("system" | "developer") => Ok(Message::system(content)),
        Some("user") => Ok(Message::user(content)),
        Some("assistant") => {
            let mut contents = Vec::new();
            if !content.is_empty() {
                contents.push(Content::text(content));
            }
            for call in value.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
                let field = |path: &[&str]| {
                    path.iter()
                        .try_fold(call, |v, key| v.get(key))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                };
                contents.push(Content::FunctionCall(FunctionCall::from_raw_arguments(
                    field(&["id"]),
                    field(&["function", "name"]),
                    field(&["function", "arguments"]),
                )));
            }
            Ok(Message::new(Role::Assistant, contents))
        }
        Some("tool") => {
            let call_id = value.get("tool_call_id").and_then(Value::as_str).unwrap_or_default();
            let result = FunctionResult::ok(call_id, Value::String(content));
            Ok(Message::new(Role::Tool, vec![Content::FunctionResult(result)]))
        }
        other => Err(ApiError::invalid(format!(
            "message role {other:?} is not one of system, developer, user, assistant, tool"
        ))),
    }
}
