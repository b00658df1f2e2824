//! From the file's shape ([`AgentSpec`]) to Weft values: the provider, options, tools and
//! structured output of a [`ChatAgent`]. The provider (and its connection) is chosen in
//! [`provider`], the tools are bound or planned in [`tools`].

mod provider;
mod skills;
mod tools;

use serde_json::Value;
use weft_core::agent::ChatAgentBuilder;
use weft_core::schema::strict_schema;
use weft_core::{ChatAgent, ChatOptions, ResponseFormat, ToolChoice};

use crate::bindings::Bindings;
use crate::env::Checker;
use crate::schema::{bad_kinds, object_schema};
use crate::spec::{AgentSpec, OptionsSpec, SchemaSpec, Text, ToolSpec};

pub use provider::PROVIDERS;
use provider::client;
use tools::{HOSTED, function_tool, hosted_tool, mcp_tool};
pub use tools::{McpApproval, McpPlan, McpServer};

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
    /// A model that replaces the `model` of every agent loaded (its provider, connection and
    /// id; the file's `options` stay), to run a file's agents on another model without
    /// editing it.
    pub model: Option<ModelOverride>,
    /// The token credential of Azure models without an API key: `AzureOpenAI.*` and
    /// `AzureAIClient` with `connection.kind: remote` (Microsoft Entra ID, as MAF signs in), or
    /// with no key in the file or the environment. The `weft` CLI gives
    /// `weft_azure::DefaultAzureCredential`; without one such a model is reported.
    pub credential: Option<std::sync::Arc<dyn weft_provider::TokenCredential>>,
}

/// The model that replaces every agent's own ([`LoadOptions::model`]), e.g. `weft run -f FILE
/// --provider openai --base-url URL --model M`.
#[derive(Clone, Default)]
pub struct ModelOverride {
    /// A provider a file may name ([`PROVIDERS`]): `OpenAI.Chat`, `OpenAI.Responses`,
    /// `OpenAICompatible.Chat`, `Anthropic.Messages`, `Gemini`, `scripted`, …
    pub provider: String,
    /// The endpoint (base URL); `None`: the provider's environment (`OPENAI_BASE_URL`,
    /// `ANTHROPIC_BASE_URL`) or default.
    pub endpoint: Option<String>,
    /// The model id; `None`: the provider's environment (`OPENAI_MODEL`, `ANTHROPIC_MODEL`).
    pub id: Option<String>,
    /// The API key; `None`: the provider's environment (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`).
    /// Never printed.
    pub api_key: Option<String>,
}

impl std::fmt::Debug for ModelOverride {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelOverride")
            .field("provider", &self.provider)
            .field("endpoint", &self.endpoint)
            .field("id", &self.id)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
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
    let input_schema = spec.input_schema.as_ref().map(|input| {
        check_kinds(input, checker, &spec.kind, "inputSchema");
        object_schema(input)
    });
    let provider = provider::provider_key(model);
    let hosted_kinds = provider::hosted_kinds(&provider);
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
            hosted if hosted_kinds.contains(&hosted) => options.hosted_tools.push(hosted_tool(tool)),
            hosted if HOSTED.contains(&hosted) => {
                let name = tool.name.as_ref().map(|n| n.value.as_str()).unwrap_or(hosted);
                checker.at(
                    &tool.kind,
                    format!(
                        "tool `{name}` is a hosted `{hosted}` tool, which provider `{provider}` does not host \
                         (it hosts {}); remove it, use a provider that hosts it, or use a `function` or `mcp` tool",
                        if hosted_kinds.is_empty() { "none".to_string() } else { hosted_kinds.join(", ") }
                    ),
                );
            }
            other => {
                let hint = closest(other, ["function", "mcp"].into_iter().chain(HOSTED));
                checker.at(&tool.kind, format!("unknown tool kind `{other}`{hint}"));
            }
        }
    }
    if let Some(skills) = &spec.skills
        && let Some(provider) = skills::skills_provider(skills, checker)
    {
        builder = builder.context_provider(std::sync::Arc::new(provider));
    }
    builder = builder.options(options.clone());
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

pub(super) fn check_kinds(schema: &SchemaSpec, checker: &mut Checker<'_>, at: &Text, field: &str) {
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
