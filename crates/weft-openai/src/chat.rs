//! The Chat Completions client (`POST {base}/chat/completions`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use weft_core::{
    ChatClient, ChatError, ChatRequest, ChatResponse, ChatResponseUpdate, ChatStream, ClientInfo, Content,
    FinishReason, FunctionCall, Role, Usage,
};

use crate::chat_wire::{Completion, encode_body, first_choice, request_body, to_response};
use crate::config::OpenAI;
use crate::error::{decode_error, encode_error, payload_error};
use crate::transport::{Api, Prepared};
use crate::wire::{WireUsage, arguments_text, fresh_id};
use weft_provider::sse::{Event, SseParser};
use weft_provider::{Driver, HttpChatApi, Step, StreamDecoder};

/// A [`ChatClient`] for the Chat Completions API of OpenAI, Azure OpenAI, or any compatible
/// server (llama.cpp, vLLM, Ollama, LM Studio …). Create it with [`OpenAI::chat`].
///
/// Streams send `stream_options.include_usage`, emit each text delta as it arrives, and emit
/// each tool call once, complete, when the stream ends; a stream that ends without
/// `data: [DONE]` fails with a [`StreamEnded`](weft_core::ChatErrorKind::StreamEnded) error.
/// Only the first choice is read.
#[derive(Debug, Clone)]
pub struct OpenAIChatClient {
    api: Arc<ChatApi>,
}

/// The API as the shared driver calls it.
#[derive(Debug)]
struct ChatApi {
    openai: OpenAI,
}

impl OpenAIChatClient {
    /// A client for this endpoint.
    pub fn new(openai: OpenAI) -> Self {
        Self { api: Arc::new(ChatApi { openai }) }
    }

    /// The endpoint configuration.
    pub fn config(&self) -> &OpenAI {
        &self.api.openai
    }

    /// The request body this client would send for `request` (for inspection and tests).
    pub fn request_body(&self, request: &ChatRequest, stream: bool) -> Result<serde_json::Value, ChatError> {
        let inner = &self.api.openai.inner;
        let label = inner.label(Api::Chat);
        let model = inner.resolve_model(request.options.model.as_deref(), label)?;
        request_body(&request.messages, &inner.wire_options(&request.options), model, stream)
            .map_err(|err| encode_error(label, err))
    }
}

impl HttpChatApi for ChatApi {
    type Framing = SseParser;
    type Decoder = ChatStreamDecoder;

    fn driver(&self) -> &Driver {
        &self.openai.inner.driver
    }

    fn prepare(&self, request: &ChatRequest, stream: bool) -> Result<Prepared<'_>, ChatError> {
        self.openai.inner.prepare(Api::Chat, request, stream, encode_body)
    }

    fn parse_whole(
        &self,
        label: &str,
        body: &[u8],
        _request: &ChatRequest,
    ) -> Result<ChatResponse, ChatError> {
        parse_completion(label, body)
    }

    fn decoder(&self, label: &str, _request: &ChatRequest) -> ChatStreamDecoder {
        ChatStreamDecoder { label: label.to_string(), state: StreamState::default() }
    }
}

#[async_trait]
impl ChatClient for OpenAIChatClient {
    // Not an `async fn`: `async_trait` would box a future that holds the request and then the
    // driver's future, which holds it again; this boxes the driver's future alone (a run in
    // flight keeps it for as long as the model takes).
    fn get_response<'life0, 'async_trait>(
        &'life0 self,
        request: ChatRequest,
    ) -> Pin<Box<dyn Future<Output = Result<ChatResponse, ChatError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(weft_provider::api::respond(self.api.as_ref(), request))
    }

    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream {
        weft_provider::api::stream(Arc::clone(&self.api), request)
    }

    fn info(&self) -> ClientInfo {
        ClientInfo {
            provider: self.api.openai.provider_name().to_string(),
            default_model: self.api.openai.default_model().map(str::to_string),
            endpoint: Some(self.api.openai.base_url().to_string()),
        }
    }
}

/// Decodes a full answer.
fn parse_completion(label: &str, bytes: &[u8]) -> Result<ChatResponse, ChatError> {
    let completion: Completion =
        serde_json::from_slice(bytes).map_err(|err| decode_error(label, "the answer", err, bytes))?;
    if let Some(error) = completion.error.as_ref().filter(|error| !error.is_null()) {
        return Err(payload_error(label, error));
    }
    Ok(to_response(completion))
}

/// The stream state machine of one Chat Completions stream, for the shared driver.
#[derive(Debug)]
struct ChatStreamDecoder {
    label: String,
    state: StreamState,
}

impl StreamDecoder for ChatStreamDecoder {
    type Frame = Event;

    fn on_frame(&mut self, event: Event) -> Result<Step, ChatError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(Step::Done(Some(std::mem::take(&mut self.state).finish())));
        }
        if data.is_empty() {
            return Ok(Step::Emit(None));
        }
        if event.event == "error" {
            // An error event's payload is the error itself, in whatever shape.
            let payload =
                serde_json::from_str(data).unwrap_or_else(|_| serde_json::Value::String(data.to_string()));
            return Err(payload_error(&self.label, &payload));
        }
        // Decoded straight into the wire type: this runs once per streamed token.
        let chunk: Completion = serde_json::from_str(data)
            .map_err(|err| decode_error(&self.label, "a stream chunk", err, data.as_bytes()))?;
        if let Some(error) = chunk.error.as_ref().filter(|error| !error.is_null()) {
            return Err(payload_error(&self.label, error));
        }
        Ok(Step::Emit(self.state.on_chunk(chunk)))
    }

    fn end_marker(&self) -> &'static str {
        "data: [DONE]"
    }
}

/// A tool call being assembled from deltas.
#[derive(Debug, Default)]
struct PendingCall {
    index: u32,
    id: String,
    name: String,
    arguments: String,
}

/// What a stream has said so far.
#[derive(Debug, Default)]
struct StreamState {
    message_id: Option<String>,
    response_id: Option<String>,
    model: Option<String>,
    calls: Vec<PendingCall>,
    refusal: String,
    finish_reason: Option<String>,
    usage: Option<Usage>,
}

impl StreamState {
    /// Takes one chunk; returns the update to emit now (text and reasoning deltas).
    fn on_chunk(&mut self, chunk: Completion) -> Option<ChatResponseUpdate> {
        if let Some(id) = chunk.id.filter(|id| !id.is_empty()) {
            self.response_id.get_or_insert(id);
        }
        if let Some(model) = chunk.model.filter(|model| !model.is_empty()) {
            self.model.get_or_insert(model);
        }
        if let Some(usage) = &chunk.usage {
            self.usage = Some(WireUsage::to_usage(usage));
        }
        let choice = first_choice(chunk.choices)?;
        if let Some(reason) = choice.finish_reason.filter(|reason| !reason.is_empty()) {
            self.finish_reason = Some(reason);
        }
        let delta = choice.delta.or_else(|| choice.message.map(|message| *message))?;
        let mut contents = Vec::new();
        if let Some(reasoning) = delta.reasoning_text() {
            contents.push(Content::Reasoning { text: reasoning, signature: None });
        }
        if let Some(text) = delta.text() {
            contents.push(Content::text(text));
        }
        if let Some(refusal) = &delta.refusal {
            self.refusal.push_str(refusal);
        }
        for call in delta.tool_calls {
            self.add_call_delta(call);
        }
        if contents.is_empty() {
            return None;
        }
        Some(self.update(contents, None))
    }

    /// Adds a tool-call delta to the call it continues: by `index`, else by `id`, else the last.
    fn add_call_delta(&mut self, delta: crate::chat_wire::WireToolCall) {
        let id = delta.id.filter(|id| !id.is_empty());
        let position = match (delta.index, &id) {
            (Some(index), _) => self.calls.iter().position(|call| call.index == index),
            (None, Some(id)) => self.calls.iter().position(|call| &call.id == id),
            (None, None) => self.calls.len().checked_sub(1),
        };
        let position = match position {
            Some(position) => position,
            None => {
                let index = delta
                    .index
                    .unwrap_or_else(|| self.calls.iter().map(|call| call.index + 1).max().unwrap_or(0));
                self.calls.push(PendingCall { index, ..PendingCall::default() });
                self.calls.len() - 1
            }
        };
        let Some(call) = self.calls.get_mut(position) else { return };
        if let Some(id) = id {
            if call.id.is_empty() {
                call.id = id;
            }
        }
        if let Some(function) = delta.function {
            if let Some(name) = function.name.filter(|name| !name.is_empty()) {
                if call.name.is_empty() {
                    call.name = name;
                }
            }
            call.arguments.push_str(&arguments_text(function.arguments.as_ref()));
        }
    }

    fn update(&mut self, contents: Vec<Content>, finish_reason: Option<FinishReason>) -> ChatResponseUpdate {
        let message_id = self
            .message_id
            .get_or_insert_with(|| self.response_id.clone().unwrap_or_else(|| fresh_id("msg_")))
            .clone();
        ChatResponseUpdate {
            role: Some(Role::Assistant),
            author_name: None,
            contents,
            message_id: Some(message_id),
            response_id: self.response_id.clone(),
            model: self.model.clone(),
            finish_reason,
        }
    }

    /// The last update, after `[DONE]`: the assembled tool calls, usage and the finish reason.
    fn finish(mut self) -> ChatResponseUpdate {
        let mut calls = std::mem::take(&mut self.calls);
        calls.sort_by_key(|call| call.index);
        let mut contents = Vec::new();
        if !self.refusal.is_empty() {
            contents.push(Content::Error {
                message: std::mem::take(&mut self.refusal),
                code: Some("refusal".into()),
            });
        }
        for call in calls {
            if call.name.is_empty() {
                tracing::warn!(index = call.index, "ignoring a streamed tool call without a function name");
                continue;
            }
            let id = if call.id.is_empty() { fresh_id("call_") } else { call.id };
            contents.push(Content::FunctionCall(FunctionCall::from_raw_arguments(
                id,
                call.name,
                &call.arguments,
            )));
        }
        let has_calls = contents.iter().any(|content| matches!(content, Content::FunctionCall(_)));
        if let Some(usage) = self.usage.take() {
            contents.push(Content::Usage(usage));
        }
        let finish_reason = match self.finish_reason.take() {
            Some(reason) => FinishReason::parse(&reason),
            None if has_calls => FinishReason::ToolCalls,
            None => FinishReason::Stop,
        };
        self.update(contents, Some(finish_reason))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn chunk(value: serde_json::Value) -> Completion {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn interleaved_calls_are_assembled_by_index() {
        let mut state = StreamState::default();
        for value in [
            json!({"id": "c1", "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [
                {"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": ""}}]}}]}),
            json!({"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 1, "id": "b", "type": "function", "function": {"name": "g", "arguments": "{\"y\""}}]}}]}),
            json!({"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "function": {"arguments": "{\"x\":1}"}}]}}]}),
            json!({"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 1, "function": {"arguments": ":2}"}}]}}], "usage": null}),
            json!({"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
            json!({"id": "c1", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}),
        ] {
            assert_eq!(state.on_chunk(chunk(value)), None);
        }
        let last = state.finish();
        assert_eq!(
            last.contents,
            vec![
                Content::FunctionCall(FunctionCall::new("a", "f", json!({"x": 1}))),
                Content::FunctionCall(FunctionCall::new("b", "g", json!({"y": 2}))),
                Content::Usage(Usage {
                    input_tokens: 3,
                    output_tokens: 4,
                    total_tokens: 7,
                    ..Usage::default()
                }),
            ]
        );
        assert_eq!(last.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(last.message_id.as_deref(), Some("c1"));
    }
}
