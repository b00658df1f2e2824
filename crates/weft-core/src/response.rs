//! Chat responses, streaming updates, and folding a stream of updates into a response.

use serde::{Deserialize, Serialize};

use crate::message::{Content, FunctionCall, Message, Role, Usage};

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A natural end, or a stop sequence.
    Stop,
    /// The token limit was reached.
    Length,
    /// The model asked for tool calls.
    ToolCalls,
    /// A content filter stopped the output.
    ContentFilter,
    /// Anything else, as the provider named it.
    Other(String),
}

impl FinishReason {
    /// The OpenTelemetry / OpenAI name of this reason.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::Other(other) => other,
        }
    }

    /// Parses a provider's name of a reason.
    pub fn parse(name: &str) -> Self {
        match name {
            "stop" | "end_turn" | "completed" => FinishReason::Stop,
            "length" | "max_tokens" | "max_output_tokens" => FinishReason::Length,
            "tool_calls" | "function_call" | "tool_use" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            other => FinishReason::Other(other.to_string()),
        }
    }
}

/// The complete answer of one chat-client call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The messages the model produced (usually one assistant message).
    pub messages: Vec<Message>,
    /// The provider's id of the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    /// The model that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Why the model stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// Tokens used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl ChatResponse {
    /// A response made of one assistant message with the given text.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            messages: vec![Message::assistant(text)],
            finish_reason: Some(FinishReason::Stop),
            ..Default::default()
        }
    }

    /// A response in which the assistant calls the given functions.
    pub fn function_calls(calls: impl IntoIterator<Item = FunctionCall>) -> Self {
        let contents = calls.into_iter().map(Content::FunctionCall).collect();
        Self {
            messages: vec![Message::new(Role::Assistant, contents)],
            finish_reason: Some(FinishReason::ToolCalls),
            ..Default::default()
        }
    }

    /// The text of all messages, joined.
    pub fn text_content(&self) -> String {
        self.messages.iter().map(Message::text).collect()
    }

    /// The function calls the model asked for.
    pub fn function_calls_requested(&self) -> impl Iterator<Item = &FunctionCall> {
        self.messages.iter().flat_map(Message::function_calls)
    }

    /// The response as the updates a stream would have produced: one per message, then one with
    /// the usage. Folding them gives back an equal response.
    pub fn into_updates(self) -> Vec<ChatResponseUpdate> {
        let mut updates = Vec::with_capacity(self.messages.len() + 1);
        let count = self.messages.len();
        for (index, message) in self.messages.into_iter().enumerate() {
            let last = index + 1 == count;
            updates.push(ChatResponseUpdate {
                role: Some(message.role),
                author_name: message.author_name,
                contents: message.contents,
                message_id: Some(format!("msg_{index}")),
                response_id: self.response_id.clone(),
                model: self.model.clone(),
                finish_reason: if last { self.finish_reason.clone() } else { None },
            });
        }
        if let Some(usage) = self.usage {
            updates.push(ChatResponseUpdate {
                contents: vec![Content::Usage(usage)],
                response_id: self.response_id.clone(),
                finish_reason: if count == 0 { self.finish_reason.clone() } else { None },
                ..Default::default()
            });
        }
        updates
    }
}

/// One piece of a streamed response: text deltas, complete function calls, usage, the finish
/// reason. Providers assemble streamed function-call arguments before emitting the call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponseUpdate {
    /// The role of the message this update belongs to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The author of the message, in multi-agent conversations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// New contents: text deltas, reasoning deltas, function calls, usage …
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<Content>,
    /// Groups updates into messages: a new id starts a new message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The provider's id of the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    /// The model that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Set on the update that ends the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
}

impl ChatResponseUpdate {
    /// An assistant text delta.
    pub fn text(text: impl Into<String>) -> Self {
        Self { role: Some(Role::Assistant), contents: vec![Content::text(text)], ..Default::default() }
    }

    /// The text of this update.
    pub fn text_content(&self) -> String {
        self.contents.iter().filter_map(Content::as_text).collect()
    }
}

/// Folds streamed updates into a [`ChatResponse`]. Adjacent text (and reasoning) deltas of one
/// message are joined; usage contents are summed into the response's usage.
#[derive(Debug, Default)]
pub struct ResponseFolder {
    response: ChatResponse,
    current_message_id: Option<String>,
}

impl ResponseFolder {
    /// An empty folder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one update.
    pub fn push(&mut self, update: ChatResponseUpdate) {
        self.push_ref(&update);
    }

    /// Adds one update without taking it: text deltas are appended to the message's text, so a
    /// stream can be folded and forwarded without copying each update.
    pub fn push_ref(&mut self, update: &ChatResponseUpdate) {
        if update.response_id.is_some() && self.response.response_id != update.response_id {
            self.response.response_id.clone_from(&update.response_id);
        }
        if update.model.is_some() && self.response.model != update.model {
            self.response.model.clone_from(&update.model);
        }
        if update.finish_reason.is_some() {
            self.response.finish_reason.clone_from(&update.finish_reason);
        }
        let mut has_others = false;
        for content in &update.contents {
            match content {
                Content::Usage(usage) => {
                    *self.response.usage.get_or_insert_with(Usage::default) += *usage;
                }
                _ => has_others = true,
            }
        }
        if !has_others {
            return;
        }
        let starts_new = match (&update.message_id, &self.current_message_id) {
            (Some(new), Some(current)) => new != current,
            _ => false,
        };
        let role_differs = match (update.role, self.response.messages.last()) {
            (Some(role), Some(last)) => role != last.role,
            _ => false,
        };
        if update.message_id.is_some() && self.current_message_id != update.message_id {
            self.current_message_id.clone_from(&update.message_id);
        }
        if starts_new || role_differs || self.response.messages.is_empty() {
            let mut message = Message::new(update.role.unwrap_or(Role::Assistant), Vec::new());
            message.author_name.clone_from(&update.author_name);
            self.response.messages.push(message);
        }
        // `messages` is non-empty here: a message was pushed above when it was empty.
        if let Some(message) = self.response.messages.last_mut() {
            for content in &update.contents {
                if !matches!(content, Content::Usage(_)) {
                    append_content(&mut message.contents, content);
                }
            }
        }
    }

    /// The folded response.
    pub fn finish(self) -> ChatResponse {
        self.response
    }
}

/// Appends a content, joining a text delta to the text before it.
fn append_content(contents: &mut Vec<Content>, content: &Content) {
    match (contents.last_mut(), content) {
        (Some(Content::Text { text }), Content::Text { text: delta }) => text.push_str(delta),
        (
            Some(Content::Reasoning { text, signature: signature @ None }),
            Content::Reasoning { text: delta, signature: ends },
        ) => {
            text.push_str(delta);
            signature.clone_from(ends);
        }
        (_, content) => contents.push(content.clone()),
    }
}

/// Folds a list of updates into a response.
pub fn fold_updates(updates: impl IntoIterator<Item = ChatResponseUpdate>) -> ChatResponse {
    let mut folder = ResponseFolder::new();
    for update in updates {
        folder.push(update);
    }
    folder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(content: Content) -> ChatResponseUpdate {
        ChatResponseUpdate {
            role: Some(Role::Assistant),
            contents: vec![content],
            ..ChatResponseUpdate::default()
        }
    }

    #[test]
    fn a_signature_ends_its_reasoning_block() {
        let reasoning = |text: &str, signature: Option<&str>| Content::Reasoning {
            text: text.into(),
            signature: signature.map(str::to_string),
        };
        let response = fold_updates([
            update(reasoning("Let me ", None)),
            update(reasoning("think.", None)),
            update(reasoning("", Some("sig-1"))),
            update(reasoning("Again.", None)),
            update(reasoning("", Some("sig-2"))),
            update(Content::text("Done")),
        ]);
        assert_eq!(
            response.messages[0].contents,
            vec![
                reasoning("Let me think.", Some("sig-1")),
                reasoning("Again.", Some("sig-2")),
                Content::text("Done")
            ]
        );
    }

    #[test]
    fn usage_adds_cache_counts() {
        let cached =
            Usage { cache_read_input_tokens: 5, cache_creation_input_tokens: 2, ..Usage::new(10, 1) };
        let sum = cached + cached;
        assert_eq!(
            (sum.input_tokens, sum.cache_read_input_tokens, sum.cache_creation_input_tokens),
            (20, 10, 4)
        );
        // Zero cache counts stay out of the JSON.
        assert_eq!(
            serde_json::to_value(Usage::new(1, 2)).unwrap(),
            serde_json::json!({"input_tokens": 1, "output_tokens": 2, "total_tokens": 3})
        );
    }
}
