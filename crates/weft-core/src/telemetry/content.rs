//! Message content in the GenAI conventions' JSON shapes (`gen_ai.input.messages`,
//! `gen_ai.output.messages`, `gen_ai.system_instructions`): a list of `{role, parts}` whose parts
//! are `{type: "text", content}`, `{type: "tool_call", id, name, arguments}`,
//! `{type: "tool_call_response", id, response}`, … Recorded only when content capture is on.

use serde_json::{Value, json};

use crate::message::{Content, Message, Role};
use crate::response::FinishReason;

/// The system messages' parts (as `gen_ai.system_instructions`) and the other messages.
pub(crate) fn split_system(messages: &[Message]) -> (Option<String>, Vec<&Message>) {
    let (system, rest): (Vec<&Message>, Vec<&Message>) =
        messages.iter().partition(|message| message.role == Role::System);
    let parts: Vec<Value> =
        system.iter().flat_map(|message| message.contents.iter().filter_map(part)).collect();
    let instructions = (!parts.is_empty()).then(|| Value::Array(parts).to_string());
    (instructions, rest)
}

/// `messages` as `[{role, parts}]`.
pub(crate) fn messages_json<'a>(messages: impl IntoIterator<Item = &'a Message>) -> String {
    Value::Array(messages.into_iter().map(message).collect()).to_string()
}

/// The model's answer as `[{role, parts, finish_reason}]`.
pub(crate) fn output_messages_json(messages: &[Message], finish_reason: Option<&FinishReason>) -> String {
    let finish_reason = finish_reason.map(FinishReason::as_str).unwrap_or("stop");
    Value::Array(
        messages
            .iter()
            .map(|item| {
                let mut value = message(item);
                value["finish_reason"] = json!(finish_reason);
                value
            })
            .collect(),
    )
    .to_string()
}

fn message(message: &Message) -> Value {
    let role = match message.role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    };
    json!({ "role": role, "parts": message.contents.iter().filter_map(part).collect::<Vec<_>>() })
}

/// One part; `None` for what is not content (usage reports, approval bookkeeping).
fn part(content: &Content) -> Option<Value> {
    Some(match content {
        Content::Text { text } => json!({ "type": "text", "content": text }),
        Content::Reasoning { text, .. } => json!({ "type": "reasoning", "content": text }),
        Content::FunctionCall(call) => {
            json!({ "type": "tool_call", "id": call.call_id, "name": call.name, "arguments": call.arguments })
        }
        Content::FunctionResult(result) => json!({
            "type": "tool_call_response",
            "id": result.call_id,
            "response": match &result.error {
                Some(error) => json!({ "error": error }),
                None => result.result.clone(),
            },
        }),
        Content::Data { media_type, base64 } => {
            json!({ "type": "blob", "mime_type": media_type, "content": base64 })
        }
        Content::Uri { uri, media_type } => json!({ "type": "uri", "uri": uri, "mime_type": media_type }),
        Content::Error { message, code } => json!({ "type": "error", "content": message, "code": code }),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{FunctionCall, FunctionResult};

    #[test]
    fn messages_take_the_conventions_shape() {
        let messages = vec![
            Message::new(Role::System, vec![Content::Text { text: "Be brief.".into() }]),
            Message::new(Role::User, vec![Content::Text { text: "Weather in Paris?".into() }]),
            Message::new(
                Role::Assistant,
                vec![Content::FunctionCall(FunctionCall::new("c1", "get_weather", json!({"city": "Paris"})))],
            ),
            Message::new(Role::Tool, vec![Content::FunctionResult(FunctionResult::ok("c1", json!("sunny")))]),
        ];
        let (instructions, rest) = split_system(&messages);
        assert_eq!(instructions.as_deref(), Some(r#"[{"type":"text","content":"Be brief."}]"#));
        let value: Value = serde_json::from_str(&messages_json(rest)).unwrap_or_default();
        assert_eq!(
            value,
            json!([
                {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
                {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "get_weather", "arguments": {"city": "Paris"}}]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "sunny"}]},
            ])
        );
    }

    #[test]
    fn output_messages_carry_the_finish_reason() {
        let messages = vec![Message::new(Role::Assistant, vec![Content::Text { text: "Sunny.".into() }])];
        let value: Value = serde_json::from_str(&output_messages_json(&messages, Some(&FinishReason::Stop)))
            .unwrap_or_default();
        assert_eq!(
            value,
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "Sunny."}], "finish_reason": "stop"}])
        );
    }
}
