//! The Responses client (`POST {base}/responses`).

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use weft_core::{
    ChatClient, ChatError, ChatErrorKind, ChatRequest, ChatResponse, ChatResponseUpdate, ChatStream,
    ClientInfo, Content, FinishReason, FunctionCall, Role,
};

use crate::config::OpenAI;
use crate::error::{decode_error, encode_error, payload_error};
use crate::responses_wire::{
    OutputItem, StreamEvent, WireResponse, encode_body, max_output_tokens, request_body,
    response_finish_reason, to_response,
};
use crate::transport::{Api, Prepared};
use crate::wire::{WireUsage, fresh_id};
use weft_provider::sse::{Event, SseParser};
use weft_provider::{Driver, HttpChatApi, StreamDecoder};

/// A [`ChatClient`] for the Responses API of OpenAI, Azure OpenAI, or any compatible server.
/// Create it with [`OpenAI::responses`].
///
/// Requests are stateless (`store: false`, the whole history each time). Streams emit each
/// text delta as it arrives and each function call once, complete, when its item is done;
/// a stream that ends without `response.completed` (or `response.incomplete`) fails with a
/// [`StreamEnded`](weft_core::ChatErrorKind::StreamEnded) error.
#[derive(Debug, Clone)]
pub struct OpenAIResponsesClient {
    api: Arc<ResponsesApi>,
}

/// The API as the shared driver calls it.
#[derive(Debug)]
struct ResponsesApi {
    openai: OpenAI,
}

impl OpenAIResponsesClient {
    /// A client for this endpoint.
    pub fn new(openai: OpenAI) -> Self {
        Self { api: Arc::new(ResponsesApi { openai }) }
    }

    /// The endpoint configuration.
    pub fn config(&self) -> &OpenAI {
        &self.api.openai
    }

    /// The request body this client would send for `request` (for inspection and tests).
    pub fn request_body(&self, request: &ChatRequest, stream: bool) -> Result<Value, ChatError> {
        let inner = &self.api.openai.inner;
        let label = inner.label(Api::Responses);
        let model = inner.resolve_model(request.options.model.as_deref(), label)?;
        request_body(&request.messages, &inner.wire_options(&request.options), model, stream)
            .map_err(|err| encode_error(label, err))
    }
}

impl HttpChatApi for ResponsesApi {
    type Framing = SseParser;
    type Decoder = ResponsesStreamDecoder;

    fn driver(&self) -> &Driver {
        &self.openai.inner.driver
    }

    fn prepare(&self, request: &ChatRequest, stream: bool) -> Result<Prepared<'_>, ChatError> {
        self.openai.inner.prepare(Api::Responses, request, stream, encode_body)
    }

    fn parse_whole(
        &self,
        label: &str,
        body: &[u8],
        request: &ChatRequest,
    ) -> Result<ChatResponse, ChatError> {
        parse_response(label, body, max_output_tokens(&request.options))
    }

    fn decoder(&self, label: &str, request: &ChatRequest) -> ResponsesStreamDecoder {
        let mut state = StreamState::new(label.to_string());
        state.max_output_tokens = max_output_tokens(&request.options);
        ResponsesStreamDecoder { state }
    }
}

/// The stream state machine of one Responses stream, for the shared driver.
#[derive(Debug)]
struct ResponsesStreamDecoder {
    state: StreamState,
}

impl StreamDecoder for ResponsesStreamDecoder {
    type Frame = Event;

    fn on_frame(&mut self, event: Event) -> Result<weft_provider::Step, ChatError> {
        let data = event.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(weft_provider::Step::Emit(None));
        }
        // Decoded straight into the wire type: this runs once per streamed token.
        let parsed: StreamEvent = serde_json::from_str(data)
            .map_err(|err| decode_error(&self.state.label, "a stream event", err, data.as_bytes()))?;
        Ok(match self.state.on_event(&event.event, parsed)? {
            Step::Continue(updates) => weft_provider::Step::EmitAll(updates),
            Step::Done(updates) => weft_provider::Step::DoneAll(updates),
        })
    }

    fn end_marker(&self) -> &'static str {
        "response.completed"
    }
}

#[async_trait]
impl ChatClient for OpenAIResponsesClient {
    async fn get_response(&self, request: ChatRequest) -> Result<ChatResponse, ChatError> {
        weft_provider::api::respond(self.api.as_ref(), request).await
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

/// Decodes a full answer to a request that allowed `max_output_tokens`.
fn parse_response(
    label: &str,
    bytes: &[u8],
    max_output_tokens: Option<u64>,
) -> Result<ChatResponse, ChatError> {
    let response: WireResponse =
        serde_json::from_slice(bytes).map_err(|err| decode_error(label, "the answer", err, bytes))?;
    if let Some(error) = response.error.as_ref().filter(|error| !error.is_null()) {
        return Err(payload_error(label, error));
    }
    Ok(to_response(response, max_output_tokens))
}

/// What to do after an event.
enum Step {
    /// Emit these updates and read on.
    Continue(Vec<ChatResponseUpdate>),
    /// Emit these updates; the response is complete.
    Done(Vec<ChatResponseUpdate>),
}

/// A function call being assembled from events.
#[derive(Debug, Default)]
struct PendingCall {
    item_id: Option<String>,
    output_index: Option<u64>,
    call_id: Option<String>,
    name: Option<String>,
    arguments: String,
    emitted: bool,
}

/// What a stream has said so far.
#[derive(Debug)]
struct StreamState {
    label: String,
    response_id: Option<String>,
    model: Option<String>,
    message_id: Option<String>,
    calls: Vec<PendingCall>,
    /// Output items whose text or reasoning arrived as deltas (their `done` events repeat it).
    streamed_items: HashSet<String>,
    /// Whether any text or reasoning was emitted at all.
    emitted_any_text: bool,
    emitted_calls: bool,
    /// The request's `max_output_tokens`, as sent.
    max_output_tokens: Option<u64>,
}

impl StreamState {
    fn new(label: String) -> Self {
        Self {
            label,
            response_id: None,
            model: None,
            message_id: None,
            calls: Vec::new(),
            streamed_items: HashSet::new(),
            emitted_any_text: false,
            emitted_calls: false,
            max_output_tokens: None,
        }
    }

    fn on_event(&mut self, sse_name: &str, mut event: StreamEvent) -> Result<Step, ChatError> {
        let kind = event.kind.take().unwrap_or_else(|| sse_name.to_string());
        if let Some(response) = &event.response {
            self.note_response(response);
        }
        let mut out = Vec::new();
        match kind.as_str() {
            "response.output_text.delta"
            | "response.reasoning_summary_text.delta"
            | "response.reasoning_text.delta" => {
                let delta = event.delta.as_ref().and_then(Value::as_str).unwrap_or_default();
                if let Some(item_id) = &event.item_id {
                    if !self.streamed_items.contains(item_id) {
                        self.streamed_items.insert(item_id.clone());
                    }
                }
                if !delta.is_empty() {
                    let content = if kind == "response.output_text.delta" {
                        Content::text(delta)
                    } else {
                        Content::Reasoning { text: delta.to_string(), signature: None }
                    };
                    self.emitted_any_text = true;
                    out.push(self.update(vec![content], None));
                }
            }
            "response.output_text.done" => {
                let unseen = event.item_id.as_ref().is_some_and(|id| !self.streamed_items.contains(id));
                if let (true, Some(text)) = (unseen, event.text.filter(|text| !text.is_empty())) {
                    self.streamed_items.extend(event.item_id.clone());
                    self.emitted_any_text = true;
                    out.push(self.update(vec![Content::text(text)], None));
                }
            }
            "response.output_item.added" => {
                if let Some(item) = event.item.filter(|item| item.kind == "function_call") {
                    let call = self.call_for(item.id.clone(), event.output_index);
                    fill_from_item(call, &item);
                }
            }
            "response.function_call_arguments.delta" => {
                let delta = event.delta.as_ref().and_then(Value::as_str).unwrap_or_default().to_string();
                self.call_for(event.item_id, event.output_index).arguments.push_str(&delta);
            }
            "response.function_call_arguments.done" => {
                let call = self.call_for(event.item_id, event.output_index);
                if let Some(arguments) = event.arguments {
                    call.arguments = arguments;
                }
                if event.name.is_some() {
                    call.name = event.name;
                }
                out.extend(self.emit_ready_calls());
            }
            "response.output_item.done" => {
                if let Some(item) = event.item {
                    out.extend(self.on_item_done(&item, event.output_index));
                }
            }
            "response.completed" | "response.incomplete" => {
                let response = event.response.map(|response| *response).unwrap_or_default();
                return Ok(Step::Done(self.finish(out, response)));
            }
            "response.failed" => {
                let error =
                    event.response.and_then(|response| response.error).filter(|error| !error.is_null());
                return Err(match error {
                    Some(error) => payload_error(&self.label, &error),
                    None => {
                        ChatError::new(ChatErrorKind::Server, "the response failed without an error message")
                            .with_provider(self.label.clone())
                    }
                });
            }
            "error" => {
                let payload = event.error.take().map(|error| *error).unwrap_or_else(
                    || serde_json::json!({"message": event.message.take(), "code": event.code.take()}),
                );
                return Err(payload_error(&self.label, &payload));
            }
            // response.created, response.in_progress, content_part.*, unknown events …
            _ => {}
        }
        Ok(Step::Continue(out))
    }

    fn note_response(&mut self, response: &WireResponse) {
        if let Some(id) = response.id.clone().filter(|id| !id.is_empty()) {
            self.response_id.get_or_insert(id);
        }
        if let Some(model) = response.model.clone().filter(|model| !model.is_empty()) {
            self.model.get_or_insert(model);
        }
    }

    /// The pending call an event refers to (by item id, else output index), created if new.
    fn call_for(&mut self, item_id: Option<String>, output_index: Option<u64>) -> &mut PendingCall {
        let position = match (&item_id, output_index) {
            (Some(id), _) => self.calls.iter().position(|call| call.item_id.as_ref() == Some(id)),
            (None, Some(index)) => self.calls.iter().position(|call| call.output_index == Some(index)),
            (None, None) => self.calls.iter().rposition(|call| !call.emitted),
        };
        let position = position.unwrap_or_else(|| {
            self.calls.push(PendingCall { item_id, output_index, ..PendingCall::default() });
            self.calls.len() - 1
        });
        let last = self.calls.len() - 1;
        &mut self.calls[position.min(last)]
    }

    fn on_item_done(&mut self, item: &OutputItem, output_index: Option<u64>) -> Vec<ChatResponseUpdate> {
        if item.kind == "function_call" {
            let existing = self.calls.iter().position(|call| {
                (item.id.is_some() && call.item_id == item.id)
                    || (item.call_id.is_some() && call.call_id == item.call_id)
            });
            let call = match existing {
                Some(position) => &mut self.calls[position],
                None => self.call_for(item.id.clone(), output_index),
            };
            fill_from_item(call, item);
            return self.emit_ready_calls();
        }
        let streamed = match &item.id {
            Some(id) => self.streamed_items.contains(id),
            None => self.emitted_any_text,
        };
        let contents = item.to_contents(!streamed);
        if contents.is_empty() {
            return Vec::new();
        }
        self.emitted_any_text = true;
        self.streamed_items.extend(item.id.clone());
        vec![self.update(contents, None)]
    }

    /// Emits, once each, the calls whose name is known.
    fn emit_ready_calls(&mut self) -> Vec<ChatResponseUpdate> {
        let mut calls = Vec::new();
        for call in self.calls.iter_mut().filter(|call| !call.emitted) {
            let Some(name) = call.name.clone().filter(|name| !name.is_empty()) else { continue };
            call.emitted = true;
            let id =
                call.call_id.clone().or_else(|| call.item_id.clone()).unwrap_or_else(|| fresh_id("call_"));
            calls.push(FunctionCall::from_raw_arguments(id, name, &call.arguments));
        }
        self.emitted_calls |= !calls.is_empty();
        calls.into_iter().map(|call| self.update(vec![Content::FunctionCall(call)], None)).collect()
    }

    /// The last updates: calls and text only the final response carries, usage, finish reason.
    fn finish(
        &mut self,
        mut out: Vec<ChatResponseUpdate>,
        response: WireResponse,
    ) -> Vec<ChatResponseUpdate> {
        out.extend(self.emit_ready_calls());
        let mut contents = Vec::new();
        for item in &response.output {
            if let Some(call) = item.to_call() {
                let seen = self.calls.iter().any(|pending| {
                    pending.emitted
                        && (pending.call_id.as_deref() == Some(call.call_id.as_str())
                            || pending.item_id.as_deref() == Some(call.call_id.as_str()))
                });
                if !seen {
                    self.emitted_calls = true;
                    contents.push(Content::FunctionCall(call));
                }
            } else if !self.emitted_any_text {
                contents.extend(item.to_contents(true));
            }
        }
        for call in self.calls.iter().filter(|call| !call.emitted) {
            tracing::warn!(item_id = ?call.item_id, "ignoring a streamed function call without a name");
        }
        if let Some(usage) = &response.usage {
            contents.push(Content::Usage(WireUsage::to_usage(usage)));
        }
        let finish = response_finish_reason(&response, self.max_output_tokens, self.emitted_calls);
        out.push(self.update(contents, Some(finish)));
        out
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
}

/// Takes what a full `function_call` item says about a call.
fn fill_from_item(call: &mut PendingCall, item: &OutputItem) {
    if call.item_id.is_none() {
        call.item_id = item.id.clone();
    }
    if let Some(call_id) = item.call_id.clone().filter(|id| !id.is_empty()) {
        call.call_id = Some(call_id);
    }
    if let Some(name) = item.name.clone().filter(|name| !name.is_empty()) {
        call.name = Some(name);
    }
    let arguments = crate::wire::arguments_text(item.arguments.as_ref());
    if !arguments.is_empty() {
        call.arguments = arguments;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(events: Vec<Value>) -> Vec<ChatResponseUpdate> {
        let mut state = StreamState::new("t".into());
        let mut all = Vec::new();
        for event in events {
            match state.on_event("", serde_json::from_value(event).unwrap()).unwrap() {
                Step::Continue(updates) => all.extend(updates),
                Step::Done(updates) => {
                    all.extend(updates);
                    return all;
                }
            }
        }
        panic!("no completion");
    }

    #[test]
    fn calls_assemble_from_deltas_without_done_events_or_indexes() {
        let updates = run(vec![
            json!({"type": "response.created", "response": {"id": "resp_1", "model": "m"}}),
            json!({"type": "response.output_item.added", "item": {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "f", "arguments": ""}}),
            json!({"type": "response.output_item.added", "item": {"type": "function_call", "id": "fc_2", "call_id": "c2", "name": "g", "arguments": ""}}),
            json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": "{\"a\""}),
            json!({"type": "response.function_call_arguments.delta", "item_id": "fc_2", "delta": "{}"}),
            json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": ":1}"}),
            json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed", "output": [],
                "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}}}),
        ]);
        let calls: Vec<_> =
            updates.iter().flat_map(|u| u.contents.iter().filter_map(Content::as_function_call)).collect();
        assert_eq!(
            calls,
            vec![&FunctionCall::new("c1", "f", json!({"a": 1})), &FunctionCall::new("c2", "g", json!({}))]
        );
        let last = updates.last().unwrap();
        assert_eq!(last.finish_reason, Some(FinishReason::ToolCalls));
        assert!(updates.iter().all(|u| u.message_id.as_deref() == Some("resp_1")));
    }

    #[test]
    fn text_only_in_the_final_response_is_not_lost() {
        let updates = run(vec![
            json!({"type": "response.completed", "response": {"id": "r", "status": "completed",
            "output": [{"type": "message", "id": "m1", "content": [{"type": "output_text", "text": "hi"}]}]}}),
        ]);
        assert_eq!(updates.last().unwrap().text_content(), "hi");
    }
}
