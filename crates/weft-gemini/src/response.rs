//! A `GenerateContentResponse` (a whole answer, or one chunk of a stream) as Weft contents,
//! usage and finish reason.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
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

/// `GenerateContentResponse`: the whole answer, or one chunk of a stream. Decoded straight from
/// the bytes, borrowing what Weft only reads (ids, reasons, ratings): a stream decodes one per
/// chunk, so nothing is built that the chunk does not need.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireResponse<'a> {
    #[serde(default, borrow)]
    pub(crate) candidates: FirstCandidate<'a>,
    #[serde(default, borrow)]
    pub(crate) prompt_feedback: Option<PromptFeedback<'a>>,
    #[serde(default)]
    pub(crate) usage_metadata: Option<UsageMetadata>,
    #[serde(default, borrow)]
    pub(crate) model_version: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) response_id: Option<Cow<'a, str>>,
    /// Google's error object, when an error comes inside a 200 answer (a stream's event).
    #[serde(default)]
    pub(crate) error: Option<Value>,
}

/// `candidates`: the first one (Weft asks for one); any others are skipped unbuilt.
#[derive(Debug, Default)]
pub(crate) struct FirstCandidate<'a>(pub(crate) Option<Candidate<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for FirstCandidate<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct First<'a>(PhantomData<Candidate<'a>>);
        impl<'de: 'a, 'a> Visitor<'de> for First<'a> {
            type Value = FirstCandidate<'a>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a list of candidates")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let first = seq.next_element()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FirstCandidate(first))
            }
        }
        deserializer.deserialize_seq(First(PhantomData))
    }
}

/// One candidate answer (Weft asks for one).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Candidate<'a> {
    #[serde(default)]
    pub(crate) content: Option<WireContent>,
    #[serde(default, borrow)]
    pub(crate) finish_reason: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) finish_message: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) safety_ratings: Vec<SafetyRating<'a>>,
}

/// A candidate's content: its parts.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireContent {
    #[serde(default)]
    pub(crate) parts: PartContents,
}

/// A candidate's parts as Weft contents ([`part_contents`]), each part converted as it is
/// decoded: no list of parts in between.
#[derive(Debug, Default)]
pub(crate) struct PartContents(pub(crate) Vec<Content>);

impl<'de> Deserialize<'de> for PartContents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Parts;
        impl<'de> Visitor<'de> for Parts {
            type Value = PartContents;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a list of parts")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut contents = Vec::new();
                while let Some(part) = seq.next_element::<WirePart>()? {
                    part_contents(part, &mut contents);
                }
                Ok(PartContents(contents))
            }
        }
        deserializer.deserialize_seq(Parts)
    }
}

/// One part of a candidate's content, the fields Weft uses: the strings it keeps are decoded
/// into the strings it keeps (no `serde_json::Value` in between), the fields it has no use for
/// (`executableCode`, `codeExecutionResult`, `videoMetadata` …) are skipped unbuilt.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WirePart {
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) thought: Option<bool>,
    #[serde(default)]
    pub(crate) thought_signature: Option<String>,
    #[serde(default)]
    pub(crate) function_call: Option<WireFunctionCall>,
    #[serde(default)]
    pub(crate) inline_data: Option<WireInlineData>,
}

/// A part's `functionCall`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireFunctionCall {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) id: Option<String>,
    /// The arguments object (`null` or absent: none).
    #[serde(default)]
    pub(crate) args: Option<Value>,
}

/// A part's `inlineData`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireInlineData {
    #[serde(default)]
    pub(crate) mime_type: Option<String>,
    #[serde(default)]
    pub(crate) data: Option<String>,
}

/// Why the prompt itself was blocked.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PromptFeedback<'a> {
    #[serde(default, borrow)]
    pub(crate) block_reason: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) block_reason_message: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) safety_ratings: Vec<SafetyRating<'a>>,
}

/// One harm category's rating.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SafetyRating<'a> {
    #[serde(default, borrow)]
    pub(crate) category: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) probability: Option<Cow<'a, str>>,
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
pub(crate) fn part_contents(part: WirePart, out: &mut Vec<Content>) {
    let signature = part.thought_signature.filter(|s| !s.is_empty());
    if let Some(text) = part.text {
        if part.thought == Some(true) {
            out.push(Content::Reasoning { text, signature });
            return;
        }
        if let Some(signature) = signature {
            out.push(Content::Reasoning { text: String::new(), signature: Some(signature) });
        }
        if !text.is_empty() {
            out.push(Content::text(text));
        }
        return;
    }
    if let Some(signature) = signature {
        out.push(Content::Reasoning { text: String::new(), signature: Some(signature) });
    }
    if let Some(call) = part.function_call {
        let args = call.args.filter(|args| !args.is_null()).unwrap_or_else(|| json!({}));
        let id = call.id.filter(|id| !id.is_empty()).unwrap_or_else(generated_id);
        out.push(Content::FunctionCall(FunctionCall::new(id, call.name.unwrap_or_default(), args)));
    } else if let Some(data) = part.inline_data {
        out.push(Content::Data {
            media_type: data.mime_type.unwrap_or_default(),
            base64: data.data.unwrap_or_default(),
        });
    } else {
        tracing::debug!("ignoring a part Weft does not use");
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
    ratings: &[SafetyRating<'_>],
) -> ChatError {
    let mut categories: Vec<String> = ratings
        .iter()
        .filter(|rating| rating.blocked)
        .filter_map(|rating| rating.category.as_deref().map(str::to_string))
        .collect();
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
pub(crate) fn check_blocked(label: &str, response: &WireResponse<'_>) -> Result<(), ChatError> {
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
pub(crate) fn to_response(label: &str, response: WireResponse<'_>) -> Result<ChatResponse, ChatError> {
    check_blocked(label, &response)?;
    let candidate = response.candidates.0.unwrap_or_default();
    let contents = candidate.content.map(|content| content.parts.0).unwrap_or_default();
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
        response_id: Some(
            response.response_id.filter(|id| !id.is_empty()).map_or_else(fresh_response_id, Cow::into_owned),
        ),
        model: response.model_version.map(Cow::into_owned),
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
            part_contents(serde_json::from_value(part).unwrap(), &mut contents);
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
