//! OpenTelemetry GenAI semantic-convention names, and the spans Weft records.
//!
//! Weft records a span for each agent run (`invoke_agent {name}`, kind INTERNAL), each model
//! call (`chat {model}`, kind CLIENT) and each tool call (`execute_tool {name}`, kind INTERNAL)
//! with `tracing`, using these attribute names as field names, so any `tracing` subscriber (or
//! `tracing-opentelemetry`; `weft::telemetry::init` with the `otel` feature) exports them as
//! OpenTelemetry GenAI attributes. They follow the GenAI semantic conventions of OpenTelemetry
//! semantic conventions [`SEMCONV_VERSION`] (status: development). The names are our own
//! constants because the published semconv crate's GenAI names are deprecated and moving.
//!
//! When the current subscriber is served by a [`span_hook::SpanHook`] (weft-telemetry's export
//! layer installs one), these three spans are the hook's instead (OpenTelemetry spans built
//! directly, with the same names and attributes, string arrays as arrays), and the subscriber's
//! `tracing` layers do not see them.
//!
//! Token counts are integers; the agent span carries the sum over its model calls. Message
//! content (the messages sent and received, system instructions, tool arguments and results)
//! is recorded only when opted in: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` or
//! `ChatAgentBuilder::capture_message_content(true)`.

mod content;
pub mod metrics;
pub mod propagation;
mod span;
pub mod span_hook;
mod trace_source;

use crate::options::ChatOptions;

pub(crate) use content::{messages_json, output_messages_json, split_system};
pub(crate) use span::{GenAiSpan, InGenAiSpan};
use span_hook::{AttributeValue, SpanKind, SpanStart};
pub use trace_source::TraceSource;

/// The version of the OpenTelemetry semantic conventions whose GenAI names Weft follows.
pub const SEMCONV_VERSION: &str = "1.41.0";

/// The variable that opts in to message content: `true` records it.
pub const CAPTURE_MESSAGE_CONTENT_ENV: &str = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

/// `gen_ai.operation.name`: `chat`, `invoke_agent`, `execute_tool`.
pub const OPERATION_NAME: &str = "gen_ai.operation.name";
/// `gen_ai.provider.name`: `openai`, `azure.ai.openai`, …
pub const PROVIDER_NAME: &str = "gen_ai.provider.name";
/// `gen_ai.request.model`.
pub const REQUEST_MODEL: &str = "gen_ai.request.model";
/// `gen_ai.request.temperature`.
pub const REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
/// `gen_ai.request.top_p`.
pub const REQUEST_TOP_P: &str = "gen_ai.request.top_p";
/// `gen_ai.request.max_tokens`.
pub const REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
/// `gen_ai.request.seed`.
pub const REQUEST_SEED: &str = "gen_ai.request.seed";
/// `gen_ai.request.stop_sequences`: a string array (see [`STRING_ARRAY_ATTRIBUTES`]).
pub const REQUEST_STOP_SEQUENCES: &str = "gen_ai.request.stop_sequences";
/// `gen_ai.response.model`.
pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
/// `gen_ai.response.id`.
pub const RESPONSE_ID: &str = "gen_ai.response.id";
/// `gen_ai.response.finish_reasons`: a string array (see [`STRING_ARRAY_ATTRIBUTES`]).
pub const RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// `gen_ai.usage.input_tokens`.
pub const USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// `gen_ai.usage.output_tokens`.
pub const USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// `gen_ai.usage.cache_read.input_tokens`: input tokens read from the provider's prompt cache.
pub const USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
/// `gen_ai.agent.name`.
pub const AGENT_NAME: &str = "gen_ai.agent.name";
/// `gen_ai.agent.id`.
pub const AGENT_ID: &str = "gen_ai.agent.id";
/// `gen_ai.agent.description`.
pub const AGENT_DESCRIPTION: &str = "gen_ai.agent.description";
/// `gen_ai.conversation.id`.
pub const CONVERSATION_ID: &str = "gen_ai.conversation.id";
/// `gen_ai.tool.name`.
pub const TOOL_NAME: &str = "gen_ai.tool.name";
/// `gen_ai.tool.call.id`.
pub const TOOL_CALL_ID: &str = "gen_ai.tool.call.id";
/// `gen_ai.tool.type`: `function` for the tools Weft runs itself.
pub const TOOL_TYPE: &str = "gen_ai.tool.type";
/// `gen_ai.input.messages` (opt-in content): the messages sent to the model, as JSON.
pub const INPUT_MESSAGES: &str = "gen_ai.input.messages";
/// `gen_ai.output.messages` (opt-in content): the model's answer, as JSON.
pub const OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
/// `gen_ai.system_instructions` (opt-in content): the system instructions, as JSON.
pub const SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
/// `gen_ai.tool.call.arguments` (opt-in content): the tool call's arguments, as JSON.
pub const TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
/// `gen_ai.tool.call.result` (opt-in content): what the tool returned, as JSON.
pub const TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";
/// `weft.usage.cost` (Weft's own): what an agent run's model calls cost, priced by its budget's
/// price table (see [`crate::budget`]); recorded on the agent span when the model is priced.
pub const USAGE_COST: &str = "weft.usage.cost";
/// `weft.budget.exceeded` (Weft's own): the budget limit an agent run went over
/// (`input_tokens`, `output_tokens`, `cost`, `wall_time`, `tool_calls`).
pub const BUDGET_EXCEEDED: &str = "weft.budget.exceeded";
/// `error.type`.
pub const ERROR_TYPE: &str = "error.type";

/// The attributes whose semantic-convention type is a string array. A `tracing` field cannot
/// hold an array, so Weft records each of them as the JSON text of the array
/// (`gen_ai.response.finish_reasons = ["stop"]`, see [`string_array`]); weft-telemetry exports
/// these keys as OpenTelemetry string arrays.
pub const STRING_ARRAY_ATTRIBUTES: &[&str] = &[REQUEST_STOP_SEQUENCES, RESPONSE_FINISH_REASONS];

/// The value Weft records for a string-array attribute: the JSON text of `items`
/// (`["stop"]`).
pub fn string_array<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    // Straight to text (no `Value` tree): recorded on every model call with export on.
    serde_json::to_string(&items.into_iter().collect::<Vec<_>>()).unwrap_or_else(|_| "[]".to_string())
}

/// The operation names.
pub mod operation {
    /// A model call.
    pub const CHAT: &str = "chat";
    /// An agent run.
    pub const INVOKE_AGENT: &str = "invoke_agent";
    /// A tool call.
    pub const EXECUTE_TOOL: &str = "execute_tool";
}

/// Whether [`CAPTURE_MESSAGE_CONTENT_ENV`] is `true` (case-insensitive).
pub fn capture_message_content_from_env() -> bool {
    std::env::var(CAPTURE_MESSAGE_CONTENT_ENV).is_ok_and(|value| value.trim().eq_ignore_ascii_case("true"))
}

/// A token count as the integer attribute OpenTelemetry wants (`tracing-opentelemetry` turns
/// `u64` fields into strings; `i64` ones into integers).
pub(crate) fn token_count(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Records `usage` on `span` (an agent span), and what the run cost when it is priced: input
/// and output tokens, and cached input tokens when the provider reported some. One call into
/// the subscriber (or the hook's span) for all of them.
pub(crate) fn record_usage(span: &GenAiSpan, usage: &crate::Usage, cost: Option<f64>) {
    match span {
        GenAiSpan::Tracing(span) => tracing::record_all!(
            span,
            gen_ai.usage.input_tokens = token_count(usage.input_tokens),
            gen_ai.usage.output_tokens = token_count(usage.output_tokens),
            gen_ai.usage.cache_read.input_tokens = cached_tokens(usage),
            weft.usage.cost = cost,
        ),
        GenAiSpan::Hook(span) => span.set_attributes(&[
            (USAGE_INPUT_TOKENS, Some(AttributeValue::Int(token_count(usage.input_tokens)))),
            (USAGE_OUTPUT_TOKENS, Some(AttributeValue::Int(token_count(usage.output_tokens)))),
            (USAGE_CACHE_READ_INPUT_TOKENS, cached_tokens(usage).map(AttributeValue::Int)),
            (USAGE_COST, cost.map(AttributeValue::Float)),
        ]),
    }
}

/// The cached input tokens, when the provider reported some.
fn cached_tokens(usage: &crate::Usage) -> Option<i64> {
    (usage.cache_read_input_tokens > 0).then(|| token_count(usage.cache_read_input_tokens))
}

/// Records what a model call answered on its `chat` span (usage, finish reasons, response
/// model and id): one call into the subscriber (or the hook's span) for all of them.
pub(crate) fn record_chat_response(span: &GenAiSpan, chat: &crate::ChatResponse) {
    let usage = chat.usage.as_ref();
    let input_tokens = usage.map(|usage| token_count(usage.input_tokens));
    let output_tokens = usage.map(|usage| token_count(usage.output_tokens));
    let cached = usage.and_then(cached_tokens);
    match span {
        GenAiSpan::Tracing(span) => {
            if span.is_disabled() {
                return;
            }
            let finish_reasons = chat.finish_reason.as_ref().map(|reason| string_array([reason.as_str()]));
            tracing::record_all!(
                span,
                gen_ai.usage.input_tokens = input_tokens,
                gen_ai.usage.output_tokens = output_tokens,
                gen_ai.usage.cache_read.input_tokens = cached,
                gen_ai.response.finish_reasons = finish_reasons.as_deref(),
                gen_ai.response.model = chat.model.as_deref(),
                gen_ai.response.id = chat.response_id.as_deref(),
            );
        }
        GenAiSpan::Hook(span) => {
            let finish_reason = chat.finish_reason.as_ref().map(|reason| [reason.as_str()]);
            span.set_attributes(&[
                (USAGE_INPUT_TOKENS, input_tokens.map(AttributeValue::Int)),
                (USAGE_OUTPUT_TOKENS, output_tokens.map(AttributeValue::Int)),
                (USAGE_CACHE_READ_INPUT_TOKENS, cached.map(AttributeValue::Int)),
                (
                    RESPONSE_FINISH_REASONS,
                    finish_reason.as_ref().map(|reasons| AttributeValue::Strings(reasons)),
                ),
                (RESPONSE_MODEL, chat.model.as_deref().map(AttributeValue::Str)),
                (RESPONSE_ID, chat.response_id.as_deref().map(AttributeValue::Str)),
            ]);
        }
    }
}

/// Records a model call's duration and token counts (`gen_ai.client.operation.duration`,
/// `gen_ai.client.token.usage`).
pub(crate) fn record_chat_metrics(
    provider: &str,
    model: &str,
    elapsed: std::time::Duration,
    result: &Result<crate::ChatResponse, crate::ChatError>,
) {
    let error = result.as_ref().err().map(|error| format!("{:?}", error.kind()));
    let response_model = result.as_ref().ok().and_then(|chat| chat.model.as_deref());
    let mut attributes =
        vec![(OPERATION_NAME, operation::CHAT), (PROVIDER_NAME, provider), (REQUEST_MODEL, model)];
    if let Some(response_model) = response_model {
        attributes.push((RESPONSE_MODEL, response_model));
    }
    if let Some(error) = &error {
        attributes.push((ERROR_TYPE, error.as_str()));
    }
    metrics::record_duration(&metrics::OPERATION_DURATION, elapsed, &attributes);
    if let Ok(crate::ChatResponse { usage: Some(usage), .. }) = result {
        for (kind, count) in [("input", usage.input_tokens), ("output", usage.output_tokens)] {
            attributes.push((metrics::TOKEN_TYPE, kind));
            metrics::record(&metrics::TOKEN_USAGE, count as f64, &attributes);
            attributes.pop();
        }
    }
}

/// Records a tool call's duration (`gen_ai.client.operation.duration`, operation
/// `execute_tool`, with the tool's name).
pub(crate) fn record_tool_metrics(tool: &str, elapsed: std::time::Duration, error: Option<&str>) {
    let mut attributes = vec![(OPERATION_NAME, operation::EXECUTE_TOOL), (TOOL_NAME, tool)];
    if let Some(error) = error {
        attributes.push((ERROR_TYPE, error));
    }
    metrics::record_duration(&metrics::OPERATION_DURATION, elapsed, &attributes);
}

/// Marks `span` failed with a low-cardinality `error.type` (the `Debug` text of `error_type`).
pub(crate) fn record_error(span: &GenAiSpan, error_type: &dyn std::fmt::Debug) {
    match span {
        GenAiSpan::Tracing(span) => {
            span.record(ERROR_TYPE, tracing::field::debug(error_type));
            span.record("otel.status_code", "error");
        }
        GenAiSpan::Hook(span) => span.set_error(&format!("{error_type:?}")),
    }
}

/// A span for one model call, with the request's sampling parameters. Fields filled in later:
/// response model and id, usage, finish reasons, content.
pub(crate) fn chat_span(provider: &str, model: &str, options: &ChatOptions) -> GenAiSpan {
    let temperature = options.temperature.map(|value| AttributeValue::Float(f64::from(value)));
    let top_p = options.top_p.map(|value| AttributeValue::Float(f64::from(value)));
    let max_tokens = options.max_tokens.map(|value| AttributeValue::Int(i64::from(value)));
    let seed = options.seed.map(AttributeValue::Int);
    let stop: Vec<&str> = options.stop.iter().map(String::as_str).collect();
    let hooked = span_hook::start(&SpanStart {
        operation: operation::CHAT,
        subject: model,
        kind: SpanKind::Client,
        attributes: &[
            (OPERATION_NAME, Some(AttributeValue::Static(operation::CHAT))),
            (PROVIDER_NAME, Some(AttributeValue::Str(provider))),
            (REQUEST_MODEL, Some(AttributeValue::Str(model))),
            (REQUEST_TEMPERATURE, temperature),
            (REQUEST_TOP_P, top_p),
            (REQUEST_MAX_TOKENS, max_tokens),
            (REQUEST_SEED, seed),
            (REQUEST_STOP_SEQUENCES, (!stop.is_empty()).then_some(AttributeValue::Strings(&stop))),
        ],
    });
    if let Some(span) = hooked {
        return GenAiSpan::Hook(span);
    }
    let span = tracing::info_span!(
        "chat",
        otel.name = %format_args!("chat {model}"),
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        gen_ai.operation.name = operation::CHAT,
        gen_ai.provider.name = provider,
        gen_ai.request.model = model,
        gen_ai.request.temperature = tracing::field::Empty,
        gen_ai.request.top_p = tracing::field::Empty,
        gen_ai.request.max_tokens = tracing::field::Empty,
        gen_ai.request.seed = tracing::field::Empty,
        gen_ai.request.stop_sequences = tracing::field::Empty,
        gen_ai.response.model = tracing::field::Empty,
        gen_ai.response.id = tracing::field::Empty,
        gen_ai.response.finish_reasons = tracing::field::Empty,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        gen_ai.usage.cache_read.input_tokens = tracing::field::Empty,
        gen_ai.input.messages = tracing::field::Empty,
        gen_ai.output.messages = tracing::field::Empty,
        gen_ai.system_instructions = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    if let Some(temperature) = options.temperature {
        span.record(REQUEST_TEMPERATURE, f64::from(temperature));
    }
    if let Some(top_p) = options.top_p {
        span.record(REQUEST_TOP_P, f64::from(top_p));
    }
    if let Some(max_tokens) = options.max_tokens {
        span.record(REQUEST_MAX_TOKENS, i64::from(max_tokens));
    }
    if let Some(seed) = options.seed {
        span.record(REQUEST_SEED, seed);
    }
    if !stop.is_empty() {
        span.record(REQUEST_STOP_SEQUENCES, string_array(stop));
    }
    GenAiSpan::Tracing(span)
}

/// A span for one agent run.
pub(crate) fn agent_span(
    agent: &str,
    id: Option<&str>,
    description: Option<&str>,
    conversation: &str,
    provider: &str,
    model: &str,
) -> GenAiSpan {
    let hooked = span_hook::start(&SpanStart {
        operation: operation::INVOKE_AGENT,
        subject: agent,
        kind: SpanKind::Internal,
        attributes: &[
            (OPERATION_NAME, Some(AttributeValue::Static(operation::INVOKE_AGENT))),
            (AGENT_NAME, Some(AttributeValue::Str(agent))),
            (AGENT_ID, id.map(AttributeValue::Str)),
            (AGENT_DESCRIPTION, description.map(AttributeValue::Str)),
            (CONVERSATION_ID, Some(AttributeValue::Str(conversation))),
            (PROVIDER_NAME, Some(AttributeValue::Str(provider))),
            (REQUEST_MODEL, Some(AttributeValue::Str(model))),
        ],
    });
    if let Some(span) = hooked {
        return GenAiSpan::Hook(span);
    }
    GenAiSpan::Tracing(tracing::info_span!(
        "invoke_agent",
        otel.name = %format_args!("invoke_agent {agent}"),
        otel.kind = "internal",
        otel.status_code = tracing::field::Empty,
        gen_ai.operation.name = operation::INVOKE_AGENT,
        gen_ai.agent.name = agent,
        gen_ai.agent.id = id,
        gen_ai.agent.description = description,
        gen_ai.conversation.id = conversation,
        gen_ai.provider.name = provider,
        gen_ai.request.model = model,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        gen_ai.usage.cache_read.input_tokens = tracing::field::Empty,
        weft.usage.cost = tracing::field::Empty,
        weft.budget.exceeded = tracing::field::Empty,
        error.type = tracing::field::Empty,
    ))
}

/// A span for one tool call.
pub(crate) fn tool_span(tool: &str, call_id: &str) -> GenAiSpan {
    let hooked = span_hook::start(&SpanStart {
        operation: operation::EXECUTE_TOOL,
        subject: tool,
        kind: SpanKind::Internal,
        attributes: &[
            (OPERATION_NAME, Some(AttributeValue::Static(operation::EXECUTE_TOOL))),
            (TOOL_NAME, Some(AttributeValue::Str(tool))),
            (TOOL_CALL_ID, Some(AttributeValue::Str(call_id))),
            (TOOL_TYPE, Some(AttributeValue::Static("function"))),
        ],
    });
    if let Some(span) = hooked {
        return GenAiSpan::Hook(span);
    }
    GenAiSpan::Tracing(tracing::info_span!(
        "execute_tool",
        otel.name = %format_args!("execute_tool {tool}"),
        otel.kind = "internal",
        otel.status_code = tracing::field::Empty,
        gen_ai.operation.name = operation::EXECUTE_TOOL,
        gen_ai.tool.name = tool,
        gen_ai.tool.call.id = call_id,
        gen_ai.tool.type = "function",
        gen_ai.tool.call.arguments = tracing::field::Empty,
        gen_ai.tool.call.result = tracing::field::Empty,
        error.type = tracing::field::Empty,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_counts_are_integers_and_saturate() {
        assert_eq!(token_count(42), 42);
        assert_eq!(token_count(u64::MAX), i64::MAX);
    }

    #[test]
    fn string_arrays_are_json_arrays_of_strings() {
        assert_eq!(string_array(["stop"]), r#"["stop"]"#);
        assert_eq!(string_array(["tool_calls", "a \"quoted\" one"]), r#"["tool_calls","a \"quoted\" one"]"#);
        assert_eq!(string_array([]), "[]");
    }
}
