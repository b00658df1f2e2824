//! Declarative agents and workflows: load YAML agent files (Microsoft Agent Framework's
//! prompt-agent schema) into the same [`ChatAgent`] values code builds, and Weft's workflow files
//! into the same [`Workflow`](weft_workflow::Workflow) values.
//!
//! ```yaml
//! kind: Prompt
//! name: weather
//! instructions: You answer questions about the weather.
//! model: { id: gpt-4o-mini, provider: OpenAI.Chat, connection: { kind: key, apiKey: =Env.OPENAI_API_KEY } }
//! tools:
//!   - kind: function
//!     name: get_weather
//!     parameters: [{ name: city, kind: string }]
//! ```
//!
//! [`load_agent`] reads a file, checks every field, binds `kind: function` tools to the Rust
//! functions of a [`Bindings`] registry and connects `kind: mcp` tools; it returns a
//! [`LoadedAgent`] whose MCP sources the caller owns (close them when done). [`validate`] does
//! all the checks without connecting anything. Every problem is a [`Problem`] with the file's
//! `line:col`. [`agent_json_schema`] is the JSON Schema of the format, for editors.
//!
//! Hosted tools (`kind: web_search`, `file_search`, `code_interpreter`), which the provider
//! runs and Weft never runs locally, load as [`weft_core::HostedTool`]s in the agent's options
//! when the file's provider hosts them: all three on a Responses API (`OpenAI.Responses`,
//! `AzureOpenAI.Responses`, `OpenAICompatible.Responses`, and those families without an
//! `apiType`), web search on `Anthropic`. Elsewhere (Chat Completions, `Bedrock`, `scripted`), and for
//! `openapi` and `custom` everywhere, the tool is an error at its place naming the tool, its
//! kind and the provider.
//!
//! Workflow files (`kind: Workflow`, Weft's own format, feature `workflow`, on by default) are
//! read by [`load_workflow`] / [`workflow_from_str`] into the same `Workflow` values code builds:
//! graphs of agents, registered functions, human-input requests and sub-workflows joined by
//! direct, conditional, switch, fan-out and fan-in edges, or the prebuilt orchestrations
//! (sequential, concurrent, handoff, group chat, magentic); see the [`workflow`] module for the
//! format and [`workflow_json_schema`] for its JSON Schema. [`validate_file`] checks either kind
//! of file, telling them apart by `kind`.
//!
//! ## Skills
//!
//! `skills:` (a Weft extension; MAF gives skills in code only) gives the agent [Agent
//! Skills](https://agentskills.io/specification): folders with a `SKILL.md`, found and checked
//! when the file is (a bad `SKILL.md` is a problem at the path that holds it, naming the file),
//! and given to the agent as a [`weft_skills::SkillsProvider`]:
//!
//! ```yaml
//! skills:
//!   paths: [skills]        # relative to this file's folder; =Env.NAME allowed
//!   scripts: true          # offer run_skill_script; every run waits for approval (default false)
//!   scriptTimeout: 30      # seconds (default 30)
//!   approveReads: false    # load_skill and read_skill_resource need approval too (default false)
//! ```
//!
//! ## Layering
//!
//! The crate maps `provider:` to weft-openai and `kind: mcp` to weft-mcp (features `openai` and
//! `mcp`, on by default): like the `weft` facade, it sits above the provider crates, which do
//! not know it; weft-core knows none of them.
//!
//! ## Why serde-saphyr
//!
//! `serde_yaml` is unmaintained since 2024, and `serde_yml` (its fork) was archived after a
//! controversy over generated code. `serde-saphyr` is maintained, forbids `unsafe`, is
//! fuzz-tested not to panic, deserializes with serde without an intermediate tree, reports
//! every error with its line and column (and keeps values' places with `Spanned`), and has
//! budgets (aliases, anchors, depth, events, scalar bytes) that stop a hostile file ("billion
//! laughs", deep nesting) early with bounded memory. `saphyr`/`yaml-rust2` give positions but
//! no serde, so every field would be checked by hand.
//!
//! ## Security
//!
//! `=Env.NAME` is the only expression evaluated (MAF's PowerFx otherwise is not). A missing
//! variable is an error naming it; resolved values (API keys, headers) are never printed.

mod bindings;
mod build;
mod env;
mod error;
mod parse;
mod schema;
pub mod spec;
#[cfg(feature = "workflow")]
pub mod workflow;

use std::path::Path;

use serde_json::Value;
use weft_core::ChatAgent;
use weft_core::agent::ChatAgentBuilder;

pub use bindings::{Bindings, NamedConnection};
pub use build::{LoadOptions, McpApproval, McpPlan, McpServer, ModelOverride, PROVIDERS, Plan};
pub use error::{LoadError, Problem};
pub use parse::{MAX_FILE_BYTES, parse_agent};
pub use schema::object_schema;
#[cfg(feature = "workflow")]
pub use workflow::{
    FileKind, HumanInputRequest, LoadedWorkflow, WorkflowOptions, file_kind, load_workflow,
    load_workflow_with, validate_file, validate_workflow, workflow_from_str, workflow_json_schema,
};

/// The name used for text given without a file.
pub const STRING_SOURCE: &str = "<string>";

/// An agent loaded from a file, with the MCP sources its tools come from.
pub struct LoadedAgent {
    /// The agent.
    pub agent: ChatAgent,
    /// The connected MCP servers of its `kind: mcp` tools: the caller owns them and closes
    /// them (`McpSource::close`) when done.
    #[cfg(feature = "mcp")]
    pub sources: Vec<weft_mcp::McpSource>,
    /// `inputSchema` as JSON Schema, if the file has one.
    pub input_schema: Option<Value>,
    /// The provider and model, for the user (no secrets).
    pub model_description: String,
}

impl std::fmt::Debug for LoadedAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedAgent").field("agent", &self.agent.name()).finish_non_exhaustive()
    }
}

/// Reads, checks and builds the agent of `path`, and connects its MCP tools.
pub async fn load_agent(path: impl AsRef<Path>, bindings: &Bindings) -> Result<LoadedAgent, LoadError> {
    let plan = plan_file(path.as_ref(), bindings)?;
    finish(plan, |builder| builder).await
}

/// [`load_agent`] for text (problems name the file `<string>`).
pub async fn agent_from_str(text: &str, bindings: &Bindings) -> Result<LoadedAgent, LoadError> {
    let plan = plan_str(text, Path::new(STRING_SOURCE), bindings)?;
    finish(plan, |builder| builder).await
}

/// Checks `path` as [`load_agent`] does, without connecting anything.
pub fn validate(path: impl AsRef<Path>, bindings: &Bindings) -> Result<(), LoadError> {
    plan_file(path.as_ref(), bindings).map(|_| ())
}

/// Reads and checks `path`: the agent's builder (so that a caller can add to it) and the MCP
/// servers still to connect.
pub fn plan_file(path: &Path, bindings: &Bindings) -> Result<Plan, LoadError> {
    plan_file_with(path, bindings, &LoadOptions::default())
}

/// [`plan_file`] with the caller's deadlines.
pub fn plan_file_with(path: &Path, bindings: &Bindings, options: &LoadOptions) -> Result<Plan, LoadError> {
    let text = parse::read_file(path)?;
    plan_str_with(&text, path, bindings, options)
}

/// [`plan_file`] for text; `file` names it in problems.
pub fn plan_str(text: &str, file: &Path, bindings: &Bindings) -> Result<Plan, LoadError> {
    plan_str_with(text, file, bindings, &LoadOptions::default())
}

/// [`plan_str`] with the caller's deadlines.
pub fn plan_str_with(
    text: &str,
    file: &Path,
    bindings: &Bindings,
    options: &LoadOptions,
) -> Result<Plan, LoadError> {
    let spec = parse_agent(text, file).map_err(|problem| LoadError::Invalid(vec![problem]))?;
    let mut checker = env::Checker::new(file);
    let plan = build::plan(&spec, &mut checker, bindings, options);
    match plan {
        Some(plan) if checker.problems.is_empty() => Ok(plan),
        _ => Err(LoadError::Invalid(checker.problems)),
    }
}

/// Connects a plan's MCP servers (closing those connected if one fails), lets `customize` add
/// to the builder, and builds the agent.
pub async fn finish(
    plan: Plan,
    customize: impl FnOnce(ChatAgentBuilder) -> ChatAgentBuilder,
) -> Result<LoadedAgent, LoadError> {
    let Plan { file, builder, mcp, input_schema, model_description, load_options, .. } = plan;
    #[cfg(feature = "mcp")]
    {
        let sources = connect_all(&file, &mcp, &load_options).await?;
        let mut builder = builder;
        for source in &sources {
            builder = builder.tool_set(std::sync::Arc::new(source.clone()));
        }
        Ok(LoadedAgent { agent: customize(builder).build(), sources, input_schema, model_description })
    }
    #[cfg(not(feature = "mcp"))]
    {
        let _ = load_options;
        if let Some(first) = mcp.first() {
            return Err(LoadError::Invalid(vec![problem_at(
                &file,
                &first.at,
                "`mcp` tools need the `mcp` feature",
            )]));
        }
        Ok(LoadedAgent { agent: customize(builder).build(), input_schema, model_description })
    }
}

fn problem_at(file: &Path, at: &spec::Text, message: &str) -> Problem {
    Problem {
        file: file.to_path_buf(),
        line: at.referenced.line(),
        column: at.referenced.column(),
        message: message.to_string(),
    }
}

#[cfg(feature = "mcp")]
async fn connect_all(
    file: &Path,
    plans: &[McpPlan],
    options: &LoadOptions,
) -> Result<Vec<weft_mcp::McpSource>, LoadError> {
    use weft_core::ApprovalMode;
    use weft_mcp::{HttpServer, McpSource, ServerConfig, StdioServer};
    let mut sources: Vec<McpSource> = Vec::new();
    for plan in plans {
        let server: ServerConfig = match &plan.server {
            McpServer::Http { url, headers } => {
                let mut http = HttpServer::new(url.clone());
                for (name, value) in headers {
                    http = http.header(name.clone(), value.clone());
                }
                http.into()
            }
            McpServer::Stdio { program, args, env } => {
                let mut stdio = StdioServer::new(program.clone()).args(args.clone());
                for (name, value) in env {
                    stdio = stdio.env(name.clone(), value.clone());
                }
                stdio.into()
            }
        };
        let mut builder = McpSource::builder(plan.name.clone(), server);
        if let Some(timeout) = options.mcp_timeout {
            builder = builder.connect_timeout(timeout).request_timeout(timeout);
        }
        if !plan.allowed_tools.is_empty() {
            builder = builder.allow_tools(plan.allowed_tools.clone());
        }
        if plan.approval.always {
            builder = builder.default_approval(ApprovalMode::Always);
        }
        for tool in &plan.approval.always_tools {
            builder = builder.approval(tool.clone(), ApprovalMode::Always);
        }
        for tool in &plan.approval.never_tools {
            builder = builder.approval(tool.clone(), ApprovalMode::Never);
        }
        match builder.connect().await {
            Ok(source) => sources.push(source),
            Err(error) => {
                for source in &sources {
                    source.close().await;
                }
                return Err(LoadError::Connect {
                    problem: problem_at(
                        file,
                        &plan.at,
                        &format!("MCP server `{}` could not be connected", plan.name),
                    ),
                    source: Box::new(error),
                });
            }
        }
    }
    Ok(sources)
}

/// The JSON Schema of agent files, for editors (yaml-language-server).
pub fn agent_json_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(spec::AgentSpec)).unwrap_or(Value::Null)
}
