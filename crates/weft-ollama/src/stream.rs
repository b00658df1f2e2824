//! `/api/chat`'s stream state machine: one JSON object a line, the text (and thinking) in
//! `message`, tool calls whole in the line that carries them, `done: true` with the counts and
//! `done_reason` on the last line, and `{"error": …}` when the server fails mid-stream.

use serde_json::Value;
use weft_core::{ChatError, ChatResponseUpdate, Content, FinishReason, Role};
use weft_provider::error::{decode_error, payload_error};
use weft_provider::{Step, StreamDecoder};

use crate::wire::{WireChat, finish_reason};

/// What a stream has said so far.
#[derive(Debug)]
pub(crate) struct ChatStream {
    label: String,
    model: Option<String>,
    called: bool,
}

impl ChatStream {
    pub(crate) fn new(label: &str) -> Self {
        Self { label: label.to_string(), model: None, called: false }
    }

    fn update(&self, contents: Vec<Content>, finish_reason: Option<FinishReason>) -> ChatResponseUpdate {
        ChatResponseUpdate {
            role: Some(Role::Assistant),
            author_name: None,
            contents,
            message_id: None,
            response_id: None,
            model: self.model.clone(),
            finish_reason,
        }
    }
}

impl StreamDecoder for ChatStream {
    type Frame = String;

    fn on_frame(&mut self, line: String) -> Result<Step, ChatError> {
        // Decoded straight into the line's type: this runs once per streamed token.
        let mut chat: WireChat = serde_json::from_str(&line)
            .map_err(|err| decode_error(&self.label, "a stream line", err, line.as_bytes()))?;
        if let Some(error) = chat.error.take().filter(|error| !error.is_null()) {
            return Err(payload_error(&self.label, &serde_json::json!({"error": error})));
        }
        if self.model.is_none() {
            self.model = chat.model.take().filter(|model| !model.is_empty());
        }
        let mut contents = chat.contents();
        self.called |= contents.iter().any(|content| matches!(content, Content::FunctionCall(_)));
        if !chat.done {
            return Ok(Step::Emit((!contents.is_empty()).then(|| self.update(contents, None))));
        }
        if let Some(usage) = chat.usage() {
            contents.push(Content::Usage(usage));
        }
        let reason = finish_reason(chat.done_reason.as_deref(), self.called);
        Ok(Step::Done(Some(self.update(contents, Some(reason)))))
    }

    fn end_marker(&self) -> &'static str {
        "its last line (\"done\": true)"
    }
}

/// The error an answer's body reports, if any.
pub(crate) fn body_error(label: &str, value: &Value) -> Option<ChatError> {
    value.get("error").filter(|error| !error.is_null()).map(|_| payload_error(label, value))
}
