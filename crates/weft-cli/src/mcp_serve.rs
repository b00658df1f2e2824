//! Agents and workflows as MCP servers: `weft mcp serve FILE…` over stdio, and the streamable
//! HTTP endpoint `weft serve --mcp-server` mounts at `/mcp`.
//!
//! Each agent (or workflow, served as its `WorkflowAgent`) is one MCP tool named after it, taking
//! `{"prompt": string, "session"?: string}`; see `weft_mcp::server`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use tokio_util::sync::CancellationToken;
use weft_mcp::server::{HttpOptions, McpServer};

use crate::error::CliError;
use crate::{AgentArgs, RunArgs, provider, run};

/// The path of the MCP endpoint under `weft serve --mcp-server`.
pub(crate) const MCP_PATH: &str = "/mcp";

/// Arguments of `weft mcp serve`.
#[derive(Debug, Args)]
pub(crate) struct McpServeArgs {
    /// Declarative agent files (MAF's prompt-agent YAML) or workflow files (`kind: Workflow`), each
    /// served as a tool named by its `name`. Without any, the demo agent of `weft run` is served
    /// as the tool `weft`.
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,

    #[command(flatten)]
    pub(crate) agent: AgentArgs,
}

impl McpServeArgs {
    fn run_args(&self, file: Option<PathBuf>) -> RunArgs {
        RunArgs::serving(self.agent.clone(), file)
    }
}

/// `weft mcp serve`: serves the agents over stdin/stdout until the client closes stdin. Notices
/// go to stderr: stdout carries only the protocol.
pub(crate) async fn run(args: McpServeArgs) -> Result<(), CliError> {
    let mut sources = Vec::new();
    let result = match agents(&args, &mut sources).await {
        Ok(agents) => {
            let names: Vec<&str> = agents.iter().map(|a| a.name()).collect();
            crate::logging::notice(format_args!("serving {} over MCP on stdio", names.join(", ")));
            server(agents).serve_stdio().await.map_err(|e| CliError::Io {
                context: "the MCP session failed".into(),
                source: std::io::Error::other(e.to_string()),
            })
        }
        Err(error) => Err(error),
    };
    run::close_all(&sources, result).await
}

/// The agents of the files (or the demo agent), their MCP servers connected into `sources`.
async fn agents(
    args: &McpServeArgs,
    sources: &mut Vec<weft_mcp::McpSource>,
) -> Result<Vec<Arc<dyn weft::Agent>>, CliError> {
    let run_args = args.run_args(None);
    run::connect_servers(&run_args, None, sources).await?;
    if args.files.is_empty() {
        let provider = provider::select(&run_args)?;
        crate::logging::notice(format_args!("using {}", provider.description));
        let agent = run::build_agent(&run_args, provider, sources, weft::ApprovalMode::Never);
        return Ok(vec![Arc::new(agent)]);
    }
    let mut agents: Vec<Arc<dyn weft::Agent>> = Vec::new();
    for file in &args.files {
        let (agent, description): (Arc<dyn weft::Agent>, String) =
            if weft::declarative::file_kind(file) == weft::declarative::FileKind::Workflow {
                // Paused runs are kept in memory (bounded) for the life of the server.
                let store = Arc::new(weft::host::InMemoryStore::default());
                let (agent, description, _entity) =
                    crate::workflow_run::agent(file, &run_args, sources, store).await?;
                (agent, description)
            } else {
                let (agent, description) =
                    run::make_agent(&args.run_args(Some(file.clone())), None, None, sources).await?;
                (Arc::new(agent), description)
            };
        if agents.iter().any(|served| served.name() == agent.name()) {
            return Err(CliError::Usage(format!(
                "{}: another file already serves an agent named '{}'",
                file.display(),
                agent.name()
            )));
        }
        crate::logging::notice(format_args!("{} ({}): using {description}", agent.name(), file.display()));
        agents.push(agent);
    }
    Ok(agents)
}

fn server(agents: impl IntoIterator<Item = Arc<dyn weft::Agent>>) -> McpServer {
    let mut builder = McpServer::builder("weft").version(env!("CARGO_PKG_VERSION"));
    for agent in agents {
        builder = builder.agent(agent);
    }
    builder.build()
}

/// The streamable HTTP endpoint at [`MCP_PATH`] for `weft serve --mcp-server`, mounted behind the
/// host's token. On a loopback address `Host` must be a loopback name (DNS-rebinding
/// protection); on another address, which needs a token, any `Host` is accepted. Browser
/// `Origin`s must be loopback or one of `--cors`. Cancelling `shutdown` ends every MCP session.
pub(crate) fn routes(
    agents: impl IntoIterator<Item = Arc<dyn weft::Agent>>,
    bound: SocketAddr,
    cors: &[String],
    body_limit: usize,
    shutdown: CancellationToken,
) -> axum::Router {
    let mut options = HttpOptions::default().max_body_bytes(body_limit).cancellation(shutdown);
    if !bound.ip().is_loopback() {
        options = options.any_host();
    }
    for origin in cors {
        options = options.allow_origin(origin.clone());
    }
    crate::logging::notice(format_args!("MCP: http://{bound}{MCP_PATH} (streamable HTTP)"));
    server(agents).router(MCP_PATH, options)
}
