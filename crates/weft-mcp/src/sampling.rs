//! Sampling: a server asks the client's model for a completion (`sampling/createMessage`).
//! Answered by the [`ChatClient`](weft_core::ChatClient) given to
//! [`McpSourceBuilder::sampling_client`](crate::McpSourceBuilder::sampling_client); without
//! one the capability is not announced.
//!
//! Mapping: the system prompt becomes a system message, each MCP message a user or assistant
//! message (text, image and audio parts; tool use is not offered, so `tools` are refused),
//! `maxTokens`, `temperature` and `stopSequences` the chat options. The model's preferences are
//! hints only and are not applied: the client's own model answers. The answer goes back as one
//! assistant message (text, or the first image/audio part when there is no text), with the
//! model's name and the stop reason (`endTurn`, `maxTokens`, `toolUse`, or the provider's).
#![allow(deprecated)] // Sampling is deprecated from protocol 2026-07-28 on; we speak 2025-11-25.

use rmcp::ErrorData;
use rmcp::model::{
    AudioContent, CreateMessageRequestParams, CreateMessageResult, ImageContent, Role as McpRole,
    SamplingMessage, SamplingMessageContentBlock,
};
use weft_core::{ChatClient, ChatOptions, ChatRequest, ChatResponse, Content, FinishReason, Message, Role};

/// The chat request for a `sampling/createMessage` request.
pub(crate) fn to_chat_request(params: CreateMessageRequestParams) -> Result<ChatRequest, ErrorData> {
    if params.tools.as_ref().is_some_and(|tools| !tools.is_empty()) {
        return Err(ErrorData::invalid_params("sampling with tools is not supported by this client", None));
    }
    let mut messages = Vec::with_capacity(params.messages.len() + 1);
    if let Some(system) = params.system_prompt.filter(|s| !s.is_empty()) {
        messages.push(Message::system(system));
    }
    for message in params.messages {
        let role = match message.role {
            McpRole::User => Role::User,
            McpRole::Assistant => Role::Assistant,
        };
        let mut contents = Vec::new();
        for block in message.content.into_vec() {
            contents.push(match block {
                SamplingMessageContentBlock::Text(text) => Content::text(text.text),
                SamplingMessageContentBlock::Image(image) => {
                    Content::Data { media_type: image.mime_type, base64: image.data }
                }
                SamplingMessageContentBlock::Audio(audio) => {
                    Content::Data { media_type: audio.mime_type, base64: audio.data }
                }
                _ => {
                    return Err(ErrorData::invalid_params(
                        "sampling messages with tool use or tool results are not supported by this client",
                        None,
                    ));
                }
            });
        }
        messages.push(Message::new(role, contents));
    }
    let options = ChatOptions {
        max_tokens: Some(params.max_tokens),
        temperature: params.temperature,
        stop: params.stop_sequences.unwrap_or_default(),
        ..Default::default()
    };
    Ok(ChatRequest::new(messages, options))
}

/// The `sampling/createMessage` result for a chat response.
pub(crate) fn from_chat_response(response: ChatResponse, client: &dyn ChatClient) -> CreateMessageResult {
    let model = response
        .model
        .clone()
        .or_else(|| client.info().default_model)
        .unwrap_or_else(|| client.info().provider);
    let stop_reason = response.finish_reason.as_ref().map(|reason| match reason {
        FinishReason::Stop => CreateMessageResult::STOP_REASON_END_TURN.to_owned(),
        FinishReason::Length => CreateMessageResult::STOP_REASON_END_MAX_TOKEN.to_owned(),
        FinishReason::ToolCalls => CreateMessageResult::STOP_REASON_TOOL_USE.to_owned(),
        other => other.as_str().to_owned(),
    });
    let text = response.text_content();
    let block = if text.is_empty() {
        response
            .messages
            .iter()
            .flat_map(|m| m.contents.iter())
            .find_map(|content| match content {
                Content::Data { media_type, base64 } if media_type.starts_with("image/") => Some(
                    SamplingMessageContentBlock::Image(ImageContent::new(base64.clone(), media_type.clone())),
                ),
                Content::Data { media_type, base64 } if media_type.starts_with("audio/") => Some(
                    SamplingMessageContentBlock::Audio(AudioContent::new(base64.clone(), media_type.clone())),
                ),
                _ => None,
            })
            .unwrap_or_else(|| SamplingMessageContentBlock::text(text))
    } else {
        SamplingMessageContentBlock::text(text)
    };
    let mut result = CreateMessageResult::new(SamplingMessage::new(McpRole::Assistant, block), model);
    result.stop_reason = stop_reason;
    result
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;
    use weft_core::ScriptedClient;

    #[test]
    fn request_and_response_mapping() {
        let params: CreateMessageRequestParams = serde_json::from_value(json!({
            "messages": [
                {"role": "user", "content": {"type": "text", "text": "hello"}},
                {"role": "assistant", "content": [{"type": "text", "text": "hi"}]},
                {"role": "user", "content": {"type": "image", "data": "AAAA", "mimeType": "image/png"}}
            ],
            "systemPrompt": "be brief",
            "maxTokens": 50,
            "temperature": 0.5,
            "stopSequences": ["END"]
        }))
        .unwrap();
        let request = to_chat_request(params).unwrap();
        assert_eq!(request.messages.len(), 4);
        assert_eq!(request.messages[0], Message::system("be brief"));
        assert_eq!(request.messages[1], Message::user("hello"));
        assert_eq!(request.messages[2], Message::assistant("hi"));
        assert_eq!(
            request.messages[3].contents,
            vec![Content::Data { media_type: "image/png".into(), base64: "AAAA".into() }]
        );
        assert_eq!(request.options.max_tokens, Some(50));
        assert_eq!(request.options.temperature, Some(0.5));
        assert_eq!(request.options.stop, vec!["END".to_string()]);

        let mut response = ChatResponse::text("short");
        response.finish_reason = Some(FinishReason::Length);
        let result = from_chat_response(response, &ScriptedClient::new());
        let wire = serde_json::to_value(&result).unwrap();
        assert_eq!(wire["model"], "scripted");
        assert_eq!(wire["stopReason"], "maxTokens");
        assert_eq!(wire["role"], "assistant");
        assert_eq!(wire["content"]["text"], "short");
    }

    #[test]
    fn tools_are_refused() {
        let params: CreateMessageRequestParams = serde_json::from_value(json!({
            "messages": [{"role": "user", "content": {"type": "text", "text": "x"}}],
            "maxTokens": 5,
            "tools": [{"name": "t", "inputSchema": {"type": "object"}}]
        }))
        .unwrap();
        assert!(to_chat_request(params).is_err());
    }
}
