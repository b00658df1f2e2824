//! MCP client spans, following the OpenTelemetry MCP semantic conventions (status:
//! development): one span of kind CLIENT per request, named `{mcp.method.name} {target}`
//! (`tools/call get_weather`, `prompts/get review`) or `{mcp.method.name}` without a target,
//! with `mcp.method.name`, `mcp.session.id` (Streamable HTTP), `mcp.protocol.version`,
//! `gen_ai.tool.name` / `gen_ai.prompt.name`, `gen_ai.operation.name` (`execute_tool` for
//! `tools/call`), `mcp.resource.uri`, `network.transport` (`pipe` on stdio, `tcp` over HTTP),
//! `network.protocol.name` (`http`), `server.address`/`server.port` (HTTP), and `error.type` when
//! the request failed (`tool_error` for a tool result with `isError`).
//!
//! The span's W3C trace context travels in the request's `params._meta` (`traceparent`,
//! `tracestate`) when export is set up, so the server's spans join the caller's trace.
//! `jsonrpc.request.id` is not recorded: rmcp assigns it inside its high-level calls.

use rmcp::model::RequestMetaObject;
use rmcp::service::{Peer, RoleClient};

use crate::config::ServerConfig;

/// `mcp.method.name`.
pub const METHOD_NAME: &str = "mcp.method.name";
/// `mcp.session.id`.
pub const SESSION_ID: &str = "mcp.session.id";
/// `mcp.protocol.version`.
pub const PROTOCOL_VERSION: &str = "mcp.protocol.version";
/// `mcp.resource.uri`.
pub const RESOURCE_URI: &str = "mcp.resource.uri";
/// `network.transport`.
pub const NETWORK_TRANSPORT: &str = "network.transport";

/// What a request is, for its span.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Call<'a> {
    /// `tools/call` of this tool.
    Tool(&'a str),
    /// `prompts/get` of this prompt.
    Prompt(&'a str),
    /// `resources/read` of this URI.
    Resource(&'a str),
    /// Another method (`tools/list`, `ping`, …), without a target.
    Method(&'static str),
}

impl Call<'_> {
    fn method(self) -> &'static str {
        match self {
            Call::Tool(_) => "tools/call",
            Call::Prompt(_) => "prompts/get",
            Call::Resource(_) => "resources/read",
            Call::Method(method) => method,
        }
    }
}

/// The span of one request to `server`, parented on the current span.
pub(crate) fn client_span(call: Call<'_>, server: &ServerConfig) -> tracing::Span {
    let method = call.method();
    let target = match call {
        Call::Tool(name) | Call::Prompt(name) => Some(name),
        Call::Resource(_) | Call::Method(_) => None,
    };
    let (transport, protocol, address, port) = match server {
        ServerConfig::Stdio(_) => ("pipe", None, None, None),
        ServerConfig::Http(http) => {
            let url = reqwest::Url::parse(&http.url).ok();
            let host = url.as_ref().and_then(|url| url.host_str().map(str::to_string));
            let port = url.as_ref().and_then(reqwest::Url::port_or_known_default).map(i64::from);
            ("tcp", Some("http"), host, port)
        }
    };
    let span = tracing::info_span!(
        "mcp",
        otel.name = %match target {
            Some(target) => format!("{method} {target}"),
            None => method.to_string(),
        },
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        mcp.method.name = method,
        mcp.session.id = tracing::field::Empty,
        mcp.protocol.version = tracing::field::Empty,
        mcp.resource.uri = tracing::field::Empty,
        gen_ai.operation.name = tracing::field::Empty,
        gen_ai.tool.name = tracing::field::Empty,
        gen_ai.prompt.name = tracing::field::Empty,
        network.transport = transport,
        network.protocol.name = protocol,
        server.address = address,
        server.port = port,
        error.type = tracing::field::Empty,
    );
    match call {
        Call::Tool(name) => {
            span.record("gen_ai.operation.name", "execute_tool");
            span.record("gen_ai.tool.name", name);
        }
        Call::Prompt(name) => {
            span.record("gen_ai.prompt.name", name);
        }
        Call::Resource(uri) => {
            span.record(RESOURCE_URI, uri);
        }
        Call::Method(_) => {}
    }
    span
}

/// Records what the connection knows: its session id and the negotiated protocol version.
pub(crate) fn record_session(span: &tracing::Span, session_id: Option<&str>, peer: &Peer<RoleClient>) {
    if span.is_disabled() {
        return;
    }
    if let Some(id) = session_id {
        span.record(SESSION_ID, id);
    }
    if let Some(info) = peer.peer_info() {
        span.record(PROTOCOL_VERSION, info.protocol_version.to_string());
    }
}

/// The `_meta` carrying `span`'s trace context; `None` without export.
pub(crate) fn request_meta(span: &tracing::Span) -> Option<RequestMetaObject> {
    let fields = weft_core::telemetry::propagation::trace_fields(span);
    if fields.is_empty() {
        return None;
    }
    let mut meta = RequestMetaObject::new();
    for (name, value) in fields {
        meta.0.0.insert(name, serde_json::Value::String(value));
    }
    Some(meta)
}

/// Records the request's duration (`mcp.client.operation.duration`).
pub(crate) fn record_duration(
    call: Call<'_>,
    server: &ServerConfig,
    elapsed: std::time::Duration,
    error: Option<&'static str>,
) {
    use weft_core::telemetry::metrics;
    if !metrics::enabled() {
        return;
    }
    let transport = match server {
        ServerConfig::Stdio(_) => "pipe",
        ServerConfig::Http(_) => "tcp",
    };
    let mut attributes = vec![(METHOD_NAME, call.method()), (NETWORK_TRANSPORT, transport)];
    if let Call::Tool(name) = call {
        attributes.push(("gen_ai.tool.name", name));
    }
    if let Call::Prompt(name) = call {
        attributes.push(("gen_ai.prompt.name", name));
    }
    if let Some(error) = error {
        attributes.push(("error.type", error));
    }
    metrics::record_duration(&metrics::MCP_CLIENT_OPERATION_DURATION, elapsed, &attributes);
}

/// Marks `span` failed with a low-cardinality `error.type`.
pub(crate) fn record_error(span: &tracing::Span, error_type: &str) {
    span.record("error.type", error_type);
    span.record("otel.status_code", "error");
}

/// The `error.type` of a failed request.
pub(crate) fn error_type(kind: crate::error::McpErrorKind) -> &'static str {
    use crate::error::McpErrorKind;
    match kind {
        McpErrorKind::Unreachable(_) => "unreachable",
        McpErrorKind::Timeout => "timeout",
        McpErrorKind::Closed => "closed",
        McpErrorKind::ConnectionLost => "connection_lost",
        McpErrorKind::Protocol => "protocol_error",
        McpErrorKind::Server => "jsonrpc_error",
        McpErrorKind::ToolFailed => "tool_error",
        McpErrorKind::Configuration => "configuration",
        McpErrorKind::MessageTooLarge { .. } => "message_too_large",
    }
}
