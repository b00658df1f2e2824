//! A `GenerateContentResponse` (a whole answer, or one chunk of a stream) as Weft contents,
//! usage and finish reason.

use serde::Deserialize;
use serde_json::{Value, json};
use weft_core::{
    ChatError, ChatErrorKind, ChatResponse, Content, FinishReason, FunctionCall, Message, Role, Usage,
};

/// The prefix of the call ids made here for calls that came without one (the Gemini API
/// sends ids only on some models): such ids are not sent back.
const GENERATED_ID_PREFIX: &str = "gemini_call_";

/// A fresh call id for a call without one.
pub(crate) fn generated_id() -> String {
    format!("{GENERATED_ID_PREFIX}{:016x}", rand::random::<u64>())
}

/// Whether `id` was made by [`generated_id`].
pub(crate) fn is_generated_id(id: &str) -> bool {
    id.starts_with(GENERATED_ID_PREFIX)
}

/// An id for an answer that named none.
pub(crate) fn fresh_response_id() -> String {
    format!("gemini_{:016x}", rand::random::<u64>())
}

/// `GenerateContentResponse`: the whole answer, or one chunk of a stream.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireResponse {
    #[serde(default)]
    pub(crate) candidates: Vec<Candidate>,
    #[serde(default)]
    pub(crate) prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    pub(crate) usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    pub(crate) model_version: Option<String>,
    #[serde(default)]
    pub(crate) response_id: Option<String>,
    /// Google's error object, when an error comes inside a 200 answer (a stream's event).
    #[serde(default)]
    pub(crate) error: Option<Value>,
}

/// One candidate answer (Weft asks for one).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Candidate {
    #[serde(default)]
    pub(crate) content: Option<WireContent>,
    #[serde(default)]
    pub(crate) finish_reason: Option<String>,
    #[serde(default)]
    pub(crate) finish_message: Option<String>,
    #[serde(default)]
    pub(crate) safety_ratings: Vec<SafetyRating>,
}

/// A candidate's content: its parts.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireContent {
    #[serde(default)]
    pub(crate) parts: Vec<Value>,
}

/// Why the prompt itself was blocked.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PromptFeedback {
    #[serde(default)]
    pub(crate) block_reason: Option<String>,
    #[serde(default)]
    pub(crate) block_reason_message: Option<String>,
    #[serde(default)]
    pub(crate) safety_ratings: Vec<SafetyRating>,
}

/// One harm category's rating.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SafetyRating {
    #[serde(default)]
    pub(crate) category: Option<String>,
    #[serde(default)]
    pub(crate) probability: Option<String>,
    #[serde(default)]
    pub(crate) blocked: bool,
}

/// `usageMetadata`. `promptTokenCount` includes the cached tokens; thoughts are output the
/// model generated besides the candidates.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageMetadata {
    #[serde(default)]
    pub(crate) prompt_token_count: Option<u64>,
    #[serde(default)]
    pub(crate) cached_content_token_count: Option<u64>,
    #[serde(default)]
    pub(crate) candidates_token_count: Option<u64>,
    #[serde(default)]
    pub(crate) tool_use_prompt_token_count: Option<u64>,
    #[serde(default)]
    pub(crate) thoughts_token_count: Option<u64>,
    #[serde(default)]
    pub(crate) total_token_count: Option<u64>,
}

impl UsageMetadata {
    /// As a Weft usage: input counts the prompt (cached tokens included) and the tool-use
    /// prompt; output counts the candidates and the thoughts.
    pub(crate) fn to_usage(self) -> Usage {
        // Saturating: the counts are the server's, and no count it sends may panic the client.
        let input = self
            .prompt_token_count
            .unwrap_or(0)
            .saturating_add(self.tool_use_prompt_token_count.unwrap_or(0));
        let output =
            self.candidates_token_count.unwrap_or(0).saturating_add(self.thoughts_token_count.unwrap_or(0));
        Usage {
            input_tokens: input,
            output_tokens: output,
            total_tokens: self.total_token_count.unwrap_or_else(|| input.saturating_add(output)),
            cache_read_input_tokens: self.cached_content_token_count.unwrap_or(0),
            cache_creation_input_tokens: 0,
        }
    }
}

/// The finish reasons that mean a filter stopped the answer.
const FILTERED: [&str; 8] = [
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
];

/// A finish reason as Weft's: `STOP` stops (or asks for tools when the answer calls some),
/// `MAX_TOKENS` is the length, the safety, recitation, blocklist and prohibited-content
/// reasons are a content filter; others (`MALFORMED_FUNCTION_CALL`, `LANGUAGE`, `OTHER` …)
/// keep their name, in lower case.
pub(crate) fn finish_reason(reason: &str, called: bool) -> FinishReason {
    match reason {
        "STOP" if called => FinishReason::ToolCalls,
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        filtered if FILTERED.contains(&filtered) => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_ascii_lowercase()),
    }
}

/// One part as Weft contents: text, a thought ([`Content::Reasoning`]), a function call
/// (with a made-up id when it has none), inline data; a `thoughtSignature` comes first, as a
/// reasoning with no text, so that it goes back on the same part. Parts Weft has no use for
/// (executable code and its result, …) give nothing.
pub(crate) fn part_contents(part: &Value, out: &mut Vec<Content>) {
    let signature = part.get("thoughtSignature").and_then(Value::as_str).filter(|s| !s.is_empty());
    let thought = part.get("thought").and_then(Value::as_bool).unwrap_or(false);
    if let Some(text) = part.get("text").and_then(Value::as_str) {
        if thought {
            out.push(Content::Reasoning { text: text.to_string(), signature: signature.map(str::to_string) });
            return;
        }
        if let Some(signature) = signature {
            out.push(Content::Reasoning { text: String::new(), signature: Some(signature.to_string()) });
        }
        if !text.is_empty() {
            out.push(Content::text(text));
        }
        return;
    }
    if let Some(signature) = signature {
        out.push(Content::Reasoning { text: String::new(), signature: Some(signature.to_string()) });
    }
    if let Some(call) = part.get("functionCall") {
        let name = call.get("name").and_then(Value::as_str).unwrap_or("");
        let id = call.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
        let args = call.get("args").cloned().filter(|args| !args.is_null()).unwrap_or_else(|| json!({}));
        let id = id.map_or_else(generated_id, str::to_string);
        out.push(Content::FunctionCall(FunctionCall::new(id, name, args)));
    } else if let Some(data) = part.get("inlineData") {
        let field = |name: &str| data.get(name).and_then(Value::as_str).unwrap_or("").to_string();
        out.push(Content::Data { media_type: field("mimeType"), base64: field("data") });
    } else {
        tracing::debug!(part = %part, "ignoring a part Weft does not use");
    }
}

/// The error for an answer a filter stopped before it said anything: the prompt blocked
/// (`promptFeedback.blockReason`), or a candidate finished by `SAFETY` and the like with no
/// content. A [`BadRequest`](ChatErrorKind::BadRequest) whose code is the reason and whose
/// message names the categories rated as blocked (or the likeliest ones).
pub(crate) fn blocked_error(
    label: &str,
    what: &str,
    reason: &str,
    detail: Option<&str>,
    ratings: &[SafetyRating],
) -> ChatError {
    let mut categories: Vec<String> =
        ratings.iter().filter(|rating| rating.blocked).filter_map(|rating| rating.category.clone()).collect();
    if categories.is_empty() {
        categories = ratings
            .iter()
            .filter(|rating| matches!(rating.probability.as_deref(), Some("HIGH" | "MEDIUM")))
            .filter_map(|rating| {
                let category = rating.category.as_deref()?;
                Some(format!("{category} ({})", rating.probability.as_deref().unwrap_or("?")))
            })
            .collect();
    }
    let mut message = format!("Gemini blocked {what} ({reason})");
    if !categories.is_empty() {
        message.push_str(": ");
        message.push_str(&categories.join(", "));
    }
    if let Some(detail) = detail.filter(|detail| !detail.is_empty()) {
        message.push_str(" — ");
        message.push_str(detail);
    }
    ChatError::new(ChatErrorKind::BadRequest, message)
        .with_code(Some(reason.to_string()))
        .with_provider(label)
}

/// The block error of an answer or chunk, if a filter stopped it before any content.
pub(crate) fn check_blocked(label: &str, response: &WireResponse) -> Result<(), ChatError> {
    if let Some(feedback) = &response.prompt_feedback {
        if let Some(reason) = feedback.block_reason.as_deref() {
            return Err(blocked_error(
                label,
                "the prompt",
                reason,
                feedback.block_reason_message.as_deref(),
                &feedback.safety_ratings,
            ));
        }
    }
    Ok(())
}

/// A whole answer as a response.
pub(crate) fn to_response(label: &str, response: WireResponse) -> Result<ChatResponse, ChatError> {
    check_blocked(label, &response)?;
    let candidate = response.candidates.into_iter().next().unwrap_or_default();
    let mut contents = Vec::new();
    for part in candidate.content.iter().flat_map(|content| &content.parts) {
        part_contents(part, &mut contents);
    }
    let called = contents.iter().any(|content| matches!(content, Content::FunctionCall(_)));
    let reason = candidate.finish_reason.as_deref().unwrap_or("STOP");
    let finish = finish_reason(reason, called);
    if finish == FinishReason::ContentFilter {
        if contents.is_empty() {
            return Err(blocked_error(
                label,
                "the answer",
                reason,
                candidate.finish_message.as_deref(),
                &candidate.safety_ratings,
            ));
        }
        tracing::warn!(provider = label, reason, "Gemini stopped the answer part way");
    }
    Ok(ChatResponse {
        messages: vec![Message::new(Role::Assistant, contents)],
        response_id: Some(response.response_id.filter(|id| !id.is_empty()).unwrap_or_else(fresh_response_id)),
        model: response.model_version,
        finish_reason: Some(finish),
        usage: response.usage_metadata.map(UsageMetadata::to_usage),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counts_thoughts_as_output_and_cached_tokens_apart() {
        let usage: UsageMetadata = serde_json::from_value(json!({
            "promptTokenCount": 100, "cachedContentTokenCount": 60, "candidatesTokenCount": 20,
            "toolUsePromptTokenCount": 5, "thoughtsTokenCount": 30, "totalTokenCount": 155,
        }))
        .unwrap();
        assert_eq!(
            usage.to_usage(),
            Usage {
                input_tokens: 105,
                output_tokens: 50,
                total_tokens: 155,
                cache_read_input_tokens: 60,
                cache_creation_input_tokens: 0,
            }
        );
        let huge = UsageMetadata {
            prompt_token_count: Some(u64::MAX),
            thoughts_token_count: Some(u64::MAX),
            candidates_token_count: Some(1),
            tool_use_prompt_token_count: Some(1),
            ..UsageMetadata::default()
        };
        assert_eq!(huge.to_usage().total_tokens, u64::MAX);
    }

    #[test]
    fn finish_reasons() {
        assert_eq!(finish_reason("STOP", false), FinishReason::Stop);
        assert_eq!(finish_reason("STOP", true), FinishReason::ToolCalls);
        assert_eq!(finish_reason("MAX_TOKENS", false), FinishReason::Length);
        for filtered in FILTERED {
            assert_eq!(finish_reason(filtered, false), FinishReason::ContentFilter, "{filtered}");
        }
        assert_eq!(
            finish_reason("MALFORMED_FUNCTION_CALL", false),
            FinishReason::Other("malformed_function_call".into())
        );
    }

    #[test]
    fn signatures_come_before_their_part_and_calls_get_ids() {
        let mut contents = Vec::new();
        for part in [
            json!({"text": "Thinking about it", "thought": true}),
            json!({"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "sig"}),
            json!({"functionCall": {"name": "g", "id": "call-7"}}),
            json!({"executableCode": {"language": "PYTHON", "code": "1+1"}}),
            json!({"inlineData": {"mimeType": "image/png", "data": "AAAA"}}),
            json!({"text": "", "thoughtSignature": "tail"}),
        ] {
            part_contents(&part, &mut contents);
        }
        assert_eq!(contents[0], Content::Reasoning { text: "Thinking about it".into(), signature: None });
        assert_eq!(contents[1], Content::Reasoning { text: String::new(), signature: Some("sig".into()) });
        let Content::FunctionCall(call) = &contents[2] else { panic!("{contents:?}") };
        assert!(is_generated_id(&call.call_id));
        assert_eq!((call.name.as_str(), &call.arguments), ("f", &json!({"a": 1})));
        assert_eq!(contents[3], Content::FunctionCall(FunctionCall::new("call-7", "g", json!({}))));
        assert_eq!(contents[4], Content::Data { media_type: "image/png".into(), base64: "AAAA".into() });
        assert_eq!(contents[5], Content::Reasoning { text: String::new(), signature: Some("tail".into()) });
        assert_eq!(contents.len(), 6);
    }
}
