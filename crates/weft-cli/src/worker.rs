//! `weft worker`: an agent and/or a workflow served to Restate. Restate calls the worker over
//! HTTP/2. Each message to a conversation (`POST {ingress}/WeftAgent/{conversation}/send`) runs
//! the agent with every model call and tool call a journaled step (the `DurableCalls`
//! middleware), so that a worker killed mid-run resumes, on its restart, without making the
//! completed calls again. A workflow file is served as the Restate workflow `WeftWorkflow`
//! (`weft workflow start RUN INPUT`): each executor invocation a journaled step, its human input
//! a durable promise.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use tokio_util::sync::CancellationToken;
use weft::restate::{StepRetry, bind, durable_calls, register, serve};

use crate::error::CliError;
use crate::{AgentArgs, RunArgs, provider, run};

/// Arguments of `weft worker`.
#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    /// Declarative files to serve, one agent file and one workflow file at most: the agent
    /// (MAF's prompt-agent YAML) as the durable agent `WeftAgent`, the workflow (`kind:
    /// Workflow`) as the durable workflow `WeftWorkflow`. Without any, the demo agent of `weft
    /// run` (same model flags) is served.
    #[arg(value_name = "FILE", num_args = 0..=2)]
    pub(crate) files: Vec<PathBuf>,

    /// The address Restate calls the worker at (HTTP/2). Any other than a loopback address
    /// needs --identity-key or --no-auth.
    #[arg(long, value_name = "ADDR", env = "WEFT_WORKER_ADDR", default_value = "127.0.0.1:9080")]
    pub(crate) listen: SocketAddr,

    /// Register the worker with the Restate server whose admin API is at URL, e.g.
    /// http://127.0.0.1:9070 (registering again, after a restart, is accepted).
    #[arg(long, value_name = "URL", env = "RESTATE_ADMIN_URL")]
    pub(crate) register: Option<String>,

    /// The URL Restate reaches the worker at, when it is not http://ADDR of --listen (behind a
    /// proxy, in a container).
    #[arg(long, value_name = "URL", requires = "register")]
    pub(crate) advertise: Option<String>,

    /// Restate's request identity public key (`publickeyv1_…`): requests not signed with its
    /// private key are refused.
    #[arg(long, value_name = "KEY", env = "RESTATE_IDENTITY_KEY", hide_env_values = true)]
    pub(crate) identity_key: Option<String>,

    /// Accept unsigned requests on a non-loopback address.
    #[arg(long, conflicts_with = "identity_key")]
    pub(crate) no_auth: bool,

    /// Attempts in all of a step whose call fails with a retryable error (a model error the
    /// provider calls retryable, a tool timed out or unavailable); then the message fails.
    #[arg(long, value_name = "N", default_value_t = StepRetry::default().max_attempts,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) max_attempts: u32,

    #[command(flatten)]
    pub(crate) agent: AgentArgs,
}

/// The files of `weft worker`, by kind.
#[derive(Debug, Default, PartialEq)]
struct WorkerFiles {
    agent: Option<PathBuf>,
    workflow: Option<PathBuf>,
}

impl WorkerFiles {
    /// Sorts `files` by kind: one agent file and one workflow file at most.
    fn of(files: &[PathBuf]) -> Result<Self, CliError> {
        let mut sorted = Self::default();
        for file in files {
            let (slot, kind) = match weft::declarative::file_kind(file) {
                weft::declarative::FileKind::Workflow => (&mut sorted.workflow, "workflow"),
                _ => (&mut sorted.agent, "agent"),
            };
            if let Some(first) = slot.replace(file.clone()) {
                return Err(CliError::Usage(format!(
                    "{} and {} are both {kind} files: a worker serves one agent and one workflow at most \
                     (Restate knows them as WeftAgent and WeftWorkflow)",
                    first.display(),
                    file.display()
                )));
            }
        }
        Ok(sorted)
    }
}

/// Serves until SIGTERM or Ctrl-C; the MCP servers of `--mcp` (and of the file) are closed at
/// the end.
pub(crate) async fn run(args: WorkerArgs) -> Result<(), CliError> {
    if !args.listen.ip().is_loopback() && args.identity_key.is_none() && !args.no_auth {
        return Err(CliError::Usage(format!(
            "listening on {} (not a loopback address) needs --identity-key KEY (Restate's request identity \
             public key, or RESTATE_IDENTITY_KEY), or --no-auth to accept unsigned requests",
            args.listen.ip()
        )));
    }
    let files = WorkerFiles::of(&args.files)?;
    let run_args = RunArgs::serving(args.agent.clone(), files.agent.clone());
    if files.agent.is_none() && files.workflow.is_some() {
        let flags = [
            ("--instructions", args.agent.instructions.is_some()),
            ("--mcp", !args.agent.mcp.is_empty()),
            ("--max-iterations", args.agent.max_iterations.is_some()),
        ];
        if let Some((flag, _)) = flags.iter().find(|(_, given)| *given) {
            return Err(CliError::Usage(format!(
                "{flag} applies to a served agent, and this worker serves only a workflow: its agents' \
                 files say their models, tools and instructions"
            )));
        }
    }
    let mut sources = Vec::new();
    let result = async {
        let agent = match (&files.agent, &files.workflow) {
            (None, Some(_)) => None,
            _ => Some(agent(&run_args, &mut sources).await?),
        };
        let workflow = match &files.workflow {
            Some(file) => Some(workflow(file, &run_args, &mut sources).await?),
            None => None,
        };
        serve_services(&args, agent, workflow).await
    }
    .await;
    run::close_all(&sources, result).await
}

/// The workflow of `file`, with its name; its agents' MCP servers go to `sources`.
async fn workflow(
    file: &std::path::Path,
    run_args: &RunArgs,
    sources: &mut Vec<weft_mcp::McpSource>,
) -> Result<(weft::workflow::Workflow, String), CliError> {
    // A durable run keeps its state in Restate; the store only satisfies the loader.
    let store = std::sync::Arc::new(weft::workflow::InMemoryCheckpointStore::new());
    let loaded = crate::workflow_run::load(file, run_args, store).await?;
    sources.extend(loaded.sources);
    crate::logging::notice(format_args!(
        "serving the workflow {} ({} executors) of {}",
        loaded.name,
        loaded.workflow.executor_ids().len(),
        file.display()
    ));
    Ok((loaded.workflow, loaded.name))
}

/// The agent to serve, made durable: the file's, or the demo agent.
async fn agent(
    run_args: &RunArgs,
    sources: &mut Vec<weft_mcp::McpSource>,
) -> Result<weft::ChatAgent, CliError> {
    run::connect_servers(run_args, None, sources).await?;
    if let Some(file) = &run_args.file {
        let (agent, description) =
            crate::declarative::load_with(file, run_args, None, sources, durable_calls).await?;
        crate::logging::notice(format_args!("using {description}"));
        return Ok(agent);
    }
    let provider = provider::select(run_args)?;
    crate::logging::notice(format_args!("using {}", provider.description));
    let builder = run::agent_builder(run_args, provider, sources, weft::ApprovalMode::Never);
    Ok(durable_calls(builder).build())
}

/// Serves `agent` as the `WeftAgent` object and `workflow` as the `WeftWorkflow` workflow,
/// registers them when asked, and stops on SIGTERM or Ctrl-C (Restate retries the invocations
/// the worker was running, on its next start).
async fn serve_services(
    args: &WorkerArgs,
    agent: Option<weft::ChatAgent>,
    workflow: Option<(weft::workflow::Workflow, String)>,
) -> Result<(), CliError> {
    let retry = StepRetry { max_attempts: args.max_attempts, ..StepRetry::default() };
    let mut what = Vec::new();
    if agent.is_some() {
        what.push(format!("the agent (object {})", weft::restate::OBJECT_NAME));
    }
    if let Some((_, name)) = &workflow {
        what.push(format!("the workflow {name} (workflow {})", weft::restate::WORKFLOW_NAME));
    }
    let endpoint = weft::restate::worker_endpoint(
        agent,
        workflow.map(|(workflow, _)| workflow),
        retry,
        args.identity_key.as_deref(),
    )
    .map_err(|error| CliError::Usage(error.to_string()))?;
    let listener = bind(args.listen).await.map_err(|error| CliError::Io {
        context: format!("could not listen on {}", args.listen),
        source: std::io::Error::other(error.to_string()),
    })?;
    let local = listener
        .local_addr()
        .map_err(|source| CliError::Io { context: "could not read the listening address".into(), source })?;
    let cancel = CancellationToken::new();
    let server = serve(endpoint, listener, cancel.clone());
    tokio::pin!(server);
    // The signal handlers are installed before anything is registered.
    let signal = crate::serve::shutdown_signal();
    tokio::pin!(signal);
    if let Some(admin) = &args.register {
        let deployment = args.advertise.clone().unwrap_or_else(|| format!("http://{local}"));
        tokio::select! {
            registered = register(admin, &deployment) => {
                registered.map_err(|error| CliError::Restate(error.to_string()))?;
            }
            () = &mut server => return Ok(()),
            () = &mut signal => return stop(cancel, server).await,
        }
        crate::logging::notice(format_args!("registered {deployment} with {admin}"));
    }
    println!("weft worker: serving {} to Restate at http://{local}", what.join(" and "));
    tokio::select! {
        () = &mut server => Ok(()),
        () = &mut signal => stop(cancel, server).await,
    }
}

/// Stops serving: open invocations end (Restate retries them on the next start of a worker).
async fn stop(
    cancel: CancellationToken,
    server: std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
) -> Result<(), CliError> {
    cancel.cancel();
    server.await;
    Ok(())
}
