//! The Responses protocol's view of a run: turns [`RunEvent`]s into the SSE events OpenAI sends
//! (`response.created` … `response.completed`, numbered by `sequence_number`) while building the
//! final response object, which is also the non-streamed answer.

use serde_json::{Value, json};
use weft_core::{ApprovalRequest, FunctionCall, FunctionResult, Usage};

use crate::run::{RunEvent, RunFailure, new_id};

/// The message item being written.
struct OpenMessage {
    id: String,
    output_index: usize,
    text: String,
}

/// The request's fields a response object echoes.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResponseMeta {
    pub(crate) model: String,
    pub(crate) previous_response_id: Option<String>,
    pub(crate) conversation: Option<String>,
    pub(crate) store: bool,
    pub(crate) background: bool,
    pub(crate) max_output_tokens: Option<u32>,
}

/// Builds the events and the response object of one run.
pub(crate) struct ResponseBuilder {
    id: String,
    meta: ResponseMeta,
    created_at: u64,
    sequence: u64,
    /// The response object once the run ended.
    ended: Option<Value>,
    output: Vec<Value>,
    message: Option<OpenMessage>,
    usage: Usage,
}

impl ResponseBuilder {
    /// A builder for response `id` of agent `model`.
    pub(crate) fn new(id: String, meta: ResponseMeta) -> Self {
        Self {
            id,
            meta,
            created_at: crate::run::unix_now(),
            sequence: 0,
            ended: None,
            output: Vec::new(),
            message: None,
            usage: Usage::default(),
        }
    }

    /// The response id.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// The output items so far.
    pub(crate) fn output(&self) -> &[Value] {
        &self.output
    }

    /// The response object once the run ended.
    pub(crate) fn ended(&self) -> Option<&Value> {
        self.ended.as_ref()
    }

    fn event(&mut self, kind: &str, mut fields: Value) -> Value {
        if let Value::Object(map) = &mut fields {
            map.insert("type".into(), kind.into());
            map.insert("sequence_number".into(), self.sequence.into());
        }
        self.sequence += 1;
        fields
    }

    /// The response object with `status` (and `error` when failed, `incomplete_details` when
    /// cut short).
    pub(crate) fn response(&self, status: &str, error: Option<Value>, incomplete: Option<&str>) -> Value {
        let done = matches!(status, "completed" | "incomplete");
        let output_text: String = self
            .output
            .iter()
            .filter(|item| item["type"] == "message")
            .flat_map(|item| item["content"].as_array().cloned().unwrap_or_default())
            .filter_map(|part| part["text"].as_str().map(str::to_owned))
            .collect();
        json!({
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "completed_at": if done { Some(crate::run::unix_now()) } else { None },
            "error": error,
            "incomplete_details": incomplete.map(|reason| json!({"reason": reason})),
            "instructions": null,
            "max_output_tokens": self.meta.max_output_tokens,
            "metadata": {},
            "model": self.meta.model,
            "output": self.output,
            "output_text": output_text,
            "parallel_tool_calls": true,
            "previous_response_id": self.meta.previous_response_id,
            "conversation": self.meta.conversation.as_ref().map(|id| json!({"id": id})),
            "background": self.meta.background,
            "store": self.meta.store,
            "temperature": null,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": null,
            "truncation": "disabled",
            "usage": if done { Some(usage_json(&self.usage)) } else { None },
        })
    }

    /// `response.created` and `response.in_progress`.
    pub(crate) fn start(&mut self) -> Vec<Value> {
        let response = self.response("in_progress", None, None);
        let created = self.event("response.created", json!({"response": response}));
        let in_progress = self.event("response.in_progress", json!({"response": response}));
        vec![created, in_progress]
    }

    /// The events of one run event (the last one ends the response).
    pub(crate) fn on(&mut self, event: RunEvent) -> Vec<Value> {
        match event {
            RunEvent::Text(delta) => self.text(delta),
            RunEvent::Call(call) => self.call(call),
            RunEvent::Result(result) => self.result(result),
            RunEvent::Approval(request) => self.approval(&request),
            RunEvent::Usage(usage) => {
                // Usage's `+=` saturates: counts come from the model server.
                self.usage += usage;
                Vec::new()
            }
            // Progress events (a workflow's executors) have no Responses form.
            RunEvent::Event { .. } => Vec::new(),
            RunEvent::Finished { incomplete, .. } => self.complete(incomplete),
            RunEvent::Failed(failure) => self.fail(failure),
        }
    }

    fn text(&mut self, delta: String) -> Vec<Value> {
        let mut events = Vec::new();
        if self.message.is_none() {
            let message =
                OpenMessage { id: new_id("msg"), output_index: self.output.len(), text: String::new() };
            self.output.push(Value::Null);
            let item = json!({"id": message.id, "type": "message", "status": "in_progress", "role": "assistant", "content": []});
            let (item_id, output_index) = (message.id.clone(), message.output_index);
            self.message = Some(message);
            events.push(
                self.event("response.output_item.added", json!({"output_index": output_index, "item": item})),
            );
            events.push(self.event(
                "response.content_part.added",
                json!({"item_id": item_id, "output_index": output_index, "content_index": 0,
                       "part": {"type": "output_text", "text": "", "annotations": []}}),
            ));
        }
        let Some(message) = self.message.as_mut() else { return events };
        message.text.push_str(&delta);
        let (item_id, output_index) = (message.id.clone(), message.output_index);
        events.push(self.event(
            "response.output_text.delta",
            json!({"item_id": item_id, "output_index": output_index, "content_index": 0, "delta": delta, "logprobs": []}),
        ));
        events
    }

    /// Ends the message being written, if any.
    fn close_message(&mut self) -> Vec<Value> {
        let Some(message) = self.message.take() else { return Vec::new() };
        let part = json!({"type": "output_text", "text": message.text, "annotations": []});
        let item = json!({"id": message.id, "type": "message", "status": "completed", "role": "assistant", "content": [part]});
        if let Some(slot) = self.output.get_mut(message.output_index) {
            *slot = item.clone();
        }
        let (id, index) = (message.id, message.output_index);
        vec![
            self.event(
                "response.output_text.done",
                json!({"item_id": id, "output_index": index, "content_index": 0, "text": message.text, "logprobs": []}),
            ),
            self.event(
                "response.content_part.done",
                json!({"item_id": id, "output_index": index, "content_index": 0, "part": part}),
            ),
            self.event("response.output_item.done", json!({"output_index": index, "item": item})),
        ]
    }

    fn call(&mut self, call: FunctionCall) -> Vec<Value> {
        let mut events = self.close_message();
        let id = new_id("fc");
        let index = self.output.len();
        let arguments = call.arguments_text();
        let added = json!({"id": id, "type": "function_call", "status": "in_progress", "call_id": call.call_id, "name": call.name, "arguments": ""});
        let done = json!({"id": id, "type": "function_call", "status": "completed", "call_id": call.call_id, "name": call.name, "arguments": arguments});
        self.output.push(done.clone());
        events.push(self.event("response.output_item.added", json!({"output_index": index, "item": added})));
        events.push(self.event(
            "response.function_call_arguments.delta",
            json!({"item_id": id, "output_index": index, "delta": arguments}),
        ));
        events.push(self.event(
            "response.function_call_arguments.done",
            json!({"item_id": id, "output_index": index, "name": call.name, "arguments": arguments}),
        ));
        events.push(self.event("response.output_item.done", json!({"output_index": index, "item": done})));
        events
    }

    fn result(&mut self, result: FunctionResult) -> Vec<Value> {
        let mut events = self.close_message();
        let index = self.output.len();
        let item = json!({"id": new_id("fco"), "type": "function_call_output", "status": "completed",
                          "call_id": result.call_id, "output": result.to_model_text()});
        self.output.push(item.clone());
        events.push(self.event("response.output_item.added", json!({"output_index": index, "item": item})));
        events.push(self.event("response.output_item.done", json!({"output_index": index, "item": item})));
        events
    }

    /// An `mcp_approval_request` item (see [`super::approvals`]).
    fn approval(&mut self, request: &ApprovalRequest) -> Vec<Value> {
        let mut events = self.close_message();
        let index = self.output.len();
        let item = super::approvals::request_item(request, &self.meta.model);
        self.output.push(item.clone());
        events.push(self.event("response.output_item.added", json!({"output_index": index, "item": item})));
        events.push(self.event("response.output_item.done", json!({"output_index": index, "item": item})));
        events
    }

    fn complete(&mut self, incomplete: Option<&str>) -> Vec<Value> {
        let mut events = self.close_message();
        let (status, kind) = match incomplete {
            None => ("completed", "response.completed"),
            Some(_) => ("incomplete", "response.incomplete"),
        };
        let response = self.response(status, None, incomplete);
        self.ended = Some(response.clone());
        events.push(self.event(kind, json!({"response": response})));
        events
    }

    fn fail(&mut self, failure: RunFailure) -> Vec<Value> {
        let mut events = self.close_message();
        if failure == RunFailure::Cancelled {
            // Only background responses are cancelled, and no stream is watching them.
            self.ended = Some(self.response("cancelled", None, None));
            return events;
        }
        let error = json!({"code": "server_error", "message": failure.message()});
        let response = self.response("failed", Some(error), None);
        self.ended = Some(response.clone());
        events.push(self.event("response.failed", json!({"response": response})));
        events
    }
}

/// Usage in the Responses shape.
fn usage_json(usage: &Usage) -> Value {
    json!({
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.total_tokens,
    })
}
