//! Messages and their contents: the vocabulary every chat client, agent and tool speaks.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who authored a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Instructions that frame the conversation.
    System,
    /// The human (or calling program).
    User,
    /// The model.
    Assistant,
    /// Results of tool calls, sent back to the model.
    Tool,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        })
    }
}

/// A request from the model to call a function tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FunctionCall {
    /// The provider's id for this call; the result must carry the same id.
    pub call_id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments as the model sent them. Normally a JSON object; when the model sent text
    /// that is not JSON, the raw text is kept as a JSON string so the loop can report it.
    pub arguments: Value,
}

impl FunctionCall {
    /// A call with arguments already parsed.
    pub fn new(call_id: impl Into<String>, name: impl Into<String>, arguments: Value) -> Self {
        Self { call_id: call_id.into(), name: name.into(), arguments }
    }

    /// A call from the raw argument text a provider sent. Empty text means `{}`; text that is
    /// not JSON is kept as a JSON string so that the error can be shown to the model.
    pub fn from_raw_arguments(call_id: impl Into<String>, name: impl Into<String>, raw: &str) -> Self {
        let trimmed = raw.trim();
        let arguments = if trimmed.is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_str(trimmed).unwrap_or_else(|_| Value::String(raw.to_string()))
        };
        Self::new(call_id, name, arguments)
    }

    /// The arguments as JSON text, as sent to providers.
    pub fn arguments_text(&self) -> String {
        match &self.arguments {
            Value::String(raw) => raw.clone(),
            other => other.to_string(),
        }
    }
}

/// The outcome of a function call, sent back to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionResult {
    /// The id of the call this answers.
    pub call_id: String,
    /// The value the tool returned (`null` when it failed).
    #[serde(default)]
    pub result: Value,
    /// The error text the model sees when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Rich content the tool returned besides its value (images, resource links).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<Content>,
}

impl FunctionResult {
    /// A successful result.
    pub fn ok(call_id: impl Into<String>, result: Value) -> Self {
        Self { call_id: call_id.into(), result, error: None, contents: Vec::new() }
    }

    /// A failed call; `error` is what the model is told.
    pub fn error(call_id: impl Into<String>, error: impl Into<String>) -> Self {
        Self { call_id: call_id.into(), result: Value::Null, error: Some(error.into()), contents: Vec::new() }
    }

    /// Whether the call failed.
    pub fn is_error(&self) -> bool {
        self.error.is_some()
    }

    /// The text the model is given for this result: the error (prefixed), a string result as
    /// is, or any other value as compact JSON.
    pub fn to_model_text(&self) -> String {
        if let Some(error) = &self.error {
            return format!("Error: {error}");
        }
        match &self.result {
            Value::String(s) => s.clone(),
            Value::Null if !self.contents.is_empty() => {
                self.contents.iter().filter_map(Content::as_text).collect::<Vec<_>>().join("\n")
            }
            other => other.to_string(),
        }
    }
}

/// Token counts of one or more model calls. Sums saturate at `u64::MAX` rather than overflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt, all of them: those read from or written to a prompt cache too.
    pub input_tokens: u64,
    /// Tokens the model generated.
    pub output_tokens: u64,
    /// Their total, as the provider reported it.
    pub total_tokens: u64,
    /// Of the input tokens, those read from the provider's prompt cache (0 when it reports
    /// none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_read_input_tokens: u64,
    /// Of the input tokens, those written to the provider's prompt cache (0 when it reports
    /// none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_creation_input_tokens: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

impl Usage {
    /// Usage from input and output counts.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens.saturating_add(output_tokens),
            ..Self::default()
        }
    }

    /// This usage, `cached` of its input tokens read from the prompt cache.
    pub fn with_cached_input_tokens(mut self, cached: u64) -> Self {
        self.cache_read_input_tokens = cached;
        self
    }
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Self) {
        // Saturating: counts come from servers, and adding them must not panic.
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.total_tokens = self.total_tokens.saturating_add(other.total_tokens);
        self.cache_read_input_tokens =
            self.cache_read_input_tokens.saturating_add(other.cache_read_input_tokens);
        self.cache_creation_input_tokens =
            self.cache_creation_input_tokens.saturating_add(other.cache_creation_input_tokens);
    }
}

impl std::ops::Add for Usage {
    type Output = Usage;
    fn add(mut self, other: Self) -> Usage {
        self += other;
        self
    }
}

/// A human-in-the-loop request: the model wants to call a tool that needs approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// Identifies the request; the answer names it.
    pub id: String,
    /// The call waiting for approval.
    pub call: FunctionCall,
}

impl ApprovalRequest {
    /// A user message that approves this call.
    pub fn approve(&self) -> Message {
        self.answer(true)
    }

    /// A user message that rejects this call.
    pub fn reject(&self) -> Message {
        self.answer(false)
    }

    /// The content answering this request.
    pub fn response(&self, approved: bool) -> ApprovalResponse {
        ApprovalResponse { id: self.id.clone(), approved, call: self.call.clone() }
    }

    fn answer(&self, approved: bool) -> Message {
        Message::new(Role::User, vec![Content::ApprovalResponse(self.response(approved))])
    }
}

/// The caller's answer to an [`ApprovalRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApprovalResponse {
    /// The id of the request answered.
    pub id: String,
    /// Whether the call may run.
    pub approved: bool,
    /// The call the request was for.
    pub call: FunctionCall,
}

/// One part of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Content {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// The model's reasoning, when a provider exposes it.
    Reasoning {
        /// The reasoning text (may be a summary).
        text: String,
        /// An opaque token the provider gave with this reasoning, to be sent back with it,
        /// unchanged, in the next call's history (Anthropic's thinking `signature`). A
        /// streamed reasoning delta carrying it ends its block.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// A request from the model to call a tool.
    FunctionCall(FunctionCall),
    /// The result of a tool call.
    FunctionResult(FunctionResult),
    /// Inline binary data (base64) with its media type: images, audio, files.
    Data {
        /// The media type, e.g. `image/png`.
        media_type: String,
        /// The bytes, base64-encoded.
        base64: String,
    },
    /// A reference to content by URI, with its media type when known.
    Uri {
        /// The URI (`https:`, `file:`, `data:` …).
        uri: String,
        /// The media type, e.g. `image/png`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media_type: Option<String>,
    },
    /// Token usage reported by a model call.
    Usage(Usage),
    /// An error reported inside a response (e.g. a refusal or a content filter).
    Error {
        /// What went wrong.
        message: String,
        /// The provider's code, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
    },
    /// A tool call waiting for the caller's approval.
    ApprovalRequest(ApprovalRequest),
    /// The caller's answer to an approval request.
    ApprovalResponse(ApprovalResponse),
    /// Progress of the run for whoever watches it, not conversation content: never sent to a
    /// model, never kept in a session. `kind` names the vocabulary of `data`; a workflow served
    /// as an agent streams its executors' events as `weft.workflow` events (see
    /// `weft_workflow::WorkflowAgent`). Consumers ignore kinds they do not know.
    Event {
        /// The vocabulary, e.g. `weft.workflow`.
        kind: String,
        /// The event.
        data: Value,
    },
}

impl Content {
    /// A text content.
    pub fn text(text: impl Into<String>) -> Self {
        Content::Text { text: text.into() }
    }

    /// The text, when this is a text content.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Content::Text { text } => Some(text),
            _ => None,
        }
    }

    /// The function call, when this is one.
    pub fn as_function_call(&self) -> Option<&FunctionCall> {
        match self {
            Content::FunctionCall(call) => Some(call),
            _ => None,
        }
    }

    /// The function result, when this is one.
    pub fn as_function_result(&self) -> Option<&FunctionResult> {
        match self {
            Content::FunctionResult(result) => Some(result),
            _ => None,
        }
    }
}

impl From<&str> for Content {
    fn from(text: &str) -> Self {
        Content::text(text)
    }
}

impl From<String> for Content {
    fn from(text: String) -> Self {
        Content::Text { text }
    }
}

/// A message: a role, an optional author name and an ordered list of contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// The agent or participant that wrote it, in multi-agent conversations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// Its parts, in order.
    pub contents: Vec<Content>,
}

impl Message {
    /// A message from its role and contents.
    pub fn new(role: Role, contents: Vec<Content>) -> Self {
        Self { role, author_name: None, contents }
    }

    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Self::new(Role::System, vec![Content::text(text)])
    }

    /// A user message.
    pub fn user(text: impl Into<String>) -> Self {
        Self::new(Role::User, vec![Content::text(text)])
    }

    /// An assistant message.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::new(Role::Assistant, vec![Content::text(text)])
    }

    /// Sets the author name.
    pub fn with_author(mut self, name: impl Into<String>) -> Self {
        self.author_name = Some(name.into());
        self
    }

    /// All text contents joined together.
    pub fn text(&self) -> String {
        self.contents.iter().filter_map(Content::as_text).collect()
    }

    /// The function calls in this message.
    pub fn function_calls(&self) -> impl Iterator<Item = &FunctionCall> {
        self.contents.iter().filter_map(Content::as_function_call)
    }

    /// The function results in this message.
    pub fn function_results(&self) -> impl Iterator<Item = &FunctionResult> {
        self.contents.iter().filter_map(Content::as_function_result)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::user(text)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::user(text)
    }
}

#[cfg(test)]
mod tests {
    use super::Usage;

    #[test]
    fn huge_usages_saturate_instead_of_overflowing() {
        let big = Usage::new(u64::MAX, 1);
        assert_eq!(big.total_tokens, u64::MAX);
        let mut sum = big;
        sum.cache_read_input_tokens = u64::MAX;
        sum.cache_creation_input_tokens = u64::MAX;
        sum += sum;
        assert_eq!((sum.input_tokens, sum.output_tokens, sum.total_tokens), (u64::MAX, 2, u64::MAX));
        assert_eq!((sum.cache_read_input_tokens, sum.cache_creation_input_tokens), (u64::MAX, u64::MAX));
        assert_eq!((big + big).input_tokens, u64::MAX);
    }
}
