//! AG-UI's `RunAgentInput` (camelCase, as `@ag-ui/core` 1.0 defines it) and its translation into
//! Weft: the messages into history and new input, the client's tools into declaration-only
//! [`ToolDefinition`]s, the context into a system message.

use serde::Deserialize;
use serde_json::{Value, json};
use weft_core::{Content, FunctionCall, FunctionResult, Message, Role, ToolDefinition};

use crate::error::ApiError;

/// The body of `POST /ag-ui/{entity}`. Unknown fields are ignored (AG-UI's objects are open), and
/// so are `forwardedProps`, `protocolVersion` and `parentRunId` in this version. The snake_case
/// spellings MAF's `AGUIChatClient` sends (`thread_id`, `run_id`, an assistant's `tool_calls`, a
/// tool's `tool_call_id`) are accepted too.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunAgentInput {
    /// The conversation's id (kept approvals are found by it).
    #[serde(alias = "thread_id")]
    pub(crate) thread_id: String,
    /// This run's id.
    #[serde(alias = "run_id")]
    pub(crate) run_id: String,
    /// The client's state; sent back as the first `STATE_SNAPSHOT`.
    #[serde(default)]
    pub(crate) state: Option<Value>,
    /// The whole conversation so far, oldest first.
    pub(crate) messages: Vec<AguiMessage>,
    /// Tools the client runs itself.
    #[serde(default)]
    pub(crate) tools: Vec<AguiTool>,
    /// Ambient information for this run.
    #[serde(default)]
    pub(crate) context: Vec<AguiContext>,
    /// Answers to the interrupts of the thread's previous run.
    #[serde(default)]
    pub(crate) resume: Vec<ResumeEntry>,
}

/// One message of the conversation, by `role`.
#[derive(Debug, Deserialize)]
#[serde(tag = "role", rename_all = "camelCase")]
pub(crate) enum AguiMessage {
    /// Instructions from the application developer.
    Developer { content: String },
    /// Instructions from the system.
    System { content: String },
    /// The person's message.
    User { content: Value },
    /// The agent's message: text and/or tool calls.
    #[serde(rename_all = "camelCase")]
    Assistant {
        #[serde(default)]
        content: Option<String>,
        #[serde(default, alias = "tool_calls")]
        tool_calls: Vec<AguiToolCall>,
    },
    /// A tool's result.
    #[serde(rename_all = "camelCase")]
    Tool {
        content: Value,
        #[serde(alias = "tool_call_id")]
        tool_call_id: String,
        #[serde(default)]
        error: Option<String>,
    },
    /// Progress shown by the UI; not conversation content, so not sent to the model.
    Activity {},
    /// The agent's reasoning; not sent back to the model.
    Reasoning {},
}

/// A tool call of an assistant message.
#[derive(Debug, Deserialize)]
pub(crate) struct AguiToolCall {
    id: String,
    function: AguiFunction,
}

/// A tool call's name and arguments (JSON text).
#[derive(Debug, Deserialize)]
pub(crate) struct AguiFunction {
    name: String,
    #[serde(default)]
    arguments: String,
}

/// A tool the client declares (and runs).
#[derive(Debug, Deserialize)]
pub(crate) struct AguiTool {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parameters: Option<Value>,
}

/// A named piece of ambient information.
#[derive(Debug, Deserialize)]
pub(crate) struct AguiContext {
    description: String,
    value: String,
}

/// The answer to one interrupt.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResumeEntry {
    /// The interrupt answered.
    pub(crate) interrupt_id: String,
    /// `resolved` or `cancelled`.
    pub(crate) status: ResumeStatus,
    /// For an approval: `{"approved": true|false}`.
    #[serde(default)]
    pub(crate) payload: Option<Value>,
}

/// Whether an interrupt was answered or given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ResumeStatus {
    /// Answered (the payload says how).
    Resolved,
    /// Given up: an approval counts as rejected.
    Cancelled,
}

impl ResumeEntry {
    /// Whether this entry approves the call: `resolved` with a payload of `{"approved": true}`
    /// (or the bare `true`). Anything else rejects it.
    pub(crate) fn approved(&self) -> bool {
        self.status == ResumeStatus::Resolved
            && match &self.payload {
                Some(Value::Bool(approved)) => *approved,
                Some(payload) => payload.get("approved").and_then(Value::as_bool).unwrap_or(false),
                None => false,
            }
    }

    /// The answer to a workflow's request for input `call_id`: the payload as the function's
    /// result (`null` when none). A `cancelled` entry is an error result: the workflow's run
    /// fails there, telling why.
    pub(crate) fn input_answer(&self, call_id: &str) -> FunctionResult {
        match self.status {
            ResumeStatus::Resolved => {
                FunctionResult::ok(call_id, self.payload.clone().unwrap_or(Value::Null))
            }
            ResumeStatus::Cancelled => FunctionResult::error(call_id, "the request for input was cancelled"),
        }
    }
}

/// The conversation split the way the agent takes it.
pub(crate) struct Conversation {
    /// Everything up to the agent's last turn.
    pub(crate) history: Vec<Message>,
    /// What the agent answers now: the messages after its last turn (user text, tool results).
    pub(crate) input: Vec<Message>,
}

/// Splits `messages` into history and new input; the context, when given, goes to the history as
/// a system message.
pub(crate) fn conversation(
    messages: &[AguiMessage],
    context: &[AguiContext],
) -> Result<Conversation, ApiError> {
    let mut history =
        messages.iter().filter_map(|m| message(m).transpose()).collect::<Result<Vec<_>, _>>()?;
    // The trailing messages after the last assistant turn are the new input; the rest is history.
    let split = history.iter().rposition(|m| m.role == Role::Assistant).map_or(0, |i| i + 1);
    let input = history.split_off(split);
    if !context.is_empty() {
        let lines: Vec<String> =
            context.iter().map(|c| format!("- {}: {}", c.description, c.value)).collect();
        history.push(Message::system(format!("Context for this run:\n{}", lines.join("\n"))));
    }
    Ok(Conversation { history, input })
}

/// The client's tools, declared to the model with nothing behind them: a call to one ends the
/// run with the call, for the client to run.
pub(crate) fn declared_tools(tools: &[AguiTool]) -> Vec<ToolDefinition> {
    tools
        .iter()
        .map(|tool| {
            let parameters =
                tool.parameters.clone().unwrap_or_else(|| json!({"type": "object", "properties": {}}));
            ToolDefinition::new(&tool.name, &tool.description, parameters)
        })
        .collect()
}

/// One AG-UI message as a Weft message (`None` for those the model is not sent).
fn message(message: &AguiMessage) -> Result<Option<Message>, ApiError> {
    Ok(Some(match message {
        AguiMessage::Developer { content } | AguiMessage::System { content } => Message::system(content),
        AguiMessage::User { content } => Message::user(text(content, "user")?),
        AguiMessage::Assistant { content, tool_calls } => {
            let mut contents = Vec::new();
            if let Some(text) = content.as_deref().filter(|t| !t.is_empty()) {
                contents.push(Content::text(text));
            }
            for call in tool_calls {
                contents.push(Content::FunctionCall(FunctionCall::from_raw_arguments(
                    &call.id,
                    &call.function.name,
                    &call.function.arguments,
                )));
            }
            Message::new(Role::Assistant, contents)
        }
        AguiMessage::Tool { content, tool_call_id, error } => {
            let result = match error {
                Some(error) => FunctionResult::error(tool_call_id, error),
                None => FunctionResult::ok(tool_call_id, Value::String(text(content, "tool")?)),
            };
            Message::new(Role::Tool, vec![Content::FunctionResult(result)])
        }
        AguiMessage::Activity {} | AguiMessage::Reasoning {} => return Ok(None),
    }))
}

/// The text of a `content`: a string, or parts of which only text parts are supported.
fn text(content: &Value, role: &str) -> Result<String, ApiError> {
    match content {
        Value::String(text) => Ok(text.clone()),
        Value::Array(parts) => parts
            .iter()
            .map(|part| match (part.get("type").and_then(Value::as_str), part.get("text")) {
                (Some("text"), Some(Value::String(text))) => Ok(text.clone()),
                (kind, _) => Err(ApiError::invalid(format!(
                    "a {role} message's content part of type '{}' is not supported: send text",
                    kind.unwrap_or("unknown")
                ))),
            })
            .collect(),
        _ => Err(ApiError::invalid(format!("a {role} message's `content` must be text or a list of parts"))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn input(body: Value) -> RunAgentInput {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn the_messages_after_the_last_assistant_turn_are_the_input() {
        let run = input(json!({
            "threadId": "t", "runId": "r",
            "messages": [
                {"id": "1", "role": "user", "content": "weather in Paris?"},
                {"id": "2", "role": "assistant", "toolCalls": [
                    {"id": "c1", "type": "function", "function": {"name": "where", "arguments": "{\"a\":1}"}}]},
                {"id": "3", "role": "tool", "toolCallId": "c1", "content": "Paris"},
                {"id": "4", "role": "activity", "activityType": "x", "content": {}},
            ],
            "context": [{"description": "unit", "value": "celsius"}],
        }));
        let conversation = conversation(&run.messages, &run.context).unwrap();
        assert_eq!(conversation.history.len(), 3);
        let call = conversation.history[1].function_calls().next().unwrap();
        assert_eq!((call.call_id.as_str(), call.name.as_str()), ("c1", "where"));
        assert_eq!(call.arguments["a"], 1);
        assert!(conversation.history[2].text().contains("unit: celsius"));
        assert_eq!(conversation.input.len(), 1);
        let result = conversation.input[0].function_results().next().unwrap();
        assert_eq!(result.call_id, "c1");
        assert_eq!(result.to_model_text(), "Paris");
    }

    #[test]
    fn the_snake_case_spellings_of_mafs_client_are_accepted() {
        let run = input(json!({
            "thread_id": "t", "run_id": "r",
            "messages": [
                {"id": "1", "role": "user", "content": "hi"},
                {"id": "2", "role": "assistant", "content": "", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "where", "arguments": "{}"}}]},
                {"id": "3", "role": "tool", "content": "Paris", "tool_call_id": "c1"},
            ],
        }));
        assert_eq!((run.thread_id.as_str(), run.run_id.as_str()), ("t", "r"));
        let conversation = conversation(&run.messages, &run.context).unwrap();
        assert_eq!(conversation.history[1].function_calls().next().unwrap().call_id, "c1");
        assert_eq!(conversation.input[0].function_results().next().unwrap().call_id, "c1");
    }

    #[test]
    fn non_text_parts_are_refused_with_their_type() {
        let run = input(json!({"threadId": "t", "runId": "r", "messages": [
            {"id": "1", "role": "user", "content": [{"type": "image", "source": {"type": "url", "value": "http://x"}}]}]}));
        let error = conversation(&run.messages, &[]).err().unwrap();
        assert!(error.message.contains("'image'"), "{}", error.message);
    }

    #[test]
    fn only_a_resolved_approved_payload_approves() {
        let entry = |status: &str, payload: Value| -> ResumeEntry {
            serde_json::from_value(json!({"interruptId": "i", "status": status, "payload": payload})).unwrap()
        };
        assert!(entry("resolved", json!({"approved": true})).approved());
        assert!(entry("resolved", json!(true)).approved());
        assert!(!entry("resolved", json!({"approved": false})).approved());
        assert!(!entry("resolved", json!({})).approved());
        assert!(!entry("cancelled", json!({"approved": true})).approved());
    }
}
