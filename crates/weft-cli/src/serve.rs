//! `weft serve`: agents behind the OpenAI Responses and Chat Completions protocols and AG-UI.
//!
//! It serves the agent of each declarative file given (`weft serve a.yaml b.yaml`; the model name
//! is the file's `name`; a workflow file is served as a `WorkflowAgent`), or with no file the agent `weft run` builds (the demo tools, or the
//! tools of `--mcp` servers) under the model name `weft`, on 127.0.0.1 by default. Any other address needs `--token` (or
//! `--token-file`, or `WEFT_TOKEN`) unless `--no-auth` is given. SIGTERM or Ctrl-C stops it: no new connections,
//! in-flight runs get `--grace` seconds, then are cancelled. Conversations, stored responses and
//! A2A tasks and the checkpoints of workflows paused for human input (unless the workflow's file
//! names its own checkpoint store) live in memory, or with `--store sqlite:PATH` in a SQLite file
//! that survives restarts. Each
//! agent is also an A2A agent at `/a2a/NAME` (its card at `/a2a/NAME/.well-known/agent-card.json`),
//! behind the same token and limits, unless `--no-a2a` is given. `--ui` also serves DevUI (the
//! `weft-devui` page) at `/`; `weft devui` is `weft serve --ui` that opens the page in the
//! browser on a desktop.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use weft::a2a::{A2aConfig, A2aServer};
use weft::host::{Host, HostConfig, InMemoryStore, SessionStore, SqliteStore};

use crate::error::CliError;
use crate::{AgentArgs, RunArgs, provider, run};

/// The model name clients ask for.
pub(crate) const AGENT_NAME: &str = "weft";

/// Arguments of `weft serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Declarative agent files (MAF's prompt-agent YAML) or workflow files (`kind: Workflow`) to
    /// serve, each as the model named by its `name`. Without any, the demo agent of `weft run` is
    /// served as the model `weft`.
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,

    /// The address to listen on. Any other than a loopback address needs --token or --no-auth.
    #[arg(long, value_name = "ADDR", env = "WEFT_HOST", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub(crate) host: IpAddr,

    /// The port (0 picks a free one; the URL printed says which).
    #[arg(long, value_name = "PORT", env = "PORT", default_value_t = 8088)]
    pub(crate) port: u16,

    /// The bearer token clients must send (`Authorization: Bearer TOKEN`). A command line is
    /// visible to the other users of the machine (`ps`): prefer --token-file or WEFT_TOKEN.
    #[arg(long, value_name = "TOKEN", env = "WEFT_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,

    /// Read the bearer token from FILE (its content, trimmed), once at start.
    #[arg(long, value_name = "FILE", conflicts_with = "token")]
    pub(crate) token_file: Option<PathBuf>,

    /// Accept requests without a token on a non-loopback address.
    #[arg(long, conflicts_with = "token")]
    pub(crate) no_auth: bool,

    /// Allow browsers from ORIGIN (repeatable), e.g. http://localhost:3000. CORS is off without it.
    #[arg(long = "cors", value_name = "ORIGIN")]
    pub(crate) cors: Vec<String>,

    /// Seconds in-flight runs get to finish on SIGTERM or Ctrl-C before they are cancelled.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub(crate) grace: u64,

    /// The longest a run may take, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) run_timeout: u64,

    /// How many runs may go on at once (more are answered 503 with Retry-After).
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) max_runs: u32,

    /// The largest request body, in bytes (larger ones are answered 413).
    #[arg(long, value_name = "BYTES", default_value_t = weft::host::DEFAULT_BODY_LIMIT)]
    pub(crate) body_limit: usize,

    /// Where conversations, stored responses, A2A tasks and paused workflow runs live: `memory`
    /// (lost on exit) or `sqlite:PATH` (a SQLite file, created when missing, that survives restarts).
    #[arg(long, value_name = "STORE", default_value = "memory", value_parser = parse_store)]
    pub(crate) store: StoreSpec,

    /// Hold every call of the demo agent's tools for the client's approval (answered over AG-UI:
    /// an interrupt, then a run that resumes it; DevUI shows Approve and Reject buttons).
    #[arg(long, conflicts_with = "files")]
    pub(crate) approve: bool,

    /// Serve the durable agent of the Weft workers behind the Restate ingress at URL (`weft
    /// worker` processes registered there), as the model `weft`, instead of a local agent: each
    /// message runs on a worker as a journaled run that survives the worker's death, its
    /// conversation the `WeftAgent` object keyed by the session's id.
    #[arg(long, value_name = "URL", conflicts_with_all = ["files", "approve"])]
    pub(crate) restate_ingress: Option<String>,

    /// Also serve DevUI, the web page to chat with the agents, at http://ADDR:PORT/.
    #[arg(long)]
    pub(crate) ui: bool,

    /// Do not serve the agents over A2A (at /a2a/NAME).
    #[arg(long)]
    pub(crate) no_a2a: bool,

    /// Also serve the agents as MCP tools over streamable HTTP at /mcp, behind the same token
    /// (`--mcp SERVER` gives the agent an MCP server's tools instead).
    #[arg(long)]
    pub(crate) mcp_server: bool,

    /// The recent traces served to DevUI (`/v1/traces`): set by `main` for `--ui`, whose
    /// logger records them.
    #[arg(skip)]
    pub(crate) traces: Option<weft::telemetry::TraceRecorder>,

    #[command(flatten)]
    pub(crate) agent: AgentArgs,
}

/// Arguments of `weft devui`: `weft serve --ui`, and the page opened in the browser.
#[derive(Debug, Args)]
pub(crate) struct DevuiArgs {
    /// Do not open the page in a browser (it is opened only on a desktop: DISPLAY or
    /// WAYLAND_DISPLAY set).
    #[arg(long)]
    pub(crate) no_open: bool,

    #[command(flatten)]
    pub(crate) serve: ServeArgs,
}

/// `weft devui`: serves with the page and opens it on a desktop unless `--no-open`.
pub(crate) async fn devui(mut args: DevuiArgs) -> Result<(), CliError> {
    args.serve.ui = true;
    let open = !args.no_open && on_desktop();
    run_with(args.serve, open).await
}

/// Whether a graphical session is there to open a browser in.
fn on_desktop() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// Opens `url` with `xdg-open` and waits for it to exit (it hands the URL to the browser and
/// returns), so the child is reaped; a failure is only reported.
async fn open_browser(url: String) {
    let child = tokio::process::Command::new("xdg-open")
        .arg(&url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn();
    match child {
        Ok(mut child) => match child.wait().await {
            Ok(status) if status.success() => {}
            Ok(status) => {
                crate::logging::notice(format_args!("xdg-open {url} failed ({status}): open it by hand"))
            }
            Err(error) => crate::logging::notice(format_args!("xdg-open {url}: {error}: open it by hand")),
        },
        Err(error) => {
            crate::logging::notice(format_args!("could not run xdg-open ({error}): open {url} by hand"))
        }
    }
}

/// Where `weft serve` keeps conversations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreSpec {
    /// In memory.
    Memory,
    /// In the SQLite file at this path.
    Sqlite(PathBuf),
}

/// `memory` or `sqlite:PATH`.
fn parse_store(value: &str) -> Result<StoreSpec, String> {
    match value.split_once(':') {
        None if value == "memory" => Ok(StoreSpec::Memory),
        Some(("sqlite", path)) if !path.is_empty() => Ok(StoreSpec::Sqlite(PathBuf::from(path))),
        _ => Err("expected `memory` or `sqlite:PATH`, e.g. sqlite:weft.db".into()),
    }
}

impl StoreSpec {
    /// Opens the store.
    async fn open(&self) -> Result<Arc<dyn SessionStore>, CliError> {
        match self {
            StoreSpec::Memory => Ok(Arc::new(InMemoryStore::default())),
            StoreSpec::Sqlite(path) => {
                let store = SqliteStore::open(path).await.map_err(|error| CliError::Io {
                    context: format!("could not open the store {}", path.display()),
                    source: std::io::Error::other(error.to_string()),
                })?;
                Ok(Arc::new(store))
            }
        }
    }
}

impl ServeArgs {
    /// The model flags as `weft run` reads them.
    fn run_args(&self) -> RunArgs {
        RunArgs::serving(self.agent.clone(), None)
    }

    /// The host's limits; refuses an open address without a token (or --no-auth).
    fn config(&self) -> Result<HostConfig, CliError> {
        let token = match &self.token_file {
            Some(path) => Some(read_token_file(path)?),
            None => self.token.clone(),
        };
        if !self.host.is_loopback() && token.is_none() && !self.no_auth {
            return Err(CliError::Usage(format!(
                "serving on {} (not a loopback address) needs --token-file FILE, --token TOKEN (or WEFT_TOKEN), or --no-auth to \
                 accept anyone",
                self.host
            )));
        }
        if token.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(CliError::Usage("the token is empty".into()));
        }
        if let Some(origin) = self.cors.iter().find(|o| !valid_origin(o)) {
            return Err(CliError::Usage(format!(
                "--cors {origin}: an origin is a scheme and a host, e.g. http://localhost:3000"
            )));
        }
        Ok(HostConfig {
            token,
            body_limit: self.body_limit,
            run_timeout: Duration::from_secs(self.run_timeout),
            max_concurrent_runs: self.max_runs as usize,
            cors_origins: self.cors.clone(),
            grace: Duration::from_secs(self.grace),
            ..HostConfig::default()
        })
    }
}

/// The token of `--token-file`: the file's content, trimmed; an unreadable or empty file (or
/// one over 64 KiB: not a token) is an error naming it, never showing its content.
fn read_token_file(path: &std::path::Path) -> Result<String, CliError> {
    use std::io::Read;
    const LIMIT: u64 = 64 * 1024;
    let mut text = String::new();
    std::fs::File::open(path).and_then(|file| file.take(LIMIT + 1).read_to_string(&mut text)).map_err(
        |source| CliError::Io {
            context: format!("could not read the token file {}", path.display()),
            source,
        },
    )?;
    let token = text.trim();
    if token.is_empty() || text.len() as u64 > LIMIT {
        let what = if token.is_empty() { "is empty" } else { "is over 64 KiB: not a token" };
        return Err(CliError::Usage(format!("the token file {} {what}", path.display())));
    }
    Ok(token.to_string())
}

/// Whether `origin` is an origin as browsers send it: `http(s)://host[:port]`, no path.
fn valid_origin(origin: &str) -> bool {
    let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    rest.is_some_and(|host| !host.is_empty() && !host.contains('/'))
        && http::HeaderValue::from_str(origin).is_ok()
}

/// Serves until SIGTERM or Ctrl-C; the MCP servers of `--mcp` are closed at the end.
pub(crate) async fn run(args: ServeArgs) -> Result<(), CliError> {
    run_with(args, false).await
}

/// Serves; `open` opens the page in the browser once the server listens.
async fn run_with(args: ServeArgs, open: bool) -> Result<(), CliError> {
    let config = args.config()?;
    let run_args = args.run_args();
    let store = args.store.open().await?;
    let mut sources = Vec::new();
    let mut workflows = Vec::new();
    let result = match agents(&args, &run_args, &store, &mut sources, &mut workflows).await {
        Ok(agents) => serve(&args, config, store, agents, workflows, open).await,
        Err(error) => Err(error),
    };
    run::close_all(&sources, result).await
}

/// The agents to serve, by model name: each file's, or the demo agent as `weft`. The MCP servers
/// they use are connected into `sources` (the caller closes them); what the host says of the
/// workflows among them (graph, checkpoints) goes into `workflows`; their checkpoints are kept
/// in `store` unless their file names a store.
async fn agents(
    args: &ServeArgs,
    run_args: &RunArgs,
    store: &Arc<dyn SessionStore>,
    sources: &mut Vec<weft_mcp::McpSource>,
    workflows: &mut Vec<(String, crate::workflow_host::WorkflowEntity)>,
) -> Result<Vec<(String, Arc<dyn weft::Agent>)>, CliError> {
    if let Some(ingress) = &args.restate_ingress {
        if !run_args.agent.mcp.is_empty() {
            return Err(CliError::Usage(
                "--mcp gives a local agent tools; with --restate-ingress the workers' agent has its own"
                    .into(),
            ));
        }
        let agent = weft::restate::IngressAgent::with_timeout(
            AGENT_NAME,
            ingress,
            Duration::from_secs(args.run_timeout),
        )
        .map_err(|error| CliError::Usage(error.to_string()))?
        .with_description(format!("the durable agent of the Weft workers behind Restate at {ingress}"));
        crate::logging::notice(format_args!(
            "using the durable agent ({}) of the workers behind Restate's ingress at {ingress}",
            weft::restate::OBJECT_NAME
        ));
        return Ok(vec![(AGENT_NAME.to_string(), Arc::new(agent))]);
    }
    run::connect_servers(run_args, None, sources).await?;
    if args.files.is_empty() {
        let provider = provider::select(run_args)?;
        crate::logging::notice(format_args!("using {}", provider.description));
        let mode = if args.approve { weft::ApprovalMode::Always } else { weft::ApprovalMode::Never };
        let agent = run::build_agent(run_args, provider, sources, mode);
        return Ok(vec![(AGENT_NAME.to_string(), Arc::new(agent))]);
    }
    let mut agents: Vec<(String, Arc<dyn weft::Agent>)> = Vec::new();
    for file in &args.files {
        let (agent, description): (Arc<dyn weft::Agent>, String) =
            if weft::declarative::file_kind(file) == weft::declarative::FileKind::Workflow {
                let (agent, description, entity) =
                    crate::workflow_run::agent(file, run_args, sources, store.clone()).await?;
                workflows.push((agent.name().to_string(), entity));
                (agent, description)
            } else {
                let file_args = RunArgs { file: Some(file.clone()), ..args.run_args() };
                let (agent, description) = run::make_agent(&file_args, None, None, sources).await?;
                (Arc::new(agent), description)
            };
        let name = agent.name().to_string();
        if agents.iter().any(|(served, _)| *served == name) {
            return Err(CliError::Usage(format!(
                "{}: another file already serves an agent named '{name}'",
                file.display()
            )));
        }
        crate::logging::notice(format_args!("{name} ({}): using {description}", file.display()));
        agents.push((name, agent));
    }
    Ok(agents)
}

async fn serve(
    args: &ServeArgs,
    config: HostConfig,
    store: Arc<dyn SessionStore>,
    agents: Vec<(String, Arc<dyn weft::Agent>)>,
    workflows: Vec<(String, crate::workflow_host::WorkflowEntity)>,
    open: bool,
) -> Result<(), CliError> {
    let address = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| CliError::Io { context: format!("could not listen on {address}"), source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| CliError::Io { context: "could not read the listening address".into(), source })?;
    // The URL goes to stdout (a script can read it); everything else is on stderr.
    println!("http://{bound}/v1");
    let names: Vec<String> = agents.iter().map(|(name, _)| name.clone()).collect();
    crate::logging::notice(format_args!(
        "serving {} on http://{bound}/v1 (Responses, Chat Completions) and /ag-ui/NAME (AG-UI); Ctrl-C stops",
        names.join(", ")
    ));
    let a2a_config = A2aConfig {
        body_limit: config.body_limit,
        run_timeout: config.run_timeout,
        keep_alive: config.keep_alive,
        max_concurrent_runs: config.max_concurrent_runs,
        ..A2aConfig::default()
    };
    // A2A tasks live in the same store as the conversations (with sqlite:PATH, they survive a
    // restart: a task waiting for approval can be answered by the next server).
    let mut a2a = A2aServer::new().config(a2a_config).store(store.clone());
    let mcp_agents: Vec<Arc<dyn weft::Agent>> = agents.iter().map(|(_, agent)| agent.clone()).collect();
    let mut host = Host::new().config(config).store(store);
    for (name, agent) in agents {
        a2a = a2a.agent(name.clone(), agent.clone());
        host = host.agent(name, agent);
    }
    for (name, workflow) in workflows {
        host = host.entity_info(name.clone(), workflow.info);
        if let Some(checkpoints) = workflow.checkpoints {
            host = host.checkpoints(name, checkpoints);
        }
    }
    if !args.no_a2a {
        crate::logging::notice(format_args!(
            "A2A: {}",
            names.iter().map(|name| format!("http://{bound}/a2a/{name}")).collect::<Vec<_>>().join(", ")
        ));
        host = host.routes(a2a.router());
    }
    let mcp_stop = tokio_util::sync::CancellationToken::new();
    if args.mcp_server {
        host = host.routes(crate::mcp_serve::routes(
            mcp_agents,
            bound,
            &args.cors,
            args.body_limit,
            mcp_stop.clone(),
        ));
    }
    let page = format!("http://{bound}/");
    if args.ui {
        host = host.public_routes(weft_devui::router());
        if let Some(traces) = &args.traces {
            host = host.traces(Arc::new(traces.clone()));
        }
        crate::logging::notice(format_args!("DevUI: {page}"));
    }
    let grace = Duration::from_secs(args.grace);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = host.serve(listener, async move {
        let _ = stopped.await;
    });
    let a2a_server = &a2a;
    // The signal handlers are installed here, before any request is served.
    let signal = shutdown_signal();
    let signalled = std::sync::OnceLock::new();
    let signalled_at = &signalled;
    // A2A tasks get the same grace as the host's runs; then they are cancelled (recorded as
    // failed), which also ends their streams so the host's connections can close.
    let a2a_stop = async move {
        signal.await;
        let _ = signalled_at.set(tokio::time::Instant::now());
        let _ = stop.send(());
        mcp_stop.cancel();
        a2a_server.shutdown_after(grace).await;
        std::future::pending::<()>().await;
    };
    let running = async move {
        tokio::select! {
            served = serving => served,
            () = a2a_stop => Ok(()),
        }
    };
    let opened = async {
        if open {
            open_browser(page).await;
        }
    };
    // The opener is polled beside the server; if the server ends first, dropping it kills xdg-open.
    tokio::pin!(running);
    let served = tokio::select! {
        served = &mut running => served,
        () = opened => running.await,
    };
    // The host may have drained before the grace period ended: A2A's background tasks get
    // the rest of it (none when the server stopped without a signal).
    let remaining = signalled.get().map_or(Duration::ZERO, |at| grace.saturating_sub(at.elapsed()));
    a2a.shutdown_after(remaining).await;
    served.map_err(|weft::host::HostError::Io(source)| CliError::Io {
        context: "the server failed".into(),
        source,
    })
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled: the server may answer requests (on other worker threads) before the
/// shutdown future is polled, and a SIGTERM arriving then must still stop it gracefully.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let handlers =
            signal(SignalKind::terminate()).and_then(|t| Ok((t, signal(SignalKind::interrupt())?)));
        async move {
            match handlers {
                Ok((mut term, mut interrupt)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
