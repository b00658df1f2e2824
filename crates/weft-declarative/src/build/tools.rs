//! An agent's tools: `kind: function` tools bound to registered functions, `kind: mcp` tools
//! checked and planned (connected later), and the hosted kinds the provider runs (loaded when
//! the file's provider hosts them, see `provider::hosted_kinds`).

use weft_core::schema::ArgumentValidator;
use weft_core::{HostedTool, ToolDefinition};

use super::{check_kinds, closest};
use crate::bindings::{Bindings, BoundTool};
use crate::env::Checker;
use crate::schema::object_schema;
use crate::spec::{Text, ToolSpec};

/// Tool kinds the model provider hosts; Weft runs none of them locally. `openapi` and `custom`
/// have no provider-neutral form, so no provider loads them.
pub(super) const HOSTED: [&str; 5] = ["web_search", "file_search", "code_interpreter", "openapi", "custom"];

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

/// A hosted tool (`web_search`, `file_search` or `code_interpreter`, which the provider hosts) as
/// Weft's [`HostedTool`]: `options` are web search's provider settings; `vectorStoreIds`,
/// `maximumResultCount`, `ranker`, `scoreThreshold` and `filters` set file search;
/// `fileIds` the code interpreter's files.
pub(super) fn hosted_tool(tool: &ToolSpec) -> HostedTool {
    match tool.kind.value.as_str() {
        "file_search" => HostedTool::FileSearch {
            vector_store_ids: tool.vector_store_ids.clone().unwrap_or_default(),
            max_results: tool.maximum_result_count,
            ranker: tool.ranker.clone(),
            score_threshold: tool.score_threshold,
            filters: tool
                .filters
                .as_ref()
                .map(|f| serde_json::Value::Object(f.clone().into_iter().collect())),
        },
        "code_interpreter" => {
            HostedTool::CodeInterpreter { file_ids: tool.file_ids.clone().unwrap_or_default() }
        }
        _ => {
            HostedTool::WebSearch { options: tool.options.clone().unwrap_or_default().into_iter().collect() }
        }
    }
}

/// A `kind: function` tool bound to a registered function.
pub(super) fn function_tool(
    tool: &ToolSpec,
    checker: &mut Checker<'_>,
    bindings: &Bindings,
) -> Option<BoundTool> {
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
pub(super) fn mcp_tool(tool: &ToolSpec, checker: &mut Checker<'_>) -> Option<McpPlan> {
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
