//! The stream of `streamGenerateContent?alt=sse`: each event's data is a whole
//! `GenerateContentResponse` holding the new parts; the one with a `finishReason` is the last
//! (it carries the usage). A stream that ends before it is incomplete.

use std::borrow::Cow;

use weft_core::{ChatError, ChatResponseUpdate, Content, FinishReason, Role, Usage};
use weft_provider::error::{decode_error, payload_error};
use weft_provider::sse::Event;
use weft_provider::{Step, StreamDecoder};

use crate::response::{UsageMetadata, WireResponse, blocked_error, check_blocked, finish_reason};

/// What a stream has said so far.
#[derive(Debug)]
pub(crate) struct GeminiStream {
    label: String,
    response_id: Option<String>,
    model: Option<String>,
    usage: Option<Usage>,
    called: bool,
    said_something: bool,
}

impl GeminiStream {
    pub(crate) fn new(label: &str) -> Self {
        Self {
            label: label.to_string(),
            response_id: None,
            model: None,
            usage: None,
            called: false,
            said_something: false,
        }
    }

    fn update(&self, contents: Vec<Content>, finish_reason: Option<FinishReason>) -> ChatResponseUpdate {
        ChatResponseUpdate {
            role: Some(Role::Assistant),
            author_name: None,
            contents,
            message_id: self.response_id.clone(),
            response_id: self.response_id.clone(),
            model: self.model.clone(),
            finish_reason,
        }
    }

    fn on_chunk(&mut self, chunk: WireResponse<'_>) -> Result<Step, ChatError> {
        if let Some(error) = &chunk.error {
            return Err(payload_error(&self.label, &serde_json::json!({"error": error})));
        }
        check_blocked(&self.label, &chunk)?;
        if self.response_id.is_none() {
            self.response_id = Some(
                chunk
                    .response_id
                    .filter(|id| !id.is_empty())
                    .map_or_else(crate::response::fresh_response_id, Cow::into_owned),
            );
        }
        // Every chunk names the model: a string is made only when the name changes.
        if let Some(model) = chunk.model_version {
            if self.model.as_deref() != Some(model.as_ref()) {
                self.model = Some(model.into_owned());
            }
        }
        if let Some(usage) = chunk.usage_metadata {
            self.usage = Some(UsageMetadata::to_usage(usage));
        }
        let candidate = chunk.candidates.0.unwrap_or_default();
        let mut contents = candidate.content.map(|content| content.parts.0).unwrap_or_default();
        self.called |= contents.iter().any(|content| matches!(content, Content::FunctionCall(_)));
        self.said_something |= !contents.is_empty();
        let Some(reason) = candidate.finish_reason.filter(|reason| !reason.is_empty()) else {
            return Ok(Step::Emit((!contents.is_empty()).then(|| self.update(contents, None))));
        };
        let finish = finish_reason(&reason, self.called);
        let reason = reason.as_ref();
        if finish == FinishReason::ContentFilter {
            if !self.said_something {
                return Err(blocked_error(
                    &self.label,
                    "the answer",
                    reason,
                    candidate.finish_message.as_deref(),
                    &candidate.safety_ratings,
                ));
            }
            tracing::warn!(provider = self.label.as_str(), reason, "Gemini stopped the answer part way");
        }
        contents.extend(self.usage.map(Content::Usage));
        Ok(Step::Done(Some(self.update(contents, Some(finish)))))
    }
}

impl StreamDecoder for GeminiStream {
    type Frame = Event;

    fn on_frame(&mut self, frame: Event) -> Result<Step, ChatError> {
        let data = frame.data.trim();
        if data.is_empty() {
            return Ok(Step::Emit(None));
        }
        // Decoded straight into the chunk type: this runs once per streamed chunk.
        let chunk: WireResponse = serde_json::from_str(data)
            .map_err(|err| decode_error(&self.label, "a stream event", err, data.as_bytes()))?;
        self.on_chunk(chunk)
    }

    fn end_marker(&self) -> &'static str {
        "a chunk with a finishReason"
    }
}
