//! OpenTelemetry GenAI semantic-convention names, and the spans Weft records.
//!
//! Weft records a span for each agent run (`invoke_agent {name}`), each model call
//! (`chat {model}`) and each tool call (`execute_tool {name}`) with `tracing`, using these
//! attribute names as field names, so any `tracing` subscriber (or `tracing-opentelemetry`)
//! exports them as OpenTelemetry GenAI attributes. The names are our own constants because the
//! published semconv crate's GenAI names are deprecated and moving.

/// `gen_ai.operation.name`: `chat`, `invoke_agent`, `execute_tool`.
pub const OPERATION_NAME: &str = "gen_ai.operation.name";
/// `gen_ai.provider.name`: `openai`, `azure.ai.openai`, …
pub const PROVIDER_NAME: &str = "gen_ai.provider.name";
/// `gen_ai.request.model`.
pub const REQUEST_MODEL: &str = "gen_ai.request.model";
/// `gen_ai.response.model`.
pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
/// `gen_ai.response.id`.
pub const RESPONSE_ID: &str = "gen_ai.response.id";
/// `gen_ai.response.finish_reasons`.
pub const RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// `gen_ai.usage.input_tokens`.
pub const USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// `gen_ai.usage.output_tokens`.
pub const USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// `gen_ai.agent.name`.
pub const AGENT_NAME: &str = "gen_ai.agent.name";
/// `gen_ai.agent.id`.
pub const AGENT_ID: &str = "gen_ai.agent.id";
/// `gen_ai.conversation.id`.
pub const CONVERSATION_ID: &str = "gen_ai.conversation.id";
/// `gen_ai.tool.name`.
pub const TOOL_NAME: &str = "gen_ai.tool.name";
/// `gen_ai.tool.call.id`.
pub const TOOL_CALL_ID: &str = "gen_ai.tool.call.id";
/// `error.type`.
pub const ERROR_TYPE: &str = "error.type";

/// The operation names.
pub mod operation {
    /// A model call.
    pub const CHAT: &str = "chat";
    /// An agent run.
    pub const INVOKE_AGENT: &str = "invoke_agent";
    /// A tool call.
    pub const EXECUTE_TOOL: &str = "execute_tool";
}

/// A span for one model call. Fields filled in later: response model, usage, finish reasons.
pub(crate) fn chat_span(provider: &str, model: &str) -> tracing::Span {
    tracing::info_span!(
        "chat",
        otel.name = %format_args!("chat {model}"),
        otel.kind = "client",
        gen_ai.operation.name = operation::CHAT,
        gen_ai.provider.name = provider,
        gen_ai.request.model = model,
        gen_ai.response.model = tracing::field::Empty,
        gen_ai.response.id = tracing::field::Empty,
        gen_ai.response.finish_reasons = tracing::field::Empty,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        error.type = tracing::field::Empty,
    )
}

/// A span for one agent run.
pub(crate) fn agent_span(agent: &str, conversation: &str, provider: &str, model: &str) -> tracing::Span {
    tracing::info_span!(
        "invoke_agent",
        otel.name = %format_args!("invoke_agent {agent}"),
        gen_ai.operation.name = operation::INVOKE_AGENT,
        gen_ai.agent.name = agent,
        gen_ai.conversation.id = conversation,
        gen_ai.provider.name = provider,
        gen_ai.request.model = model,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        error.type = tracing::field::Empty,
    )
}

/// A span for one tool call.
pub(crate) fn tool_span(tool: &str, call_id: &str) -> tracing::Span {
    tracing::info_span!(
        "execute_tool",
        otel.name = %format_args!("execute_tool {tool}"),
        gen_ai.operation.name = operation::EXECUTE_TOOL,
        gen_ai.tool.name = tool,
        gen_ai.tool.call.id = call_id,
        error.type = tracing::field::Empty,
    )
}
