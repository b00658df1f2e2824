//! From the file's shape ([`AgentSpec`]) to Weft values: the provider, options, tools and
//! structured output of a [`ChatAgent`].

use std::sync::Arc;

use serde_json::Value;
use weft_core::agent::ChatAgentBuilder;
use weft_core::schema::{ArgumentValidator, strict_schema};
use weft_core::{
    ChatAgent, ChatClient, ChatOptions, ResponseFormat, ScriptedClient, ToolChoice, ToolDefinition,
};

use crate::bindings::{Bindings, BoundTool};
use crate::env::Checker;
use crate::schema::{bad_kinds, object_schema};
use crate::spec::{AgentSpec, ConnectionSpec, ModelSpec, OptionsSpec, SchemaSpec, Text, ToolSpec};

/// The providers a file may name (`provider` or `provider.apiType`).
pub const PROVIDERS: [&str; 13] = [
    "OpenAI",
    "OpenAI.Chat",
    "OpenAI.Responses",
    "AzureOpenAI",
    "AzureOpenAI.Chat",
    "AzureOpenAI.Responses",
    "OpenAICompatible",
    "OpenAICompatible.Chat",
    "OpenAICompatible.Responses",
    "Anthropic",
    "Anthropic.Messages",
    "anthropic",
    "scripted",
];

/// Deadlines the caller sets (e.g. `weft run --timeout`); `None` keeps the libraries' defaults.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The wait for the model to start answering (and the request timeout, when longer than
    /// the provider's default).
    pub model_first_byte_timeout: Option<std::time::Duration>,
    /// The longest silence in the model's streamed answer.
    pub model_idle_timeout: Option<std::time::Duration>,
    /// The MCP servers' connect and request timeout.
    pub mcp_timeout: Option<std::time::Duration>,
}

/// Tool kinds the model provider hosts; Weft runs none of them locally.
const HOSTED: [&str; 5] = ["web_search", "file_search", "code_interpreter", "openapi", "custom"];

/// An MCP server to connect, and where its tool is in the file.
#[derive(Debug)]
pub struct McpPlan {
    /// The tool's label (its `name`).
    pub name: String,
    /// Where the tool is (for connection errors).
    pub at: Text,
    /// `url` or `command` (with `args`).
    pub server: McpServer,
    /// `allowedTools`.
    pub allowed_tools: Vec<String>,
    /// `approvalMode`: every tool's default, and per-tool exceptions.
    pub approval: McpApproval,
}

/// Where an MCP server is.
#[derive(Debug)]
pub enum McpServer {
    /// Streamable HTTP.
    Http {
        /// The URL.
        url: String,
        /// Headers (values resolved; may be secrets: never print them).
        headers: Vec<(String, String)>,
    },
    /// A child process on stdio.
    Stdio {
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// Its extra environment.
        env: Vec<(String, String)>,
    },
}

/// `approvalMode` of an MCP tool.
#[derive(Debug, Default)]
pub struct McpApproval {
    /// Whether calls need approval by default.
    pub always: bool,
    /// Tools that always need approval.
    pub always_tools: Vec<String>,
    /// Tools that never need approval.
    pub never_tools: Vec<String>,
}

/// A checked agent file: everything but the MCP connections.
pub struct Plan {
    /// The file the agent came from.
    pub file: std::path::PathBuf,
    /// The agent, without its MCP tools.
    pub builder: ChatAgentBuilder,
    /// The MCP servers to connect.
    pub mcp: Vec<McpPlan>,
    /// The agent's chat options (as given to the builder).
    pub options: ChatOptions,
    /// The caller's deadlines.
    pub load_options: LoadOptions,
    /// `inputSchema` as JSON Schema.
    pub input_schema: Option<Value>,
    /// A description of the model (provider and id), for the user; no secrets.
    pub model_description: String,
    /// The agent's `name`, if it has one.
    pub name: Option<String>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan").field("mcp", &self.mcp).field("model", &self.model_description).finish()
    }
}

/// Checks the spec and builds everything that needs no connection. Every problem found is
/// reported, not only the first.
pub(crate) fn plan(
    spec: &AgentSpec,
    checker: &mut Checker<'_>,
    bindings: &Bindings,
    load_options: &LoadOptions,
) -> Option<Plan> {
    if !matches!(spec.kind.value.as_str(), "Prompt" | "Agent") {
        let message = format!("unknown agent kind `{}`: expected `Prompt` or `Agent`", spec.kind.value);
        checker.at(&spec.kind, message);
    }
    let model = spec.model.as_ref();
    let (client, model_id, model_description) = client(model, checker, bindings, load_options)?.into_parts();
    let mut builder = ChatAgent::builder(client);
    if let Some(name) = &spec.name {
        builder = builder.name(name.value.clone());
    }
    if let Some(description) = checker.resolve_opt(spec.description.as_ref()) {
        builder = builder.description(description);
    }
    let instructions: Vec<String> = [spec.instructions.as_ref(), spec.additional_instructions.as_ref()]
        .into_iter()
        .filter_map(|text| checker.resolve_opt(text))
        .collect();
    if !instructions.is_empty() {
        builder = builder.instructions(instructions.join("\n\n"));
    }
    let mut options = options(model.and_then(|m| m.options.as_ref()), checker, &spec.kind);
    options.model = model_id;
    if let Some(output) = &spec.output_schema {
        check_kinds(output, checker, &spec.kind, "outputSchema");
        let name = spec.name.as_ref().map(|n| schema_name(&n.value)).unwrap_or_else(|| "output".into());
        options.response_format = Some(ResponseFormat::JsonSchema {
            name,
            schema: strict_schema(&object_schema(output)),
            strict: true,
        });
    }
    builder = builder.options(options.clone());
    let input_schema = spec.input_schema.as_ref().map(|input| {
        check_kinds(input, checker, &spec.kind, "inputSchema");
        object_schema(input)
    });
    let provider = model.and_then(|m| m.provider.as_ref()).map(|p| p.value.as_str()).unwrap_or("OpenAI.Chat");
    let mut mcp = Vec::new();
    for tool in &spec.tools {
        check_fields(tool, checker);
        match tool.kind.value.as_str() {
            "function" => {
                if let Some(bound) = function_tool(tool, checker, bindings) {
                    builder = builder.tool(bound);
                }
            }
            "mcp" => mcp.extend(mcp_tool(tool, checker)),
            hosted if HOSTED.contains(&hosted) => {
                let name = tool.name.as_ref().map(|n| n.value.as_str()).unwrap_or(hosted);
                checker.at(
                    &tool.kind,
                    format!(
                        "tool `{name}` is a hosted `{hosted}` tool, which provider `{provider}` cannot run in Weft; \
                         remove it or use a `function` or `mcp` tool"
                    ),
                );
            }
            other => {
                let hint = closest(other, ["function", "mcp"].into_iter().chain(HOSTED));
                checker.at(&tool.kind, format!("unknown tool kind `{other}`{hint}"));
            }
        }
    }
    Some(Plan {
        file: checker.file.to_path_buf(),
        builder,
        mcp,
        options,
        load_options: load_options.clone(),
        input_schema,
        model_description,
        name: spec.name.as_ref().map(|n| n.value.clone()),
    })
}

/// Fields given to a tool kind that does not take them.
fn check_fields(tool: &ToolSpec, checker: &mut Checker<'_>) {
    let kind = tool.kind.value.as_str();
    let mcp_only = [
        ("url", tool.url.is_some()),
        ("command", tool.command.is_some()),
        ("args", !tool.args.is_empty()),
        ("env", !tool.env.is_empty()),
        ("headers", !tool.headers.is_empty()),
        ("allowedTools", !tool.allowed_tools.is_empty()),
        ("approvalMode", tool.approval_mode.is_some()),
    ];
    let function_only = [("bindings", tool.bindings.is_some()), ("parameters", tool.parameters.is_some())];
    let misplaced: Vec<&str> = match kind {
        "function" => mcp_only.iter().filter(|(_, given)| *given).map(|(name, _)| *name).collect(),
        "mcp" => function_only.iter().filter(|(_, given)| *given).map(|(name, _)| *name).collect(),
        _ => Vec::new(),
    };
    for field in misplaced {
        checker.at(&tool.kind, format!("`{field}` does not apply to a `{kind}` tool"));
    }
}

fn check_kinds(schema: &SchemaSpec, checker: &mut Checker<'_>, at: &Text, field: &str) {
    for (property, kind) in bad_kinds(&schema.properties) {
        checker.at(
            at,
            format!(
                "{field}: property `{property}` has unknown kind `{kind}`: expected one of {}",
                crate::schema::KINDS.join(", ")
            ),
        );
    }
}

/// A schema name: letters, digits, `_` and `-`.
fn schema_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

/// ` (did you mean `x`?)` for the closest candidate, or nothing.
pub(crate) fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(score, _)| *score > 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

struct Client {
    client: Arc<dyn ChatClient>,
    model: Option<String>,
    description: String,
}

impl Client {
    fn into_parts(self) -> (Arc<dyn ChatClient>, Option<String>, String) {
        (self.client, self.model, self.description)
    }
}

/// The chat client of `model:`. Without a provider: `OpenAI.Chat`.
fn client(
    model: Option<&ModelSpec>,
    checker: &mut Checker<'_>,
    bindings: &Bindings,
    load_options: &LoadOptions,
) -> Option<Client> {
    let provider = model.and_then(|m| m.provider.as_ref());
    let api_type = model.and_then(|m| m.api_type.as_ref());
    let key = match (provider, api_type) {
        (Some(p), Some(a)) => format!("{}.{}", p.value, a.value),
        (Some(p), None) => p.value.clone(),
        (None, Some(a)) => format!("OpenAI.{}", a.value),
        (None, None) => "OpenAI.Chat".into(),
    };
    let at = provider.or(api_type);
    if !PROVIDERS.contains(&key.as_str()) {
        let hint = closest(&key, PROVIDERS);
        let message = format!("unknown provider `{key}`{hint}; Weft knows {}", PROVIDERS.join(", "));
        match at {
            Some(at) => checker.at(at, message),
            None => unreachable_default(checker, message),
        }
        return None;
    }
    let id = model.and_then(|m| checker.resolve_opt(m.id.as_ref()));
    if key == "scripted" {
        return Some(Client {
            client: Arc::new(ScriptedClient::new()),
            model: id,
            description: "the scripted model".into(),
        });
    }
    let connection = model.and_then(|m| m.connection.as_ref()).and_then(|c| connection(c, checker, bindings));
    if key.starts_with("Anthropic") || key == "anthropic" {
        return anthropic_client(&key, id, connection, checker, at, load_options);
    }
    openai_client(&key, id, connection, checker, at, load_options)
}

fn unreachable_default(checker: &mut Checker<'_>, message: String) {
    checker.problems.push(crate::Problem { file: checker.file.to_path_buf(), line: 0, column: 0, message });
}

/// A resolved connection: endpoint and key.
#[derive(Default)]
#[cfg_attr(not(any(feature = "openai", feature = "anthropic")), allow(dead_code))]
pub(crate) struct Resolved {
    endpoint: Option<String>,
    api_key: Option<String>,
}

fn connection(spec: &ConnectionSpec, checker: &mut Checker<'_>, bindings: &Bindings) -> Option<Resolved> {
    match spec.kind.value.as_str() {
        "key" | "apiKey" | "ApiKey" => Some(Resolved {
            endpoint: checker.resolve_opt(spec.endpoint.as_ref()),
            api_key: checker.resolve_opt(spec.api_key.as_ref().or(spec.key.as_ref())),
        }),
        "anonymous" | "remote" => {
            Some(Resolved { endpoint: checker.resolve_opt(spec.endpoint.as_ref()), api_key: None })
        }
        "reference" => {
            let Some(name) = &spec.name else {
                checker.at(&spec.kind, "a `reference` connection needs a `name`");
                return None;
            };
            match bindings.get_connection(&name.value) {
                Some(named) => {
                    Some(Resolved { endpoint: named.endpoint.clone(), api_key: named.api_key.clone() })
                }
                None => {
                    checker.at(
                        name,
                        format!("no connection named `{}` is registered (Bindings::connection)", name.value),
                    );
                    None
                }
            }
        }
        other => {
            let hint = closest(other, ["key", "remote", "anonymous", "reference"]);
            checker.at(
                &spec.kind,
                format!(
                    "unknown connection kind `{other}`{hint}: expected key, remote, anonymous or reference"
                ),
            );
            None
        }
    }
}

#[cfg(feature = "openai")]
fn openai_client(
    key: &str,
    id: Option<String>,
    connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    load_options: &LoadOptions,
) -> Option<Client> {
    use weft_openai::{DEFAULT_TIMEOUT, OpenAIBuilder};
    let (family, api) = key.split_once('.').unwrap_or((key, "Responses"));
    let connection = connection.unwrap_or_default();
    let mut builder = match family {
        "AzureOpenAI" => {
            let mut builder = OpenAIBuilder::azure_from_env();
            if let Some(endpoint) = &connection.endpoint {
                builder = builder.azure_endpoint(endpoint);
            }
            if let Some(id) = &id {
                builder = builder.azure_deployment(id);
            }
            builder
        }
        _ => {
            let mut builder = OpenAIBuilder::from_env();
            if let Some(endpoint) = &connection.endpoint {
                builder = builder.base_url(endpoint);
            }
            builder
        }
    };
    if family == "OpenAICompatible" && connection.endpoint.is_none() {
        let message = format!("provider `{key}` needs `connection.endpoint` (the server's base URL)");
        match at {
            Some(at) => checker.at(at, message),
            None => unreachable_default(checker, message),
        }
        return None;
    }
    if let Some(api_key) = connection.api_key {
        builder = builder.api_key(api_key);
    }
    if let Some(id) = &id {
        builder = builder.model(id);
    }
    if let Some(timeout) = load_options.model_first_byte_timeout {
        builder = builder.first_byte_timeout(timeout).timeout(timeout.max(DEFAULT_TIMEOUT));
    }
    if let Some(timeout) = load_options.model_idle_timeout {
        builder = builder.stream_idle_timeout(timeout);
    }
    match builder.build() {
        Ok(openai) => {
            let description = format!(
                "{} {} at {}, model {}",
                openai.provider_name(),
                api.to_lowercase(),
                openai.base_url(),
                id.as_deref().unwrap_or("(default)")
            );
            let client: Arc<dyn ChatClient> =
                if api == "Chat" { Arc::new(openai.chat()) } else { Arc::new(openai.responses()) };
            Some(Client { client, model: id, description })
        }
        Err(error) => {
            let message = format!("provider `{key}`: {error}");
            match at {
                Some(at) => checker.at(at, message),
                None => unreachable_default(checker, message),
            }
            None
        }
    }
}

#[cfg(not(feature = "openai"))]
fn openai_client(
    key: &str,
    _id: Option<String>,
    _connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    _load_options: &LoadOptions,
) -> Option<Client> {
    let message = format!("provider `{key}` needs weft-declarative's `openai` feature");
    match at {
        Some(at) => checker.at(at, message),
        None => unreachable_default(checker, message),
    }
    None
}

/// `Anthropic`, `Anthropic.Messages` or `anthropic`: the Messages API (`ANTHROPIC_API_KEY`,
/// `ANTHROPIC_BASE_URL`, `ANTHROPIC_MODEL`, with the connection's endpoint and key on top).
#[cfg(feature = "anthropic")]
fn anthropic_client(
    key: &str,
    id: Option<String>,
    connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    load_options: &LoadOptions,
) -> Option<Client> {
    use weft_anthropic::AnthropicBuilder;
    let connection = connection.unwrap_or_default();
    let mut builder = AnthropicBuilder::from_env();
    if let Some(endpoint) = &connection.endpoint {
        builder = builder.base_url(endpoint);
    }
    if let Some(api_key) = connection.api_key {
        builder = builder.api_key(api_key);
    }
    if let Some(id) = &id {
        builder = builder.model(id);
    }
    if let Some(timeout) = load_options.model_first_byte_timeout {
        builder = builder.first_byte_timeout(timeout).timeout(timeout.max(weft_anthropic::DEFAULT_TIMEOUT));
    }
    if let Some(timeout) = load_options.model_idle_timeout {
        builder = builder.stream_idle_timeout(timeout);
    }
    match builder.build() {
        Ok(anthropic) => {
            let model = id.clone().or_else(|| anthropic.default_model().map(str::to_string));
            let description = format!(
                "anthropic messages at {}, model {}",
                anthropic.base_url(),
                model.as_deref().unwrap_or("(default)")
            );
            Some(Client { client: Arc::new(anthropic.messages()), model: id, description })
        }
        Err(error) => {
            let message = format!("provider `{key}`: {error}");
            match at {
                Some(at) => checker.at(at, message),
                None => unreachable_default(checker, message),
            }
            None
        }
    }
}

#[cfg(not(feature = "anthropic"))]
fn anthropic_client(
    key: &str,
    _id: Option<String>,
    _connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    _load_options: &LoadOptions,
) -> Option<Client> {
    let message = format!("provider `{key}` needs weft-declarative's `anthropic` feature");
    match at {
        Some(at) => checker.at(at, message),
        None => unreachable_default(checker, message),
    }
    None
}

/// `model.options` as chat options.
fn options(spec: Option<&OptionsSpec>, checker: &mut Checker<'_>, at: &Text) -> ChatOptions {
    let mut options = ChatOptions::default();
    let Some(spec) = spec else { return options };
    options.temperature = spec.temperature;
    options.top_p = spec.top_p;
    options.max_tokens = spec.max_output_tokens;
    options.seed = spec.seed;
    options.stop = spec.stop_sequences.clone();
    options.parallel_tool_calls = spec.allow_multiple_tool_calls;
    for (name, value) in
        [("frequency_penalty", spec.frequency_penalty), ("presence_penalty", spec.presence_penalty)]
    {
        if let Some(value) = value {
            options.extra.insert(name.into(), serde_json::json!(value));
        }
    }
    if let Some(top_k) = spec.top_k {
        options.extra.insert("top_k".into(), top_k.into());
    }
    for (name, value) in &spec.additional_properties {
        if name == "chatToolMode" {
            options.tool_choice = match value.as_str() {
                Some("auto") => Some(ToolChoice::Auto),
                Some("none") => Some(ToolChoice::None),
                Some("required") => Some(ToolChoice::Required),
                _ => {
                    checker.at(at, format!("model.options.additionalProperties.chatToolMode is {value}: expected auto, none or required"));
                    None
                }
            };
        } else {
            options.extra.insert(name.clone(), value.clone());
        }
    }
    options
}

/// A `kind: function` tool bound to a registered function.
fn function_tool(tool: &ToolSpec, checker: &mut Checker<'_>, bindings: &Bindings) -> Option<BoundTool> {
    let Some(name) = &tool.name else {
        checker.at(&tool.kind, "a `function` tool needs a `name`");
        return None;
    };
    let binding = tool.bindings.as_ref().and_then(|b| b.0.first()).map(|b| &b.name).unwrap_or(name);
    let Some(function) = bindings.get_function(&binding.value) else {
        let hint = closest(&binding.value, bindings.function_names());
        let known: Vec<&str> = bindings.function_names().collect();
        checker.at(
            binding,
            format!(
                "no function named `{}` is bound{hint}; registered: {}",
                binding.value,
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ),
        );
        return None;
    };
    let parameters = tool.parameters.as_ref().map(|p| {
        check_kinds(p, checker, name, "parameters");
        object_schema(p)
    });
    let parameters = parameters.unwrap_or_else(
        || serde_json::json!({"type": "object", "properties": {}, "additionalProperties": false}),
    );
    Some(BoundTool {
        validator: ArgumentValidator::new(&parameters),
        definition: ToolDefinition::new(
            name.value.clone(),
            tool.description.clone().unwrap_or_default(),
            parameters,
        ),
        function,
        approval: bindings.approval(),
    })
}

/// A `kind: mcp` tool, checked; connected later.
fn mcp_tool(tool: &ToolSpec, checker: &mut Checker<'_>) -> Option<McpPlan> {
    let at = tool.name.as_ref().unwrap_or(&tool.kind).clone();
    let mut headers = Vec::new();
    for (name, value) in &tool.headers {
        headers.push((name.clone(), checker.resolve(value)?));
    }
    if let Some(connection) = &tool.connection
        && matches!(connection.kind.value.as_str(), "key" | "apiKey")
        && let Some(key) = checker.resolve_opt(connection.api_key.as_ref().or(connection.key.as_ref()))
    {
        headers.push(("Authorization".into(), format!("Bearer {key}")));
    }
    let server = match (&tool.url, &tool.command) {
        (Some(url), None) => McpServer::Http { url: checker.resolve(url)?, headers },
        (None, Some(command)) => {
            let line = checker.resolve(command)?;
            let mut words = line.split_whitespace().map(str::to_string);
            let Some(program) = words.next() else {
                checker.at(command, "the MCP `command` is empty");
                return None;
            };
            let mut args: Vec<String> = words.collect();
            for arg in &tool.args {
                args.push(checker.resolve(arg)?);
            }
            let mut env = Vec::new();
            for (name, value) in &tool.env {
                env.push((name.clone(), checker.resolve(value)?));
            }
            McpServer::Stdio { program, args, env }
        }
        (Some(_), Some(_)) => {
            checker.at(&at, "an `mcp` tool takes `url` or `command`, not both");
            return None;
        }
        (None, None) => {
            checker.at(&at, "an `mcp` tool needs `url` (streamable HTTP) or `command` (stdio)");
            return None;
        }
    };
    let approval = match &tool.approval_mode {
        None => McpApproval::default(),
        Some(crate::spec::ApprovalSpec::Word(word)) => approval_word(word, &at, checker)?,
        Some(crate::spec::ApprovalSpec::Detailed(detailed)) => {
            let mut approval = approval_word(&detailed.kind, &at, checker)?;
            approval.always_tools = detailed.always_require_approval_tools.clone();
            approval.never_tools = detailed.never_require_approval_tools.clone();
            approval
        }
    };
    Some(McpPlan {
        name: tool.name.as_ref().map(|n| n.value.clone()).unwrap_or_else(|| "mcp".into()),
        at,
        server,
        allowed_tools: tool.allowed_tools.clone(),
        approval,
    })
}

fn approval_word(word: &str, at: &Text, checker: &mut Checker<'_>) -> Option<McpApproval> {
    match word {
        "never" | "toolSpecify" | "specify" => Some(McpApproval::default()),
        "always" => Some(McpApproval { always: true, ..McpApproval::default() }),
        other => {
            let hint = closest(other, ["never", "always", "toolSpecify"]);
            checker.at(
                at,
                format!("unknown approvalMode `{other}`{hint}: expected never, always or toolSpecify"),
            );
            None
        }
    }
}
