//! `weft worker`: an agent served to Restate as a durable agent. Restate calls the worker over
//! HTTP/2; each message to a conversation (`POST {ingress}/WeftAgent/{conversation}/send`) runs
//! the agent with every model call and tool call a journaled step (the `DurableCalls`
//! middleware), so that a worker killed mid-run resumes, on its restart, without making the
//! completed calls again.

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
    /// A declarative agent file (MAF's prompt-agent YAML) to serve. Without one, the demo agent
    /// of `weft run` (same model flags) is served.
    #[arg(value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,

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

impl WorkerArgs {
    /// The model flags as `weft run` reads them, with the file.
    fn run_args(&self) -> RunArgs {
        RunArgs::serving(self.agent.clone(), self.file.clone())
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
    if let Some(file) = &args.file {
        if weft::declarative::file_kind(file) == weft::declarative::FileKind::Workflow {
            return Err(CliError::Usage(format!(
                "{}: a workflow file; `weft worker` serves agents (workflows do not run on Restate from the CLI yet)",
                file.display()
            )));
        }
    }
    let run_args = args.run_args();
    let mut sources = Vec::new();
    let result = match agent(&run_args, &mut sources).await {
        Ok(agent) => serve_agent(&args, agent).await,
        Err(error) => Err(error),
    };
    run::close_all(&sources, result).await
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

/// Serves `agent` as the `WeftAgent` object, registers it when asked, and stops on SIGTERM or
/// Ctrl-C (Restate retries the invocations the worker was running, on its next start).
async fn serve_agent(args: &WorkerArgs, agent: weft::ChatAgent) -> Result<(), CliError> {
    let retry = StepRetry { max_attempts: args.max_attempts, ..StepRetry::default() };
    let endpoint = weft::restate::agent_endpoint_with_identity(agent, retry, args.identity_key.as_deref())
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
    println!(
        "weft worker: serving the agent to Restate at http://{local} (object {})",
        weft::restate::OBJECT_NAME
    );
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
